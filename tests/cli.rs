//! Integration tests of the `wasmffi run` command line: exit codes, tracebacks,
//! sys.argv, -m, --dir, --env, stdin, and the sandbox's file system boundary.

mod common;

use common::{py_script, run, run_with_stdin, TempDir};

#[test]
fn sys_exit_code_is_the_process_exit_code() {
    run(["run", "-c", "import sys; sys.exit(3)"]).assert_code(3);
    run(["run", "-c", "import sys; sys.exit(0)"]).assert_code(0);
    run(["run", "-c", "pass"]).assert_code(0);
}

#[test]
fn uncaught_exception_exits_1_with_traceback() {
    let r = run(["run", "-c", "def f():\n    return 1 / 0\nf()\n"]);
    r.assert_code(1);
    r.assert_stderr_contains("Traceback");
    r.assert_stderr_contains("ZeroDivisionError");

    let r = run(["run", "-c", "raise ValueError('wasmffi-marker-42')"]);
    r.assert_code(1);
    r.assert_stderr_contains("Traceback");
    r.assert_stderr_contains("ValueError: wasmffi-marker-42");
}

#[test]
fn script_argv() {
    let script = py_script("argv.py");
    let script_s = script.to_string_lossy().into_owned();
    let r = run(["run", script_s.as_str(), "a", "b"]);
    r.assert_ok("argv");
    r.assert_stdout_contains(r#"ARGS ["a", "b"]"#);
    let argv0 = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ARGV0 "))
        .unwrap_or_else(|| panic!("no ARGV0 line\n{}", r.describe()));
    assert!(
        argv0.ends_with("argv.py"),
        "argv[0] = {argv0:?}\n{}",
        r.describe()
    );
}

#[test]
fn script_argv_passes_options_through() {
    // everything after the script belongs to the script, even what looks like an option
    let script = py_script("argv.py");
    let script_s = script.to_string_lossy().into_owned();
    let r = run(["run", script_s.as_str(), "x y", "--flag", "-c", "--", "é"]);
    r.assert_ok("argv");
    r.assert_stdout_contains(r#"ARGS ["x y", "--flag", "-c", "--", "\u00e9"]"#);
}

#[test]
fn run_stdlib_module_with_dash_m() {
    let r = run(["run", "-m", "platform"]);
    r.assert_code(0);
    assert!(
        !r.stdout.trim().is_empty(),
        "`-m platform` printed nothing\n{}",
        r.describe()
    );
}

#[test]
fn preopened_dir_is_importable_and_readable() {
    let tmp = TempDir::new("dir");
    tmp.write(
        "hello_mod.py",
        "def greet(name):\n    return 'hello, ' + name\n",
    );
    tmp.write("data.txt", "payload-7f3a\n");
    let dir = format!("{}::/data", tmp.path().display());
    let r = run([
        "run",
        "--dir",
        dir.as_str(),
        "-c",
        "import sys\n\
         sys.path.insert(0, '/data')\n\
         import hello_mod\n\
         print(hello_mod.greet('guest'))\n\
         print(open('/data/data.txt').read().strip())\n\
         print('OK dir')\n",
    ]);
    r.assert_ok("dir");
    r.assert_stdout_contains("hello, guest");
    r.assert_stdout_contains("payload-7f3a");
}

#[test]
fn env_vars_are_passed_with_env() {
    let r = run([
        "run",
        "--env",
        "WASMFFI_K=some value=with equals",
        "--env",
        "WASMFFI_EMPTY=",
        "-c",
        "import os\n\
         assert os.environ['WASMFFI_K'] == 'some value=with equals', os.environ.get('WASMFFI_K')\n\
         assert os.environ['WASMFFI_EMPTY'] == ''\n\
         print('OK env')\n",
    ]);
    r.assert_ok("env");
}

#[test]
fn host_files_outside_preopened_dirs_are_invisible() {
    let r = run([
        "run",
        "-c",
        "for path in ['/etc/passwd', '/proc/self/environ']:\n\
         \x20   try:\n\
         \x20       open(path).read()\n\
         \x20   except OSError as e:\n\
         \x20       print('blocked', path, type(e).__name__)\n\
         \x20   else:\n\
         \x20       raise SystemExit('host file visible: ' + path)\n\
         print('OK sandbox')\n",
    ]);
    r.assert_ok("sandbox");
}

#[test]
fn stdin_is_piped_to_the_guest() {
    let r = run_with_stdin(
        ["run", "-c", "import sys; print(sys.stdin.read().upper())"],
        Some(b"hello from stdin\nsecond line\n"),
    );
    r.assert_code(0);
    r.assert_stdout_contains("HELLO FROM STDIN\nSECOND LINE");
}

#[test]
fn missing_script_fails() {
    let r = run(["run", "/nonexistent-wasmffi-dir/no_such_script.py"]);
    assert!(
        !r.timed_out && !r.status.success(),
        "expected failure\n{}",
        r.describe()
    );
    assert!(
        !r.stderr.trim().is_empty(),
        "no error message\n{}",
        r.describe()
    );
}

// ---------------------------------------------------------------------------
// Read-only directories (issue 10, item 10).

/// A guest program checking that /data is readable and every way of changing
/// it fails with PermissionError (WASI's `not-permitted`, errno EPERM).
const READ_ONLY_PROBE: &str = r#"
import os
assert open('/data/data.txt').read() == 'original\n'
assert sorted(os.listdir('/data')) == ['data.txt', 'sub'], os.listdir('/data')
assert open('/data/sub/inner.txt').read() == 'inner\n'
attempts = [
    ('overwrite', lambda: open('/data/data.txt', 'w')),
    ('append', lambda: open('/data/data.txt', 'a')),
    ('update', lambda: open('/data/data.txt', 'r+')),
    ('create', lambda: open('/data/new.txt', 'x')),
    ('create in a subdirectory', lambda: open('/data/sub/new.txt', 'w')),
    ('mkdir', lambda: os.mkdir('/data/newdir')),
    ('remove', lambda: os.remove('/data/data.txt')),
    ('rename', lambda: os.rename('/data/data.txt', '/data/moved.txt')),
    ('truncate', lambda: os.truncate('/data/data.txt', 0)),
    ('utime', lambda: os.utime('/data/data.txt', (0, 0))),
    ('rmdir', lambda: os.rmdir('/data/sub')),
]
for what, attempt in attempts:
    try:
        attempt()
    except PermissionError as e:
        print('refused', what, e.errno)
    else:
        raise SystemExit(what + ' succeeded in a read-only directory')
with open('/out/written.txt', 'w') as f:
    f.write('guest wrote this')
print('OK ro')
"#;

fn data_dirs() -> TempDir {
    let tmp = TempDir::new("ro");
    std::fs::create_dir_all(tmp.path().join("data/sub")).unwrap();
    std::fs::create_dir_all(tmp.path().join("out")).unwrap();
    tmp.write("data/data.txt", "original\n");
    tmp.write("data/sub/inner.txt", "inner\n");
    tmp
}

#[track_caller]
fn assert_data_untouched(tmp: &TempDir) {
    let data = tmp.path().join("data");
    assert_eq!(
        std::fs::read_to_string(data.join("data.txt")).unwrap(),
        "original\n"
    );
    let mut names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["data.txt", "sub"]);
    assert_eq!(std::fs::read_dir(data.join("sub")).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("out/written.txt")).unwrap(),
        "guest wrote this"
    );
}

#[test]
fn dir_flag_ro_suffix_makes_a_read_only_preopen() {
    let tmp = data_dirs();
    let data = format!("{}::/data:ro", tmp.path().join("data").display());
    let out = format!("{}::/out:rw", tmp.path().join("out").display());
    let r = run(["run", "--dir", &data, "--dir", &out, "-c", READ_ONLY_PROBE]);
    r.assert_ok("ro");
    r.assert_stdout_contains("refused overwrite 63");
    assert_data_untouched(&tmp);
    // Without a suffix a directory stays writable, as before.
    let data = format!("{}::/data", tmp.path().join("data").display());
    let r = run([
        "run",
        "--dir",
        &data,
        "-c",
        "open('/data/new.txt', 'w').write('x'); print('OK rw')",
    ]);
    r.assert_ok("rw");
    assert!(tmp.path().join("data/new.txt").is_file());
}

#[test]
fn policy_file_dir_entries_are_read_only_unless_rw() {
    let tmp = data_dirs();
    // Host paths relative to the policy file; mode defaults to "ro".
    let policy = tmp.write(
        "p.toml",
        "[[dir]]\nhost = \"data\"\nguest = \"/data\"\n\n\
         [[dir]]\nhost = \"out\"\nguest = \"/out\"\nmode = \"rw\"\n",
    );
    let policy = policy.to_str().unwrap();
    run(["run", "--policy", policy, "-c", READ_ONLY_PROBE]).assert_ok("ro");
    assert_data_untouched(&tmp);
    let shown = run(["policy", "show", "--policy", policy]);
    shown.assert_code(0);
    let real = tmp.path().canonicalize().unwrap();
    shown.assert_stdout_contains(&format!(
        "[[dir]]\nhost = \"{}/data\"\nguest = \"/data\"\nmode = \"ro\"\n",
        real.display()
    ));
    shown.assert_stdout_contains(&format!(
        "[[dir]]\nhost = \"{}/out\"\nguest = \"/out\"\nmode = \"rw\"\n",
        real.display()
    ));
    let r = run(["policy", "check", policy]);
    r.assert_code(0);
    r.assert_stdout_contains("2 directories");
    // A --dir flag at the same guest path replaces the file's entry.
    let out_ro = format!("{}::/out:ro", tmp.path().join("out").display());
    let r = run([
        "run",
        "--policy",
        policy,
        "--dir",
        &out_ro,
        "-c",
        "try:\n    open('/out/x', 'w')\nexcept PermissionError:\n    print('OK override')\n",
    ]);
    r.assert_ok("override");
    let shown = run(["policy", "show", "--policy", policy, "--dir", &out_ro]);
    shown.assert_stdout_contains("guest = \"/out\"\nmode = \"ro\"");
    // A bad mode is refused with its place.
    let bad = tmp.write(
        "bad.toml",
        "[[dir]]\nhost = \"data\"\nguest = \"/data\"\nmode = \"readonly\"\n",
    );
    let r = run(["policy", "check", bad.to_str().unwrap()]);
    r.assert_code(2);
    r.assert_stderr_contains("bad.toml:4:8: mode \"readonly\"");
}

#[test]
fn sqlite_in_a_read_only_dir_flag_is_read_only() {
    let tmp = TempDir::new("ro-sqlite");
    let rw = format!("{}::/db", tmp.path().display());
    run([
        "run",
        "--dir",
        &rw,
        "-c",
        "import sqlite3\nc = sqlite3.connect('/db/t.db')\nc.execute('create table t(x)')\n\
         c.execute('insert into t values (42)')\nc.commit()\nprint('OK made')\n",
    ])
    .assert_ok("made");
    let before = std::fs::read(tmp.path().join("t.db")).unwrap();
    let ro = format!("{}::/db:ro", tmp.path().display());
    let r = run([
        "run",
        "--dir",
        &ro,
        "-c",
        "import sqlite3\nc = sqlite3.connect('/db/t.db')\n\
         assert c.execute('select x from t').fetchone() == (42,)\n\
         try:\n    c.execute('insert into t values (1)')\n    c.commit()\n\
         except sqlite3.OperationalError as e:\n    assert 'readonly' in str(e), e\n\
         else:\n    raise SystemExit('wrote to a read-only directory')\n\
         try:\n    sqlite3.connect('/db/new.db').execute('create table n(x)')\n\
         except sqlite3.OperationalError as e:\n    print('refused new database:', e)\n\
         else:\n    raise SystemExit('created a database in a read-only directory')\n\
         print('OK ro')\n",
    ]);
    r.assert_ok("ro");
    assert_eq!(std::fs::read(tmp.path().join("t.db")).unwrap(), before);
    assert!(!tmp.path().join("new.db").exists());
}

// ---------------------------------------------------------------------------
// Policy files are read safely and in linear time (issue 10, item 7).

/// Runs the CLI, killing it after `limit`: returns (exit code, stderr, wall
/// time, CPU time of the process (user + system)).
fn run_bounded(
    args: &[&str],
    limit: std::time::Duration,
) -> (
    Option<i32>,
    String,
    std::time::Duration,
    std::time::Duration,
) {
    let started = std::time::Instant::now();
    let r = common::run_within(args, None, limit);
    assert!(
        !r.timed_out,
        "wasmffi {args:?} still running after {limit:?}"
    );
    (r.code(), r.stderr, started.elapsed(), r.cpu)
}

#[test]
fn policy_files_that_are_not_regular_files_are_refused_quickly() {
    let tmp = TempDir::new("pf-kinds");
    let limit = std::time::Duration::from_secs(20);
    let zero = tmp.write("zero.toml", "extends = \"/dev/zero\"\n");
    let (code, err, _, _) = run_bounded(&["policy", "check", zero.to_str().unwrap()], limit);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("zero.toml:1:11:") && err.contains("/dev/zero is inside /proc, /dev or /sys"),
        "{err}"
    );
    // The same through `run`, and for a symlink to a device.
    let link = tmp.path().join("link.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let (code, err, _, _) = run_bounded(
        &["run", "--policy", link.to_str().unwrap(), "-c", "pass"],
        limit,
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero is inside"), "{err}");
    // A FIFO nobody writes to: refused, not waited on.
    let fifo = tmp.path().join("fifo.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let via = tmp.write("via.toml", "extends = \"fifo.toml\"\n");
    let (code, err, _, _) = run_bounded(&["policy", "check", via.to_str().unwrap()], limit);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("fifo.toml: not a policy file: it is a FIFO"),
        "{err}"
    );
    // Too large.
    let big = tmp.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let (code, err, _, _) = run_bounded(&["policy", "check", big.to_str().unwrap()], limit);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("policy file too large"), "{err}");
}

#[test]
fn extends_cycles_and_deep_chains_are_refused() {
    let tmp = TempDir::new("pf-cycle");
    let a = tmp.write("a.toml", "extends = \"b.toml\"\n");
    tmp.write("b.toml", "# b\nextends = \"a.toml\"\n");
    let r = run(["policy", "check", a.to_str().unwrap()]);
    r.assert_code(2);
    let real = tmp.path().canonicalize().unwrap();
    r.assert_stderr_contains(&format!("a.toml:1:11: "));
    r.assert_stderr_contains(&format!("b.toml:2:11: "));
    r.assert_stderr_contains(&format!(
        "`extends` forms a cycle: {0}/a.toml -> {0}/b.toml -> {0}/a.toml",
        real.display()
    ));
    // 40 distinct files in a chain: more than MAX_EXTENDS_DEPTH (16).
    for i in 0..40 {
        tmp.write(
            &format!("c{i}.toml"),
            &format!("extends = \"c{}.toml\"\n", i + 1),
        );
    }
    tmp.write("c40.toml", "");
    let r = run([
        "policy",
        "check",
        tmp.path().join("c0.toml").to_str().unwrap(),
    ]);
    r.assert_code(2);
    r.assert_stderr_contains("`extends` chains more than 16 policy files deep");
}

/// Best wall time of `policy check` on a file of `n` soname entries.
fn check_time(tmp: &TempDir, n: usize, tries: usize) -> f64 {
    use std::fmt::Write;
    let mut text = String::with_capacity(n * 40);
    for i in 0..n {
        let _ = write!(text, "[[library]]\nname = \"libgen{i}.so.1\"\n");
    }
    let path = tmp.write(&format!("gen{n}.toml"), &text);
    let path = path.to_str().unwrap();
    (0..tries)
        .map(|_| {
            let (code, err, _, cpu) = run_bounded(
                &["policy", "check", path],
                std::time::Duration::from_secs(300),
            );
            assert_eq!(code, Some(0), "{err}");
            cpu.as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A regression guard against super-linear loading, not a benchmark: ten
/// times the entries may take at most twenty times the CPU time (plus 50 ms
/// of slack), against a baseline taken in the same run; CPU time (of the
/// child, from wait4), not wall time, so that tests running beside it do not
/// make it flake. Linear loading measures 11-13 times, quadratic a hundredfold.
#[test]
fn loading_a_policy_is_linear_in_its_entries() {
    let tmp = TempDir::new("pf-linear");
    let small = check_time(&tmp, 19_000, 3);
    let large = check_time(&tmp, 190_000, 2);
    eprintln!("policy check CPU time: 19,000 entries {small:.3}s, 190,000 entries {large:.3}s");
    assert!(
        large <= 20.0 * small + 0.05,
        "190,000 entries took {large:.3}s against {small:.3}s for 19,000: super-linear"
    );
}

// ---------------------------------------------------------------------------
// The raw-memory grant, as the command line shows it (issue 10, item 1).

#[test]
fn policy_show_says_whether_raw_memory_is_granted_and_why() {
    for (preset, line) in [
        ("none", "raw_memory = false  # not granted: no library is trusted"),
        (
            "trusted",
            "raw_memory = true  # implied by a trusted library, which can be handed any address",
        ),
        (
            "libc-math",
            "raw_memory = false  # withheld: a checked library relies on the memory interface being checked",
        ),
    ] {
        let r = run(["policy", "show", "--preset", preset]);
        r.assert_code(0);
        r.assert_stdout_contains(line);
    }
    let r = run(["policy", "show", "--allow-raw-memory"]);
    r.assert_code(0);
    r.assert_stdout_contains("raw_memory = true  # granted explicitly");
    let r = run(["policy", "show", "--allow-lib", "libm.so.6"]);
    r.assert_stdout_contains("raw_memory = true  # implied by a trusted library");
    // A grant beside a checked library is a contradiction, refused.
    for args in [
        &[
            "policy",
            "show",
            "--preset",
            "libc-math",
            "--allow-raw-memory",
        ][..],
        &[
            "run",
            "--allow-lib-checked",
            "libm.so.6",
            "--allow-raw-memory",
            "-c",
            "pass",
        ][..],
    ] {
        let r = run(args);
        r.assert_code(2);
        r.assert_stderr_contains(
            "--allow-raw-memory: raw_memory = true cannot be combined with a checked library",
        );
    }
    // In files: inherited, overridden, checked, and reported by `check`.
    let tmp = TempDir::new("raw");
    let base = tmp.write("base.toml", "raw_memory = true\n");
    let r = run(["policy", "check", base.to_str().unwrap()]);
    r.assert_code(0);
    r.assert_stdout_contains("raw_memory = true: granted explicitly");
    let off = tmp.write(
        "off.toml",
        "extends = \"base.toml\"\nraw_memory = false\n[[library]]\nname = \"libm.so.6\"\n",
    );
    let r = run(["policy", "show", "--policy", off.to_str().unwrap()]);
    r.assert_stdout_contains("raw_memory = false  # withheld explicitly");
    let bad = tmp.write("bad.toml", "extends = \"libc-math\"\nraw_memory = true\n");
    let r = run(["policy", "check", bad.to_str().unwrap()]);
    r.assert_code(2);
    r.assert_stderr_contains(
        "bad.toml:2:14: raw_memory = true cannot be combined with a checked library",
    );
}
