//! Integration tests of `import ctypes` (the guest's `_ctypes`): each runs one
//! program from tests/py/ctypes_*.py inside the guest against libc, libm, libz and
//! the project's C library; the program checks real native results with `assert`
//! and prints `OK <name>` at the end.

mod common;

use common::run_py_ok;

/// libz as the tests allow it, on top of libc, libm and the test library.
const LIBZ: &[&str] = &["--allow-lib", "libz.so.1"];

#[test]
fn loading() {
    let allow_absent = ["--allow-lib", "libwasmffi_absent.so.1"];
    run_py_ok("ctypes_loading", &[LIBZ, &allow_absent[..]].concat());
}

#[test]
fn simple_types() {
    run_py_ok("ctypes_simple", LIBZ);
}

#[test]
fn pointers_and_memory() {
    run_py_ok("ctypes_memory", LIBZ);
}

#[test]
fn aggregates() {
    run_py_ok("ctypes_aggregates", LIBZ);
}

#[test]
fn functions() {
    run_py_ok("ctypes_functions", LIBZ);
}
