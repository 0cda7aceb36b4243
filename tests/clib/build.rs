//! Builds `libwasmffi_test.so` (a *shared* library) from `testlib.c` into OUT_DIR.
//!
//! `cc::Build::compile` only produces static archives, so `cc` is used to find the
//! compiler and its flags for the target, and the link step is run here.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let src = manifest_dir.join("testlib.c");
    let out = out_dir.join("libwasmffi_test.so");

    println!("cargo:rerun-if-changed=testlib.c");
    println!("cargo:rerun-if-changed=build.rs");

    let compiler = cc::Build::new()
        .file(&src)
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
        .arg(&out)
        .arg(&src);
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // Fail at build time, not at dlopen time, on an unresolved symbol.
        cmd.arg("-Wl,--no-undefined");
    }
    // t_call_in_thread starts a thread of its own.
    cmd.arg("-pthread");

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
