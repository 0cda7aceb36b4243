//! Builds the test libraries (*shared* libraries) into OUT_DIR:
//! - `libwasmffi_test.so` from `testlib.c`, the project's C test library;
//! - `libwasmffi_pystub.so` from `../cpython_ctypes/pystub.c`, stand-ins for the
//!   few CPython C-API symbols CPython's `_ctypes_test.so` references, so that it
//!   dlopens outside CPython (tests/cpython_ctypes.rs).
//!
//! `cc::Build::compile` only produces static archives, so `cc` is used to find the
//! compiler and its flags for the target, and the link step is run here.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    println!("cargo:rerun-if-changed=testlib.c");
    println!("cargo:rerun-if-changed=../cpython_ctypes/pystub.c");
    println!("cargo:rerun-if-changed=build.rs");

    // t_call_in_thread starts a thread of its own.
    build_shared(
        &manifest_dir.join("testlib.c"),
        &out_dir.join("libwasmffi_test.so"),
        &["-pthread"],
    );
    build_shared(
        &manifest_dir.join("../cpython_ctypes/pystub.c"),
        &out_dir.join("libwasmffi_pystub.so"),
        &[],
    );
}

fn build_shared(src: &Path, out: &Path, extra: &[&str]) {
    let compiler = cc::Build::new()
        .file(src)
        .pic(true)
        .opt_level(2)
        .warnings(true)
        .cargo_metadata(false)
        .get_compiler();

    let mut cmd = compiler.to_command();
    cmd.arg("-shared")
        .arg("-fPIC")
        .arg("-std=gnu11")
        .arg("-o")
        .arg(out)
        .arg(src);
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // Fail at build time, not at dlopen time, on an unresolved symbol.
        cmd.arg("-Wl,--no-undefined");
    }
    cmd.args(extra);

    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("failed to run the C compiler {:?}: {e}", compiler.path()));
    if !status.success() {
        panic!(
            "building {} failed: {cmd:?} exited with {status}",
            out.display()
        );
    }
}
