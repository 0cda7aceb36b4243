//! CPython's own ctypes test suite as an acceptance suite for the guest's `ctypes`.
//!
//! CPython 3.11's tests come from Debian's `libpython3.11-testsuite`
//! (`/usr/lib/python3.11/ctypes/test/`, plus `test/support`), their helper library
//! `_ctypes_test.cpython-311-*.so` from the system python3.11 (both installed by
//! scripts/setup.sh). Each test module runs in its own guest process through
//! tests/common/cpython_suite.py, so that a trap or a native crash costs one
//! module, not the suite. Tests of whole groups that do not apply to this runtime
//! are listed, with their reasons, in tests/cpython_ctypes/skips.toml; everything
//! else counts. The test asserts that the suite ran and that at least
//! `BASELINE_PASSED` tests pass, prints the report (`--no-capture`) and writes it,
//! with every traceback, to `$CARGO_TARGET_TMPDIR/cpython_ctypes-report.txt`.
//!
//! Reproduce: `cargo nextest run --release --test cpython_ctypes --no-capture`.
//! Current state and the causes of the remaining failures: tests/cpython_ctypes/STATUS.md.

mod common;

use std::path::{Path, PathBuf};

use common::suite::{self, copy_py_files, not_installed, ModuleRun, PY311};
use common::{repo_root, LIBC, LIBM, MULTIARCH};

/// Passing tests in the last recorded run (see STATUS.md); fewer is a regression.
/// Raise it when the implementation gets better.
const BASELINE_PASSED: usize = 391;

/// The stand-ins for the C-API symbols `_ctypes_test.so` needs (tests/cpython_ctypes/pystub.c).
const PYSTUB: &str = wasmffi_testlib::PYSTUB_PATH;

/// Guest paths of the preopens.
const GUEST_LIB: &str = "/cpython";
const GUEST_WORK: &str = "/work";

/// `_ctypes_test.cpython-311-<tuple>.so` of the system python3.11, for the
/// architecture the tests run on (a multiarch machine may have several).
fn ctypes_test_so() -> PathBuf {
    let so = Path::new(PY311)
        .join("lib-dynload")
        .join(format!("_ctypes_test.cpython-311-{MULTIARCH}.so"));
    if !so.is_file() {
        not_installed("ctypes", &so.display().to_string());
    }
    so
}

/// A private copy of the test packages (`ctypes/test`, `test/support`) and
/// of skips.toml. Returns the test module names.
fn copy_test_packages(lib: &Path) -> Vec<String> {
    let ctypes_test = Path::new(PY311).join("ctypes/test");
    if !ctypes_test.join("__init__.py").is_file() {
        not_installed("ctypes", &format!("{}/__init__.py", ctypes_test.display()));
    }
    let modules = copy_py_files(&ctypes_test, &lib.join("ctypes/test"));
    suite::copy_support(
        "ctypes",
        lib,
        &repo_root().join("tests/cpython_ctypes/skips.toml"),
    );
    modules
        .into_iter()
        .filter(|n| n.starts_with("test_"))
        .map(|n| n.trim_end_matches(".py").to_owned())
        .collect()
}

fn run_module(name: &str, so: &Path, lib: &Path, work: &Path) -> ModuleRun {
    let so = so.to_string_lossy().into_owned();
    let mut args: Vec<String> = vec!["run".into()];
    for allowed in [LIBC, LIBM, so.as_str(), PYSTUB] {
        args.push("--allow-lib".into());
        args.push(allowed.into());
    }
    args.extend([
        "--dir".into(),
        format!("{}::{GUEST_LIB}", lib.display()),
        "--dir".into(),
        format!("{}::{GUEST_WORK}", work.display()),
        suite::runner().to_string_lossy().into_owned(),
        "--lib-root".into(),
        GUEST_LIB.into(),
        "--skips".into(),
        format!("{GUEST_LIB}/skips.toml"),
        "--ctypes-test-so".into(),
        so.clone(),
        "--pystub".into(),
        PYSTUB.into(),
        "--workdir".into(),
        GUEST_WORK.into(),
        "--only".into(),
        name.into(),
        "--stream".into(),
    ]);
    suite::run_module(name, &args)
}

#[test]
fn cpython_ctypes_suite() {
    let so = ctypes_test_so();
    let tmp = common::TempDir::new("cpython-ctypes");
    let lib = tmp.path().join("lib");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).expect("creating the work dir");
    let modules = copy_test_packages(&lib);
    assert!(
        modules.len() >= 40,
        "too few test modules found: {modules:?}"
    );

    let results = suite::run_modules(&modules, |name| run_module(name, &so, &lib, &work));
    let t = suite::report(
        "cpython_ctypes",
        "tests/cpython_ctypes/skips.toml",
        &results,
    );

    t.check(400, BASELINE_PASSED);
}
