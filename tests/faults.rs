//! Native code crashing: in-process, a fatal signal is reported with the
//! function and library that crashed and the guest's Python stack, and the
//! run ends with 128 + the signal number.

mod common;

use common::{py_script, rawffi_args, run};

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
