//! The guest's CPython (guest/): its runtime, its exit statuses and
//! its read-only standard library.

mod common;

use common::{py_script, run, TempDir};

fn cpython(args: &[&str]) -> Vec<String> {
    let mut all = vec!["run".to_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

#[test]
fn cpython_runtime_modules_work() {
    let script = py_script("cpython_runtime.py");
    let r = run(cpython(&[script.to_str().unwrap()]));
    r.assert_ok("cpython_runtime");
}

#[test]
fn exit_statuses_are_kept() {
    run(cpython(&["-c", "import sys; sys.exit(3)"])).assert_code(3);
    run(cpython(&["-c", "import os; os._exit(5)"])).assert_code(5);
    run(cpython(&["-c", "import sys; sys.exit(0)"])).assert_code(0);
    let r = run(cpython(&["-c", "import sys; sys.exit('bye')"]));
    r.assert_code(1);
    r.assert_stderr_contains("bye");
    let r = run(cpython(&["-c", "raise KeyError('wasmffi-marker')"]));
    r.assert_code(1);
    r.assert_stderr_contains("KeyError: 'wasmffi-marker'");
}

#[test]
fn the_standard_library_is_read_only() {
    let code = "\
import os, errno
for path in ('/usr/local/lib/python311.zip', '/usr/local/lib/evil.py'):
    try:
        open(path, 'ab').close()
    except OSError as e:
        print('refused', path, errno.errorcode[e.errno])
    else:
        print('WROTE', path)
";
    let r = run(cpython(&["-c", code]));
    r.assert_code(0);
    assert!(!r.stdout.contains("WROTE"), "{}", r.describe());
    assert_eq!(r.stdout.matches("refused").count(), 2, "{}", r.describe());
}

#[test]
fn no_bytecode_is_written_next_to_a_script() {
    let dir = TempDir::new("cpython-pyc");
    dir.write("helper_mod.py", "VALUE = 41\n");
    let script = dir.write(
        "main.py",
        "import helper_mod\nprint(helper_mod.VALUE + 1)\n",
    );
    let dir_arg = format!("{}:rw", dir.path().display());
    let r = run(cpython(&["--dir", &dir_arg, script.to_str().unwrap()]));
    r.assert_code(0);
    r.assert_stdout_contains("42");
    assert!(
        !dir.path().join("__pycache__").exists(),
        "the guest wrote bytecode"
    );
}
