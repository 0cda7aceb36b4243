//! Integration tests of the raw FFI layer `_rawffi`: each runs one program from
//! tests/py/ inside the guest, which checks native results with `assert` and prints
//! `OK <name>` at the end.

mod common;

use common::{rawffi_args, run, run_py_ok, MISSING_LIB};

#[test]
fn scalars() {
    run_py_ok("scalars", &[]);
}

#[test]
fn structs() {
    run_py_ok("structs", &[]);
}

#[test]
fn variadic() {
    run_py_ok("variadic", &[]);
}

#[test]
fn errno() {
    run_py_ok("errno_", &[]);
}

#[test]
fn strings_memory() {
    run_py_ok("strings_memory", &[]);
}

#[test]
fn bad_input() {
    // MISSING_LIB is allowed so that loading it fails in dlopen (OSError), not in the policy.
    run_py_ok("bad_input", &["--allow-lib", MISSING_LIB]);
}

/// Without --allow-lib nothing can be loaded: the guest gets a PermissionError.
#[test]
fn policy_refuses_unlisted_library() {
    let r = run([
        "run",
        "-c",
        "import _rawffi\n\
         try:\n    _rawffi.CDLL(_rawffi.platform['libc_soname'])\n\
         except PermissionError as e:\n    print('refused:', e)\n    print('OK policy')\n\
         else:\n    raise SystemExit('libc loaded without --allow-lib')\n",
    ]);
    r.assert_ok("policy");
}

/// The allowlist admits exactly what it lists: the test library is allowed, libm is not.
#[test]
fn policy_is_per_library() {
    let mut args = rawffi_args(&[]);
    // drop "--allow-lib libm.so.6"
    let i = args
        .iter()
        .position(|a| a == common::LIBM)
        .expect("libm in the args");
    args.drain(i - 1..=i);
    args.push("-c".into());
    args.push(
        "import os, _rawffi\n\
         t = _rawffi.CDLL(os.environ['WASMFFI_TESTLIB'])\n\
         assert t.ptr('t_add_int', ['i', 'i'], 'i')(2, 3) == 5\n\
         try:\n    _rawffi.CDLL(_rawffi.platform['libm_soname'])\n\
         except PermissionError:\n    print('OK per_library')\n\
         else:\n    raise SystemExit('libm loaded without --allow-lib')\n"
            .into(),
    );
    run(&args).assert_ok("per_library");
}
