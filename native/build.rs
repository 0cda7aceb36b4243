//! The C half of native fault containment (src/low/fault.c), compiled for
//! the target: the cc crate picks the cross compiler (aarch64-linux-gnu-gcc,
//! ...) itself, and libffi's include flags come from the target's .pc files.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/low/fault.c");
    let mut build = cc::Build::new();
    build.file("src/low/fault.c").warnings(true);
    for flag in pkg_config_cflags("libffi").split_whitespace() {
        build.flag(flag);
    }
    build.compile("wasmffi_fault");
}

fn pkg_config_cflags(package: &str) -> String {
    let mut pkg_config = Command::new("pkg-config");
    // Cross-building: the target's .pc files, through the target-specific
    // variables the pkg-config crate reads too.
    let target = env::var("TARGET").unwrap_or_default();
    if target != env::var("HOST").unwrap_or_default() {
        for var in [
            "PKG_CONFIG_LIBDIR",
            "PKG_CONFIG_PATH",
            "PKG_CONFIG_SYSROOT_DIR",
        ] {
            let target_var = format!("{var}_{}", target.replace('-', "_"));
            println!("cargo:rerun-if-env-changed={target_var}");
            if let Ok(value) = env::var(&target_var) {
                pkg_config.env(var, value);
            }
        }
    }
    pkg_config
        .args(["--cflags", package])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
