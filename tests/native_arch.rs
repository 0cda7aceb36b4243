//! Native code under another architecture's ABI (`--native-arch`), and the
//! native memory access every architecture relies on: raw reads and writes
//! copied under the fault handlers, in-process and in a helper process alike
//! (the kernel's process_vm_readv/writev are ENOSYS under qemu-user).
//!
//! The `--native-arch` tests run tests/py/native_arch_abi.py (ctypes,
//! _rawffi, callbacks, errno, memory, addresses in the upper half) with the
//! helper of each architecture under qemu-user and compare with what that
//! architecture's ABI must give; tests/py/native_arch_byteorder.py checks
//! native byte order (big-endian on s390x) against tests/clib's C built for
//! that architecture, and in-process. They build the helper when it is missing
//! (scripts/native_helpers.sh) and skip, saying what to install, only when
//! the architecture's cross tools are not installed
//! (`scripts/native_helpers.sh --install ARCH`, which scripts/setup.sh runs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{py_script, repo_root, run, run_py_ok};

/// A write to a read-only page or a read of an unmapped one is a
/// SegfaultException that leaves the page as it was, wherever native code runs.
#[test]
fn raw_memory_respects_page_protection_in_process_and_isolated() {
    run_py_ok("native_memory_protection", &[]);
    run_py_ok("native_memory_protection", &["--isolate-native"]);
}

/// What one architecture's ABI must give (SysV psABI of each).
struct Abi {
    arch: &'static str,
    /// `_rawffi.platform["arch"]`: Rust's name for it.
    reported: &'static str,
    triple: &'static str,
    qemu: &'static str,
    cross_gcc: &'static str,
    loader: &'static str,
    /// Debian's multiarch directory and architecture name.
    multiarch: &'static str,
    deb: &'static str,
    expect: &'static str,
}

const AARCH64: Abi = Abi {
    arch: "aarch64",
    reported: "aarch64",
    triple: "aarch64-unknown-linux-gnu",
    qemu: "qemu-aarch64",
    cross_gcc: "aarch64-linux-gnu-gcc",
    loader: "/lib/ld-linux-aarch64.so.1",
    multiarch: "aarch64-linux-gnu",
    deb: "arm64",
    // long double is IEEE binary128, 16-aligned.
    expect: r#""pointer": 8, "long": 8, "big_endian": false, "long_double": [16, 16],
        "char_double": [16, 8, 0, 8], "char_longlong": [16, 8, 0, 8],
        "char_longdouble": [32, 16, 0, 16], "char_pointer_short": [24, 8, 0, 8, 16],
        "high_address": 549755813888"#,
};

const I686: Abi = Abi {
    arch: "i686",
    reported: "x86",
    triple: "i686-unknown-linux-gnu",
    qemu: "qemu-i386",
    cross_gcc: "i686-linux-gnu-gcc",
    loader: "/lib/ld-linux.so.2",
    multiarch: "i386-linux-gnu",
    deb: "i386",
    // i386 SysV: double and long long 4-aligned in structs, long double x87
    // in 12 bytes; 4-byte pointers, long and size_t.
    expect: r#""pointer": 4, "long": 4, "big_endian": false, "long_double": [12, 4],
        "char_double": [12, 4, 0, 4], "char_longlong": [12, 4, 0, 4],
        "char_longdouble": [16, 4, 0, 4], "char_pointer_short": [12, 4, 0, 4, 8],
        "high_address": 3221225472"#,
};

const S390X: Abi = Abi {
    arch: "s390x",
    reported: "s390x",
    triple: "s390x-unknown-linux-gnu",
    qemu: "qemu-s390x",
    cross_gcc: "s390x-linux-gnu-gcc",
    loader: "/lib/ld64.so.1",
    multiarch: "s390x-linux-gnu",
    deb: "s390x",
    // Big-endian; long double binary128, 8-aligned.
    expect: r#""pointer": 8, "long": 8, "big_endian": true, "long_double": [16, 8],
        "char_double": [16, 8, 0, 8], "char_longlong": [16, 8, 0, 8],
        "char_longdouble": [24, 8, 0, 8], "char_pointer_short": [24, 8, 0, 8, 16],
        "high_address": 549755813888"#,
};

fn in_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The helper for `abi`, built if the tools are there; `None` (after saying
/// what is missing) when they are not.
fn helper(abi: &Abi) -> Option<()> {
    let missing: Vec<&str> = [
        (!in_path(abi.qemu)).then_some(abi.qemu),
        (!Path::new(abi.loader).exists()).then_some(abi.loader),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED: --native-arch {}: {} not installed (scripts/native_helpers.sh --install {} installs it)",
            abi.arch,
            missing.join(" and "),
            abi.arch
        );
        return None;
    }
    let root = repo_root();
    let built = root
        .join("target/cross")
        .join(abi.triple)
        .join("release/wasmffi-native");
    if !built.is_file() {
        if !in_path(abi.cross_gcc) {
            eprintln!(
                "SKIPPED: --native-arch {}: no helper built and no {} to build it \
                 (scripts/native_helpers.sh --install {} installs it)",
                abi.arch, abi.cross_gcc, abi.arch
            );
            return None;
        }
        let status = Command::new(root.join("scripts/native_helpers.sh"))
            .arg(abi.arch)
            .status()
            .expect("running scripts/native_helpers.sh");
        assert!(status.success(), "building the {} helper failed", abi.arch);
    }
    Some(())
}

fn abi_program(abi: &Abi) {
    if helper(abi).is_none() {
        return;
    }
    let expect = format!("{{\"arch\": \"{}\", {}}}", abi.reported, abi.expect);
    let r = run([
        "run",
        "--allow-lib",
        "libc.so.6",
        "--allow-lib",
        "libm.so.6",
        "--native-arch",
        abi.arch,
        &py_script("native_arch_abi.py").display().to_string(),
        &expect,
    ]);
    r.assert_ok("native_arch_abi");
}

/// tests/clib's testlib.c built by `abi`'s cross compiler into
/// target/cross/<triple>/ (again when the source is newer), or `None`
/// (after saying why) without that compiler.
fn cross_testlib(abi: &Abi) -> Option<PathBuf> {
    let root = repo_root();
    let source = root.join("tests/clib/testlib.c");
    let dir = root.join("target/cross").join(abi.triple);
    let built = dir.join("libwasmffi_test.so");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&built).is_some_and(|b| modified(&source).is_some_and(|s| b >= s)) {
        return Some(built);
    }
    if !in_path(abi.cross_gcc) {
        eprintln!(
            "SKIPPED: --native-arch {}: no {} to build tests/clib for it \
             (scripts/native_helpers.sh --install {} installs it)",
            abi.arch, abi.cross_gcc, abi.arch
        );
        return None;
    }
    std::fs::create_dir_all(&dir).expect("creating target/cross/<triple>");
    // Built beside and renamed: tests of one architecture may build it at once.
    let partial = dir.join(format!("libwasmffi_test.so.{}", std::process::id()));
    let status = Command::new(abi.cross_gcc)
        .args([
            "-shared",
            "-fPIC",
            "-O2",
            "-std=gnu11",
            "-pthread",
            "-Wl,--no-undefined",
            "-o",
        ])
        .arg(&partial)
        .arg(&source)
        .status()
        .expect("running the cross C compiler");
    assert!(
        status.success(),
        "{} failed on {}",
        abi.cross_gcc,
        source.display()
    );
    std::fs::rename(&partial, &built).expect("moving the built test library in place");
    Some(built)
}

/// tests/py/native_arch_byteorder.py with `abi`'s helper and test library.
fn byteorder_program(abi: &Abi) {
    if helper(abi).is_none() {
        return;
    }
    let Some(testlib) = cross_testlib(abi) else {
        return;
    };
    let testlib = testlib.display().to_string();
    let r = run([
        "run",
        "--allow-lib",
        "libc.so.6",
        "--allow-lib",
        &testlib,
        "--env",
        &format!("WASMFFI_TESTLIB={testlib}"),
        "--native-arch",
        abi.arch,
        &py_script("native_arch_byteorder.py").display().to_string(),
    ]);
    r.assert_ok("native_arch_byteorder");
}

#[test]
fn aarch64_abi_calls_callbacks_and_memory() {
    abi_program(&AARCH64);
}

#[test]
fn i686_abi_calls_callbacks_and_memory() {
    abi_program(&I686);
}

#[test]
fn s390x_abi_calls_callbacks_and_memory() {
    abi_program(&S390X);
}

/// Struct fields, bit fields, byte-swapped types, `long double` in memory,
/// POINTER arguments of callbacks, wide strings and PEP 3118 formats in
/// native code's byte order: in-process (x86-64 here) and under each
/// architecture, big-endian s390x included.
#[test]
fn byte_order_in_process() {
    run_py_ok("native_arch_byteorder", &[]);
}

#[test]
fn aarch64_byte_order() {
    byteorder_program(&AARCH64);
}

#[test]
fn i686_byte_order() {
    byteorder_program(&I686);
}

#[test]
fn s390x_byte_order() {
    byteorder_program(&S390X);
}

/// An architecture nobody supports, or one whose tools are missing, is an
/// error up front that says what to do.
#[test]
fn unknown_architecture_is_a_clear_error() {
    let r = run(["run", "--native-arch", "vax", "-c", "pass"]);
    assert_ne!(r.code(), Some(0), "{}", r.describe());
    r.assert_stderr_contains("--native-arch vax: unknown architecture");
    r.assert_stderr_contains("aarch64, s390x, i686, armhf");
}

/// What tests/py/native_arch_libs.py must see under `--native-arch`, from
/// the files installed here: whether this architecture has zlib, a library
/// the host has and it lacks (with the `:ARCH` package that would provide
/// it, else the generic hint), and the host's own libm with its ELF machine.
fn libs_expectation(abi: &Abi) -> String {
    let installed = |dir: &str, file: &str| {
        ["/usr/lib", "/lib"]
            .iter()
            .any(|root| Path::new(root).join(dir).join(file).exists())
    };
    let absent = if installed(common::MULTIARCH, "libmagic.so.1")
        && !installed(abi.multiarch, "libmagic.so.1")
    {
        format!(
            r#"{{"name": "magic", "soname": "libmagic.so.1", "hint": "libmagic1:{}"}}"#,
            abi.deb
        )
    } else {
        format!(
            r#"{{"name": "wasmffi_missing", "soname": "{}", "hint": "install the :{} package"}}"#,
            common::MISSING_LIB,
            abi.deb
        )
    };
    let host_elf = match common::MULTIARCH {
        "x86_64-linux-gnu" => Some("x86-64"),
        "aarch64-linux-gnu" => Some("AArch64"),
        _ => None,
    };
    let (host_libm, host_elf) = match host_elf {
        Some(elf) if common::MULTIARCH != abi.multiarch => (
            format!(r#""/usr/lib/{}/libm.so.6""#, common::MULTIARCH),
            elf,
        ),
        _ => ("null".to_owned(), ""),
    };
    format!(
        r#"{{"arch": "{}", "multiarch": "{}", "deb": "{}", "zlib": {}, "absent": {absent},
            "host_libm": {host_libm}, "host_elf": "{host_elf}"}}"#,
        abi.arch,
        abi.multiarch,
        abi.deb,
        installed(abi.multiarch, "libz.so.1"),
    )
}

/// find_library, libraries granted by soname, by the trusted preset and by
/// host path, under `--native-arch`: the architecture's own files or a clear
/// refusal (tests/py/native_arch_libs.py).
fn libs_program(abi: &Abi) {
    if helper(abi).is_none() {
        return;
    }
    let expect = libs_expectation(abi);
    let script = py_script("native_arch_libs.py").display().to_string();
    let host_libm = format!("/usr/lib/{}/libm.so.6", common::MULTIARCH);
    let granted = [
        "libc.so.6",
        "libm.so.6",
        "libz.so.1",
        "libmagic.so.1",
        common::MISSING_LIB,
        &host_libm,
    ];
    let mut by_name: Vec<&str> = vec!["run", "--native-arch", abi.arch];
    for lib in &granted {
        by_name.extend(["--allow-lib", lib]);
    }
    by_name.extend([script.as_str(), &expect]);
    run(&by_name).assert_ok("native_arch_libs");
    run([
        "run",
        "--preset",
        "trusted",
        "--native-arch",
        abi.arch,
        &script,
        &expect,
    ])
    .assert_ok("native_arch_libs");
}

#[test]
fn aarch64_libraries_are_its_own() {
    libs_program(&AARCH64);
}

#[test]
fn i686_libraries_are_its_own() {
    libs_program(&I686);
}

#[test]
fn s390x_libraries_are_its_own() {
    libs_program(&S390X);
}

/// 32-bit ARM, hard-float: tested by hand, not in CI (scripts/setup.sh does
/// not install it; `scripts/native_helpers.sh --install armhf` does). Its
/// tests skip, saying so, where armhf is not installed.
const ARMHF: Abi = Abi {
    arch: "armhf",
    reported: "arm",
    triple: "armv7-unknown-linux-gnueabihf",
    qemu: "qemu-arm",
    cross_gcc: "arm-linux-gnueabihf-gcc",
    loader: "/lib/ld-linux-armhf.so.3",
    multiarch: "arm-linux-gnueabihf",
    deb: "armhf",
    // AAPCS: double and long long 8-aligned in structs, long double is
    // double; 4-byte pointers, long and size_t.
    expect: r#""pointer": 4, "long": 4, "big_endian": false, "long_double": [8, 8],
        "char_double": [16, 8, 0, 8], "char_longlong": [16, 8, 0, 8],
        "char_longdouble": [16, 8, 0, 8], "char_pointer_short": [12, 4, 0, 4, 8],
        "high_address": 3221225472"#,
};

#[test]
fn armhf_abi_calls_callbacks_and_memory() {
    abi_program(&ARMHF);
}

#[test]
fn armhf_libraries_are_its_own() {
    libs_program(&ARMHF);
}

#[test]
fn armhf_byte_order() {
    byteorder_program(&ARMHF);
}
