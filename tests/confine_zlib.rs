//! zlib's host half is confined like native code: what the host holds for
//! the guest's zlib (output being built, libz's state for every live
//! stream, kept copies) counts against `limits.linear_memory`. A
//! decompression bomb or a hoard of stream objects ends in a `MemoryError`
//! the program catches and survives, and the host's peak RSS (measured by
//! the kernel for the wasmffi process) stays within an idle run's, plus the
//! limit, plus a small constant. Before this, a 1 GiB bomb under `--max-memory 256MiB` took the
//! host to 1 GiB of RSS and ended the run with exit 125.

mod common;

use common::{py_script, run, Run};

const MIB: u64 = 1 << 20;

/// What a run may hold above an idle run of the same build (`-c "import
/// zlib"`: the runtime, the mapped guest code, and under qemu-user the
/// emulator's own ~70 MiB) besides what the limit covers: allocator slack,
/// the guest's heap growing, code pages first touched. The streams program
/// peaks about 95 MiB above idle here, 31 MiB over its 64 MiB limit; 64 MiB
/// leaves room for a busy machine yet is far below the 1 GiB the bomb
/// reached before.
const SLACK: u64 = 64 * MIB;

/// A run measured, and the idle run of the same build it is compared with.
struct Measured {
    run: Run,
    idle_rss: u64,
}

#[track_caller]
fn assert_peak_within(m: &Measured, limit: u64) {
    assert!(
        m.run.peak_rss <= m.idle_rss + limit + SLACK,
        "the host's peak RSS {} MiB passed an idle run's {} MiB + the limit {} MiB + {} MiB\n{}",
        m.run.peak_rss / MIB,
        m.idle_rss / MIB,
        limit / MIB,
        SLACK / MIB,
        m.run.describe()
    );
}

/// Runs `wasmffi args` (reaped with `wait4`, which reports the child's
/// peak RSS) after a warm-up run (the first run on a machine compiles the
/// guest, a big one-off RSS) and an idle run to compare with.
fn run_measured(args: &[String]) -> Measured {
    let warm = run(["run", "-c", "pass"]);
    assert!(warm.status.success(), "warm-up run\n{}", warm.describe());
    let idle = run(["run", "-c", "import zlib"]);
    assert!(idle.status.success(), "idle run\n{}", idle.describe());
    Measured {
        run: run(args),
        idle_rss: idle.peak_rss,
    }
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
    m.run.assert_ok("confine_zlib_bomb");
    assert!(m.run.stdout.contains("caught 9"), "{}", m.run.describe());
    assert!(
        m.run.stdout.contains("limits.linear_memory"),
        "the MemoryError names the limit\n{}",
        m.run.describe()
    );
    assert_peak_within(&m, limit);
}

/// Live objects hold host memory too: compressors (~270 KiB of libz state
/// each, more with memLevel 9), their copies, started decompressors, a kept
/// zdict, a kept unconsumed_tail. Making them until MemoryError stops at
/// the limit, dropping them gives all of it back (the limit is reached at
/// the same count twice), and the host's peak RSS stays within an idle
/// run's plus 64 MiB plus the slack. Before, none of these stopped (4000 compressors: 1 GiB).
#[test]
fn live_streams_are_bounded() {
    let limit = 64 * MIB;
    let m = run_measured(&script("confine_zlib_streams", &["--max-memory", "64MiB"]));
    m.run.assert_ok("confine_zlib_streams");
    assert_peak_within(&m, limit);
}
