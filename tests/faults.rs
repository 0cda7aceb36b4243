//! Native code crashing: in-process, a fatal signal is reported with the
//! function and library that crashed and the guest's Python stack, and the
//! run ends with 128 + the signal number.

mod common;

use common::{py_script, rawffi_args, run, run_py_ok};

fn crash(kind: &str) -> common::Run {
    let mut args = rawffi_args(&[]);
    args.push(py_script("crash.py").display().to_string());
    args.push(kind.to_owned());
    run(args)
}

#[test]
fn segfault_is_reported_with_function_and_python_stack() {
    let r = crash("segv");
    assert_eq!(r.code(), Some(128 + 11), "{}", r.describe());
    assert!(r.stdout.contains("about to crash"), "{}", r.describe());
    assert!(!r.stdout.contains("survived"), "{}", r.describe());
    r.assert_stderr_contains(
        "Fatal Python error: Segmentation fault (SIGSEGV) in native code: t_crash_null in ",
    );
    r.assert_stderr_contains("libwasmffi_test.so");
    r.assert_stderr_contains("in inner_python_frame");
}

#[test]
fn abort_is_reported_too() {
    let r = crash("abort");
    assert_eq!(r.code(), Some(128 + 6), "{}", r.describe());
    r.assert_stderr_contains("(SIGABRT) in native code: t_abort in ");
    r.assert_stderr_contains("in inner_python_frame");
}

/// With --isolate-native a crash is an OSError in the guest, and the run goes
/// on: the helper process is replaced and later calls work.
#[test]
fn isolated_crash_is_an_exception_and_the_next_call_works() {
    let r = run_py_ok("isolated_crash", &["--isolate-native"]);
    assert!(
        r.stdout
            .contains("caught: native code crashed: Segmentation fault (SIGSEGV) in t_crash_null"),
        "{}",
        r.describe()
    );
}

/// The rest of the raw layer behaves the same in a helper process:
/// callbacks (nested, stored, failing), structs, memory.
#[test]
fn isolated_callbacks_and_memory_work() {
    run_py_ok("callbacks", &["--isolate-native"]);
    run_py_ok("strings_memory", &["--isolate-native"]);
}
