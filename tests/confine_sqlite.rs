//! The `sqlite3` mixed module is confined like native code (issue 10, item 2):
//! attacks a guest can make through SQL alone, against the host's real
//! libsqlite3 (Debian's, built with ENABLE_FTS3_TOKENIZER). Each program in
//! tests/py/confine_sqlite_*.py prints `OK <name>` when every attack failed
//! the way it should; the host side checks what the guest cannot see (open
//! files of the process, its RSS, how and when it ended).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{py_script, run, Run, TempDir, BIN};

fn dir_arg(dir: &Path, guest: &str) -> String {
    format!("{}::{guest}", dir.display())
}

fn script_args(name: &str, opts: &[&str], args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["run".into()];
    v.extend(opts.iter().map(|s| s.to_string()));
    v.push(py_script(&format!("{name}.py")).display().to_string());
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// A run the test talks to: the guest prints a line, waits for one on stdin,
/// and meanwhile the test looks at the process from outside.
struct Session {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
    args: Vec<String>,
}

impl Session {
    fn start(args: Vec<String>, env: &[(&str, &Path)]) -> Session {
        let mut cmd = Command::new(BIN);
        cmd.args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning wasmffi");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut err, &mut s);
            s
        });
        Session {
            child,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
            args,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for the line `want` (at most `common::timeout()`).
    fn expect(&mut self, want: &str) {
        let until = Instant::now() + common::timeout();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.trim_end() == want;
                    self.stdout.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let run = self.finish();
                    panic!("no line {want:?} from the guest\n{}", run.describe());
                }
            }
        }
    }

    fn proceed(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    fn finish(&mut self) -> Run {
        self.finish_within(common::timeout())
    }

    /// Close stdin and reap the guest, killing it past `limit`.
    fn finish_within(&mut self, limit: Duration) -> Run {
        drop(self.child.stdin.take());
        let (status, timed_out, usage) = common::wait_with_timeout(&mut self.child, limit);
        self.stdout.extend(self.lines.iter());
        Run {
            args: self.args.clone(),
            status,
            stdout: self.stdout.join("\n"),
            stderr: self
                .stderr
                .take()
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default(),
            timed_out,
            peak_rss: common::peak_rss(&usage),
            cpu: common::cpu_time(&usage),
        }
    }
}

/// The targets of the process's open file descriptors.
fn open_files(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|p| p.display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM").
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib << 10
}

// -------------------------------------------------------------- pointers

/// fts3_tokenizer() in all its forms (returning a host address, taking one
/// as a literal, as a bound parameter, from a view or a trigger),
/// load_extension(), and the pragmas that would undo the confinement or
/// change the whole process. On Debian's libsqlite3 the bound form registers
/// a guest-chosen function table and the host calls through it (SIGSEGV).
#[test]
fn sqlite_exchanges_no_pointers() {
    let tmp = TempDir::new("confine-sqlite-ptr");
    let dir = dir_arg(tmp.path(), "/data");
    run(script_args(
        "confine_sqlite_pointers",
        &["--dir", &dir],
        &[],
    ))
    .assert_ok("confine_sqlite_pointers");
}

// --------------------------------------------------------- temporary files

/// Sorts that spill, temp tables and a temporary database (`ATTACH ''`),
/// all held open while the test looks at the process: none of their files
/// is in sqlite's temporary directory (here $SQLITE_TMPDIR, by default
/// /var/tmp), none is on disk at all outside the preopen.
#[test]
fn sqlite_temporary_files_stay_in_memory() {
    let tmp = TempDir::new("confine-sqlite-tmp");
    let data = tmp.path().join("data");
    let sqlite_tmp = tmp.path().join("sqlite-tmp");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&sqlite_tmp).unwrap();
    let dir = dir_arg(&data, "/data");
    let mut s = Session::start(
        script_args("confine_sqlite_tempfiles", &["--dir", &dir], &[]),
        &[("SQLITE_TMPDIR", &sqlite_tmp), ("TMPDIR", &sqlite_tmp)],
    );
    s.expect("READY");
    let files = open_files(s.pid());
    let tmp_prefix = sqlite_tmp.canonicalize().unwrap().display().to_string();
    let leaked: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with(&tmp_prefix) || f.ends_with("(deleted)"))
        .collect();
    s.proceed();
    let run = s.finish();
    assert!(
        leaked.is_empty(),
        "sqlite's temporary files are host files: {leaked:?}\n{}",
        run.describe()
    );
    run.assert_ok("confine_sqlite_tempfiles");
    assert_eq!(
        std::fs::read_dir(&sqlite_tmp).unwrap().count(),
        0,
        "files left in sqlite's temporary directory"
    );
}

// ------------------------------------------------------------------ memory

/// An in-memory database under --max-sqlite-memory 32MiB: MemoryError near
/// 32 MiB, and the host's RSS grows by about that, not by what the guest
/// asked for (200 MiB).
#[test]
fn sqlite_memory_is_bounded_by_the_policy() {
    let mut s = Session::start(
        script_args(
            "confine_sqlite_memory",
            &["--max-sqlite-memory", "32MiB"],
            &["heap", "200", "32", "pause"],
        ),
        &[],
    );
    s.expect("BASE");
    let base = status_bytes(s.pid(), "VmRSS");
    s.proceed();
    s.expect("FULL");
    let peak = status_bytes(s.pid(), "VmHWM");
    s.proceed();
    let run = s.finish();
    run.assert_ok("confine_sqlite_memory heap");
    let grew = peak.saturating_sub(base);
    assert!(
        grew < (32 + 48) << 20,
        "host RSS grew by {} MiB under a 32 MiB sqlite limit\n{}",
        grew >> 20,
        run.describe()
    );
}

/// Without a flag the default limit (256 MiB) holds.
#[test]
fn sqlite_memory_has_a_default_limit() {
    run(script_args(
        "confine_sqlite_memory",
        &[],
        &["heap", "400", "256"],
    ))
    .assert_ok("confine_sqlite_memory heap");
}

/// Temporary files are memory too: a temp table that spills under a
/// 16 MiB limit fails instead of filling the host's disk.
#[test]
fn sqlite_temporary_files_count_against_the_limit() {
    run(script_args(
        "confine_sqlite_memory",
        &["--max-sqlite-memory", "16MiB"],
        &["temp", "64", "16"],
    ))
    .assert_ok("confine_sqlite_memory temp");
}

/// `--max-sqlite-memory` and `sqlite_memory` in a policy file.
#[test]
fn sqlite_memory_limit_in_policy_and_flags() {
    let tmp = TempDir::new("confine-sqlite-policy");
    let policy = tmp.write("p.toml", "[limits]\nsqlite_memory = \"48MiB\"\n");
    let shown = run(["policy", "show", "--policy", &policy.display().to_string()]);
    shown.assert_code(0);
    shown.assert_stdout_contains("sqlite_memory = \"48MiB\"");
    let shown = run(["policy", "show", "--max-sqlite-memory", "20MiB"]);
    shown.assert_code(0);
    shown.assert_stdout_contains("sqlite_memory = \"20MiB\"");
    let bad = tmp.write("bad.toml", "[limits]\nsqlite_memory = \"lots\"\n");
    let r = run(["policy", "check", &bad.display().to_string()]);
    assert_eq!(r.code(), Some(2), "{}", r.describe());
}

// ---------------------------------------------------------------- deadline

/// Warm the compiled-guest cache for runs with a deadline, so that timings
/// below measure the run and not a first compilation.
fn warm_deadline_cache() {
    run(["run", "--cpu-time", "600s", "-c", "pass"]).assert_code(0);
}

/// Run, killing the run after 30 s; how long it took.
fn timed(args: Vec<String>) -> (Run, Duration) {
    let started = Instant::now();
    let mut s = Session::start(args, &[]);
    let r = s.finish_within(Duration::from_secs(30));
    (r, started.elapsed())
}

/// A query that never ends (a recursive CTE) under --cpu-time 4s (start-up
/// under load took over 1 s): the
/// statement is interrupted at the deadline and the run ends with the
/// deadline's own status and message: the guest met it back in wasm (the
/// epoch's "was stopped"), not stuck in sqlite until a watchdog ended the
/// process ("inside native code ... the process was ended").
#[test]
fn sqlite_runaway_query_meets_the_deadline() {
    warm_deadline_cache();
    let (r, took) = timed(script_args(
        "confine_sqlite_deadline",
        &["--cpu-time", "4s"],
        &["query"],
    ));
    r.assert_code(124);
    r.assert_stderr_contains("ran past its time limit of 4.000s (limits.cpu_time) and was stopped");
    assert!(
        took < Duration::from_secs(9),
        "took {took:?}\n{}",
        r.describe()
    );
}

/// Waiting on a locked database with a long `timeout` stops at the deadline
/// too, and `PRAGMA busy_timeout` cannot put sqlite's own wait back.
#[test]
fn sqlite_busy_wait_meets_the_deadline() {
    warm_deadline_cache();
    let tmp = TempDir::new("confine-sqlite-busy");
    let dir = dir_arg(tmp.path(), "/data");
    let (r, took) = timed(script_args(
        "confine_sqlite_deadline",
        &["--cpu-time", "4s", "--dir", &dir],
        &["busy"],
    ));
    r.assert_code(124);
    r.assert_stdout_contains("PRAGMA REFUSED");
    r.assert_stderr_contains("ran past its time limit of 4.000s (limits.cpu_time)");
    if !common::emulated_skip(
        "that the guest met the deadline back in wasm (\"was stopped\")",
        "after the refused wait the guest must raise and unwind to an epoch check within the \
         watchdog's 0.5 s grace; at emulated speed it may not, and the watchdog ends the run \
         (same status, its own message)",
    ) {
        r.assert_stderr_contains(
            "ran past its time limit of 4.000s (limits.cpu_time) and was stopped",
        );
    }
    assert!(
        took < Duration::from_secs(9),
        "took {took:?}\n{}",
        r.describe()
    );
}

// ------------------------------------------------------------------- paths

/// sqlite sees guest paths only: `PRAGMA database_list`, ATTACH, and the
/// error of a journal that is a symlink out of the preopen name the guest
/// path; the host path of the preopen appears nowhere in what the guest got.
#[test]
fn sqlite_errors_name_guest_paths_only() {
    let tmp = TempDir::new("confine-sqlite-paths");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", data.join("j.db-journal")).unwrap();
    let dir = dir_arg(&data, "/data");
    let r = run(script_args("confine_sqlite_paths", &["--dir", &dir], &[]));
    r.assert_ok("confine_sqlite_paths");
    let host = data.canonicalize().unwrap().display().to_string();
    assert!(
        !r.stdout.contains(&host) && !r.stderr.contains(&host),
        "the guest saw the host path {host}\n{}",
        r.describe()
    );
    assert!(
        !r.stdout.contains(&tmp.path().display().to_string()),
        "{}",
        r.describe()
    );
}

/// A read-only preopen stays unwritten: a WAL database there (its `-wal`
/// present, its `-shm` not) made the default VFS create `-shm` next to it.
/// Now the guest reads it or gets an error, and no file appears.
#[test]
fn sqlite_readonly_preopen_gets_no_shm_file() {
    let tmp = TempDir::new("confine-sqlite-shm");
    let status = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, shutil, sys\n\
             d = sys.argv[1]\n\
             c = sqlite3.connect(d + '/src.db')\n\
             c.execute('pragma journal_mode=wal'); c.execute('pragma wal_autocheckpoint=0')\n\
             c.execute('create table t(x)'); c.execute('insert into t values (42)'); c.commit()\n\
             shutil.copy(d + '/src.db', d + '/w.db'); shutil.copy(d + '/src.db-wal', d + '/w.db-wal')\n",
        )
        .arg(tmp.path())
        .status()
        .expect("python3");
    assert!(status.success());
    assert!(!tmp.path().join("w.db-shm").exists());
    // The script's own directory is preopened read-only.
    let script = tmp.write(
        "ro.py",
        "import sqlite3, os\n\
         c = sqlite3.connect(os.path.join(os.path.dirname(__file__), 'w.db'))\n\
         try:\n    assert c.execute('select x from t').fetchall() == [(42,)]\n\
         except sqlite3.OperationalError as e:\n    print('refused', e)\n\
         print('OK ro')\n",
    );
    run(["run".to_string(), script.display().to_string()]).assert_ok("ro");
    assert!(
        !tmp.path().join("w.db-shm").exists(),
        "sqlite created a file in a read-only directory"
    );
}

// ------------------------------------------------------ Python callbacks

/// Hostile use of callbacks and blobs (tests/py/sqlite_hostile.py): SQL run
/// from a function nested past the host's limit, a statement stepped again
/// from its own callback, the connection closed / deserialized / backed up
/// from inside a callback, a guest authorizer allowing what the sandbox
/// refuses, values past the memory budget, blob handles used with offsets
/// out of range: each a clear Python exception, the host alive.
#[test]
fn sqlite_callbacks_resist_hostile_use() {
    run(script_args(
        "sqlite_hostile",
        &["--max-sqlite-memory", "32MiB"],
        &[],
    ))
    .assert_ok("sqlite_hostile");
}

/// A Python function sqlite calls that never returns, and a guest progress
/// handler that never stops a runaway query: the run still ends at its
/// deadline (the suspended sqlite work is abandoned, the process is fine).
#[test]
fn sqlite_callbacks_meet_the_deadline() {
    warm_deadline_cache();
    for mode in ["function", "progress"] {
        let (r, took) = timed(script_args(
            "sqlite_callback_deadline",
            &["--cpu-time", "4s"],
            &[mode],
        ));
        r.assert_code(124);
        r.assert_stderr_contains("ran past its time limit of 4.000s (limits.cpu_time)");
        assert!(
            took < Duration::from_secs(9),
            "{mode}: took {took:?}\n{}",
            r.describe()
        );
    }
}
