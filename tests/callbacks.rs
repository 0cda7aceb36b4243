//! Native code calling back into guest Python (issue: callbacks), through
//! `_rawffi.CallbackPtr`, against libc and the project's C library.

mod common;

use common::run_py_ok;

#[test]
fn qsort_bsearch_structs_tables_nesting() {
    run_py_ok("callbacks", &[]);
}

/// Exceptions, recursion, freed callbacks and foreign threads: each is
/// reported on stderr the way CPython would (or with our own message), C gets
/// zero, and the guest keeps running.
#[test]
fn failures_are_contained() {
    let run = run_py_ok("callback_errors", &[]);
    run.assert_stderr_contains("Exception ignored on calling _rawffi callback function");
    run.assert_stderr_contains("ValueError: boom 7");
    run.assert_stderr_contains("RecursionError: native calls nested more than");
    run.assert_stderr_contains("after the guest freed it");
    run.assert_stderr_contains("from a thread native code created");
}
