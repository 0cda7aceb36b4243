//! zlib's host half is confined like native code: what the host holds for
//! the guest's zlib (output being built, libz's state for every live
//! stream, kept copies) counts against `limits.linear_memory`. A
//! decompression bomb or a hoard of stream objects ends in a `MemoryError`
//! the program catches and survives, and the host's peak RSS (measured by
//! the kernel for the wasmffi process) stays within the limit plus a small
//! constant. Before this, a 1 GiB bomb under `--max-memory 256MiB` took the
//! host to 1 GiB of RSS and ended the run with exit 125.

mod common;

use common::{py_script, run, Run};

const MIB: u64 = 1 << 20;

/// What the process costs besides what the limit covers: the runtime, the
/// mapped guest code, the guest's own small heap, allocator slack. A run of
/// `-c "import zlib"` peaks at about 48 MiB here; 128 MiB leaves room for
/// a busy machine yet is far below the 1 GiB the bomb reached before.
const SLACK: u64 = 128 * MIB;

#[track_caller]
fn assert_peak_within(r: &Run, limit: u64) {
    assert!(
        r.peak_rss <= limit + SLACK,
        "the host's peak RSS {} MiB passed the limit {} MiB + {} MiB\n{}",
        r.peak_rss / MIB,
        limit / MIB,
        SLACK / MIB,
        r.describe()
    );
}

/// Runs `wasmffi args` (reaped with `wait4`, which reports the child's
/// peak RSS) after a warm-up run: the first run on a machine compiles the
/// guest, a big one-off RSS.
fn run_measured(args: &[String]) -> Run {
    let warm = run(["run", "-c", "pass"]);
    assert!(warm.status.success(), "warm-up run\n{}", warm.describe());
    run(args)
}

fn script(name: &str, opts: &[&str]) -> Vec<String> {
    let mut v = vec!["run".to_string()];
    v.extend(opts.iter().map(|s| s.to_string()));
    v.push(
        py_script(&format!("{name}.py"))
            .to_string_lossy()
            .into_owned(),
    );
    v
}

/// 1 GiB and 8 GiB bombs through `decompress` (also with a hostile
/// `bufsize` and header auto-detection), `decompressobj().decompress` with
/// and without `max_length`, `flush()` of a stream and of its `copy()`,
/// and `gzip.decompress`: each is a MemoryError naming the limit, caught
/// by the program, which then streams the 1 GiB bomb out with
/// `max_length` and round-trips 16 MiB of random data. The host's peak RSS
/// stays within 256 MiB plus the slack.
#[test]
fn bombs_are_memory_errors_and_host_rss_stays_bounded() {
    let limit = 256 * MIB;
    let m = run_measured(&script("confine_zlib_bomb", &["--max-memory", "256MiB"]));
    m.assert_ok("confine_zlib_bomb");
    assert!(m.stdout.contains("caught 9"), "{}", m.describe());
    assert!(
        m.stdout.contains("limits.linear_memory"),
        "the MemoryError names the limit\n{}",
        m.describe()
    );
    assert_peak_within(&m, limit);
}

/// Live objects hold host memory too: compressors (~270 KiB of libz state
/// each, more with memLevel 9), their copies, started decompressors, a kept
/// zdict, a kept unconsumed_tail. Making them until MemoryError stops at
/// the limit, dropping them gives all of it back (the limit is reached at
/// the same count twice), and the host's peak RSS stays within 64 MiB plus
/// the slack. Before, none of these stopped (4000 compressors: 1 GiB).
#[test]
fn live_streams_are_bounded() {
    let limit = 64 * MIB;
    let m = run_measured(&script("confine_zlib_streams", &["--max-memory", "64MiB"]));
    m.assert_ok("confine_zlib_streams");
    assert_peak_within(&m, limit);
}
