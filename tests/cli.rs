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
