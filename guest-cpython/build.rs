//! Links CPython 3.11 for wasm32-wasi (`libpython3.11.a` and the two
//! libraries its `_decimal` and `pyexpat` need) into the guest. The files are
//! laid out by `scripts/cpython_wasi.py` in `$WASMFFI_CPYTHON_WASI/lib`.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=WASMFFI_CPYTHON_WASI");
    let dir = env::var("WASMFFI_CPYTHON_WASI")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../target/cpython-wasi")
        });
    let lib = dir.join("lib");
    assert!(
        lib.join("libpython3.11.a").exists(),
        "{} has no libpython3.11.a: run `python3.11 scripts/cpython_wasi.py {}`",
        lib.display(),
        dir.display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        lib.join("libpython3.11.a").display()
    );
    println!("cargo:rustc-link-search=native={}", lib.display());
    for name in ["python3.11", "mpdec", "expat"] {
        println!("cargo:rustc-link-lib=static={name}");
    }
    // CPython's C recursion (compiling, repr of nested containers, pickling)
    // needs more than Rust's 1 MiB default wasm stack.
    println!("cargo:rustc-link-arg-bins=-zstack-size=8388608");
    // `sys.exit(3)` ends in C's exit(3) (Py_Exit), `os._exit(5)` in
    // _exit(5), and WASI p2's exit keeps only ok/err: both go through
    // wrappers that keep the number (src/wasi_libc.rs).
    println!("cargo:rustc-link-arg-bins=--wrap=_Exit");
    println!("cargo:rustc-link-arg-bins=--wrap=_exit");
}
