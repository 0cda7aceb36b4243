//! Links CPython 3.11 for wasm32-wasi (`libpython3.11.a` and the two
//! libraries its `_decimal` and `pyexpat` need) into the guest. The files are
//! laid out by `scripts/cpython_wasi.py` in `$WASMFFI_CPYTHON_WASI/lib`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Application-level halves compiled to bytecode here (src/app_code.rs):
/// per output, the sources that run as one namespace, in order.
const APP_CODE: &[(&str, &str, &[&str])] = &[
    (
        "_ctypes.app.marshal",
        "_ctypes/app.py",
        &[
            "src/ctypes/app.py",
            "src/ctypes/app_types.py",
            "src/ctypes/app_arrays.py",
            "src/ctypes/app_pointers.py",
            "src/ctypes/app_calls.py",
            "src/ctypes/app_capi.py",
        ],
    ),
    (
        "_rawffi.app.marshal",
        "_rawffi/app.py",
        &["src/rawffi/app.py"],
    ),
    ("zlib.app.marshal", "zlib/app.py", &["src/zlib/app.py"]),
    ("_probe.app.marshal", "_probe/app.py", &["src/probe/app.py"]),
    (
        "_sqlite3.app.marshal",
        "_sqlite3/app.py",
        &[
            "src/sqlite3/app.py",
            "src/sqlite3/app_connection.py",
            "src/sqlite3/app_cursor.py",
        ],
    ),
];

/// Compile `sources` (concatenated) with python3.11 into marshalled code
/// named `filename` in tracebacks.
fn compile_app(out: &Path, filename: &str, sources: &[&str]) {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let paths: Vec<PathBuf> = sources.iter().map(|s| manifest.join(s)).collect();
    for path in &paths {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    const SCRIPT: &str = "import sys, marshal\n\
        assert sys.version_info[:2] == (3, 11), 'the guest runs CPython 3.11 bytecode'\n\
        out, name, *paths = sys.argv[1:]\n\
        src = ''.join(open(p, encoding='utf-8').read() for p in paths)\n\
        code = compile(src, name, 'exec', dont_inherit=True, optimize=0)\n\
        open(out, 'wb').write(marshal.dumps(code))\n";
    let status = Command::new("python3.11")
        .arg("-c")
        .arg(SCRIPT)
        .arg(out)
        .arg(filename)
        .args(&paths)
        .status()
        .expect(
            "running python3.11 to compile the app-level Python (scripts/setup.sh installs it)",
        );
    assert!(status.success(), "python3.11 could not compile {sources:?}");
}

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

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for (output, filename, sources) in APP_CODE {
        compile_app(&out.join(output), filename, sources);
    }
}
