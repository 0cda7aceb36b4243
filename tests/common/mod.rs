//! Helpers shared by the integration tests: spawn the `wasmffi` CLI, feed stdin,
//! collect its output with a time limit, and report everything on failure.
#![allow(dead_code)]

pub mod suite;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The CLI binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_wasmffi");

/// The C test library (built by tests/clib).
pub const TESTLIB: &str = wasmffi_testlib::PATH;

/// A library name that does not exist anywhere; bad_input.py expects it on the allowlist.
pub const MISSING_LIB: &str = "libwasmffi_missing.so.1";

/// Host libraries the tests allow (glibc sonames; what `_rawffi.platform` reports on Linux).
pub const LIBC: &str = "libc.so.6";
pub const LIBM: &str = "libm.so.6";

/// Debian's multiarch tuple of the architecture the tests were built for:
/// the directory of its libraries (`/usr/lib/<tuple>`) and the suffix of
/// CPython's extension modules (`_ctypes_test.cpython-311-<tuple>.so`).
pub const MULTIARCH: &str = if cfg!(target_arch = "x86_64") {
    "x86_64-linux-gnu"
} else if cfg!(target_arch = "aarch64") {
    "aarch64-linux-gnu"
} else if cfg!(target_arch = "s390x") {
    "s390x-linux-gnu"
} else if cfg!(target_arch = "x86") {
    "i386-linux-gnu"
} else if cfg!(target_arch = "arm") {
    "arm-linux-gnueabihf"
} else {
    panic!("no Debian multiarch tuple known for this architecture")
};

/// The C compiler for the machine the tests run on, as the host's probe picks
/// it: `$CC`, else `cc`. Under qemu-user the build machine's `cc` would give
/// its own architecture's layouts; scripts/test_cross.sh sets `CC`.
pub fn c_compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

/// The emulator the tests run under (`WASMFFI_TEST_EMULATOR`, set by
/// scripts/test_cross.sh to e.g. `qemu-aarch64`), if any.
pub fn emulator() -> Option<String> {
    std::env::var("WASMFFI_TEST_EMULATOR")
        .ok()
        .filter(|e| !e.is_empty())
}

/// Whether the tests run under an emulator; if so, says on stderr what is not
/// asserted there and why (`--no-capture` shows it, and so does a failure).
pub fn emulated_skip(what: &str, why: &str) -> bool {
    match emulator() {
        Some(emulator) => {
            eprintln!("SKIPPED under {emulator}: {what}: {why}");
            true
        }
        None => false,
    }
}

/// The repository root (host/..).
pub fn repo_root() -> PathBuf {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = host.parent().expect("host/ has a parent");
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// A test program under tests/py/.
pub fn py_script(name: &str) -> PathBuf {
    let p = repo_root().join("tests").join("py").join(name);
    assert!(p.is_file(), "missing test program {}", p.display());
    p
}

/// How long one CLI run may take before it is killed (the first run may have to
/// compile the guest component). Override with WASMFFI_TEST_TIMEOUT (seconds).
pub fn timeout() -> Duration {
    let secs = std::env::var("WASMFFI_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// The result of one CLI run.
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    /// The process's peak resident set in bytes (the kernel's `ru_maxrss`,
    /// the VmHWM of /proc/PID/status).
    pub peak_rss: u64,
    /// CPU time the process used (user + system).
    pub cpu: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {} {}\nstatus: {}{}, peak RSS {} MiB\n----- stdout -----\n{}\n----- stderr -----\n{}\n------------------",
            BIN,
            self.args.join(" "),
            self.status,
            if self.timed_out { " (killed: timed out)" } else { "" },
            self.peak_rss >> 20,
            self.stdout,
            self.stderr
        )
    }

    /// Exit status 0 and a line `OK <name>` on stdout.
    #[track_caller]
    pub fn assert_ok(&self, name: &str) {
        assert!(!self.timed_out, "timed out\n{}", self.describe());
        assert!(
            self.status.success(),
            "expected exit status 0\n{}",
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
    pub fn assert_code(&self, code: i32) {
        assert!(!self.timed_out, "timed out\n{}", self.describe());
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit status\n{}",
            self.describe()
        );
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// Reaps the child with `wait4`, which also reports its peak RSS and CPU
/// time; kills it past `limit`. Returns the status, whether it timed out,
/// and its resource usage.
pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> (ExitStatus, bool, libc::rusage) {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut timed_out = false;
    loop {
        let mut status = 0;
        // SAFETY: plain out-parameters for the kernel.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if timed_out { 0 } else { libc::WNOHANG };
        let got = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        assert!(got >= 0, "wait4: {}", std::io::Error::last_os_error());
        if got == pid {
            return (ExitStatus::from_raw(status), timed_out, usage);
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            timed_out = true;
        } else {
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `wasmffi <args>` with `stdin` (None: no stdin) and waits for it, at most `timeout()`.
pub fn run_with_stdin<I, S>(args: I, stdin: Option<&[u8]>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_within(args, stdin, timeout())
}

/// Runs `wasmffi <args>` with `stdin` and waits for it at most `limit`
/// (then kills it: `timed_out`).
pub fn run_within<I, S>(args: I, stdin: Option<&[u8]>, limit: Duration) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut cmd = Command::new(BIN);
    cmd.args(&args)
        .current_dir(repo_root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {BIN}: {e}"));
    let feeder = stdin.map(|data| {
        let data = data.to_vec();
        let mut pipe = child.stdin.take().expect("stdin pipe");
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
            // dropping the pipe closes it: the guest sees EOF
        })
    });
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let (status, timed_out, usage) = wait_with_timeout(&mut child, limit);
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Run {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        status,
        stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
        timed_out,
        peak_rss: peak_rss(&usage),
        cpu: cpu_time(&usage),
    }
}

/// Peak resident set in bytes, from `wait4`'s usage.
pub fn peak_rss(usage: &libc::rusage) -> u64 {
    usage.ru_maxrss as u64 * 1024
}

/// User + system CPU time, from `wait4`'s usage.
pub fn cpu_time(usage: &libc::rusage) -> Duration {
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Runs `wasmffi <args>` without stdin.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with_stdin(args, None)
}

/// The arguments that allow libc, libm and the test library and tell the guest where
/// the test library is, followed by `extra`.
pub fn rawffi_args(extra: &[&str]) -> Vec<String> {
    assert!(
        Path::new(TESTLIB).is_file(),
        "test library not built: {TESTLIB}"
    );
    let mut args: Vec<String> = vec!["run".into()];
    for lib in [LIBC, LIBM, TESTLIB] {
        args.push("--allow-lib".into());
        args.push(lib.into());
    }
    args.push("--env".into());
    args.push(format!("WASMFFI_TESTLIB={TESTLIB}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs tests/py/<name>.py with the rawffi allowlist (plus `extra_opts` before the script)
/// and asserts it succeeded and printed `OK <name>`.
#[track_caller]
pub fn run_py_ok(name: &str, extra_opts: &[&str]) -> Run {
    let script = py_script(&format!("{name}.py"));
    let mut args = rawffi_args(extra_opts);
    args.push(script.to_string_lossy().into_owned());
    let r = run(&args);
    r.assert_ok(name);
    r
}

/// A fresh, empty directory under the system temp dir; removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("wasmffi-test-{tag}-{}-{nanos}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("creating a temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("writing a temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
