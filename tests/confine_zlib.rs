//! zlib's host half is confined like native code: what the host holds for
//! the guest's zlib (output being built, libz's state for every live
//! stream, kept copies) counts against `limits.linear_memory`. A
//! decompression bomb or a hoard of stream objects ends in a `MemoryError`
//! the program catches and survives, and the host's peak RSS (measured by
//! the kernel for the wasmffi process) stays within the limit plus a small
//! constant. Before this, a 1 GiB bomb under `--max-memory 256MiB` took the
//! host to 1 GiB of RSS and ended the run with exit 125.

mod common;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{py_script, repo_root, run, timeout, BIN};

const MIB: u64 = 1 << 20;

/// What the process costs besides what the limit covers: the runtime, the
/// mapped guest code, the guest's own small heap, allocator slack. A run of
/// `-c "import zlib"` peaks at about 48 MiB here; 128 MiB leaves room for
/// a busy machine yet is far below the 1 GiB the bomb reached before.
const SLACK: u64 = 128 * MIB;

struct Measured {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    /// The child's peak resident set (the kernel's hiwater RSS, VmHWM).
    peak_rss: u64,
    args: Vec<String>,
}

impl Measured {
    fn describe(&self) -> String {
        format!(
            "command: {BIN} {}\nstatus: {}\npeak RSS: {} MiB\n----- stdout -----\n{}\n----- stderr -----\n{}",
            self.args.join(" "),
            self.status,
            self.peak_rss / MIB,
            self.stdout,
            self.stderr
        )
    }

    #[track_caller]
    fn assert_ok(&self, name: &str) {
        assert!(
            self.status.success(),
            "expected exit 0\n{}",
            self.describe()
        );
        let want = format!("OK {name}");
        assert!(
            self.stdout.lines().any(|l| l.trim_end() == want),
            "stdout has no line {want:?}\n{}",
            self.describe()
        );
    }

    #[track_caller]
    fn assert_peak_within(&self, limit: u64) {
        assert!(
            self.peak_rss <= limit + SLACK,
            "the host's peak RSS {} MiB passed the limit {} MiB + {} MiB\n{}",
            self.peak_rss / MIB,
            limit / MIB,
            SLACK / MIB,
            self.describe()
        );
    }
}

/// Runs `wasmffi args` and reaps it with `wait4`, which reports the
/// child's peak RSS (`ru_maxrss`, the VmHWM of /proc/PID/status).
fn run_measured(args: &[String]) -> Measured {
    // The first run on a machine compiles the guest (a big, one-off RSS):
    // have that done before measuring.
    let warm = run(["run", "-c", "pass"]);
    assert!(warm.status.success(), "warm-up run\n{}", warm.describe());

    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {BIN}: {e}"));
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break (ExitStatus::from_raw(status), usage);
        }
        if start.elapsed() > timeout() {
            let _ = child.kill();
            panic!("{BIN} {} timed out", args.join(" "));
        }
        thread::sleep(Duration::from_millis(20));
    };
    Measured {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        peak_rss: usage.ru_maxrss as u64 * 1024,
        args: args.to_vec(),
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
    m.assert_ok("confine_zlib_bomb");
    assert!(m.stdout.contains("caught 9"), "{}", m.describe());
    assert!(
        m.stdout.contains("limits.linear_memory"),
        "the MemoryError names the limit\n{}",
        m.describe()
    );
    m.assert_peak_within(limit);
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
    m.assert_peak_within(limit);
}
