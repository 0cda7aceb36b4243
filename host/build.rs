//! Builds the Python guest (`guest/`) for `wasm32-wasip2` as part of the
//! host's normal build, so `cargo build`/`cargo run` need no manual step.
//!
//! The guest is built with its own target directory (`target/guest`): a nested
//! cargo on the outer build's target directory would wait for the outer
//! build's lock forever. It is always built with the `guest` profile
//! (optimised): a debug RustPython is too slow to be useful.
//!
//! Set `WASMFFI_GUEST_WASM=/path/to/guest.wasm` to use a prebuilt guest.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";

fn main() {
    build_fault_shim();
    println!("cargo:rerun-if-env-changed=WASMFFI_GUEST_WASM");
    if let Ok(prebuilt) = env::var("WASMFFI_GUEST_WASM") {
        println!("cargo:rerun-if-changed={prebuilt}");
        println!("cargo:rustc-env=WASMFFI_GUEST_WASM={prebuilt}");
        emit_hash(&PathBuf::from(prebuilt));
        return;
    }

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    // vendor/: the patched RustPython crates are compiled into the guest
    for input in [
        "guest/src",
        "guest/Cargo.toml",
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
        .args(["-p", "wasmffi-guest", "--target-dir"])
        .arg(&target_dir);
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
        .join("wasmffi-guest.wasm");
    assert!(wasm.exists(), "guest build produced no {}", wasm.display());
    println!("cargo:rustc-env=WASMFFI_GUEST_WASM={}", wasm.display());
    emit_hash(&wasm);
}

/// A content hash of the guest, computed once here so that start-up can key
/// the precompiled-artifact cache without hashing 20+ MB on every run.
fn emit_hash(wasm: &std::path::Path) {
    let bytes = std::fs::read(wasm).expect("reading the guest wasm");
    // FNV-1a, 64-bit: fast enough in an unoptimised build script.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!("cargo:rustc-env=WASMFFI_GUEST_HASH={hash:016x}");
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
