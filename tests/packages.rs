//! Real PyPI packages whose native access is ctypes, as a new user would run
//! them: `pip install --target target/packages` (scripts/packages.sh, run by
//! scripts/setup.sh), then `wasmffi run --site target/packages` with the
//! libraries each needs. Every program in tests/packages/ does real work with
//! its package and runs twice: under the machine's CPython (`python3 -S`, the
//! same directory on PYTHONPATH, so both sides import the same files) and in
//! the guest; the outputs must be the same.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_root, run_within, timeout, Run};

/// One package's program and what the guest must be granted for it.
struct Case {
    program: &'static str,
    /// Sonames the package opens (found with ctypes.util.find_library).
    libs: &'static [&'static str],
    /// The package ships its own libraries: grant the site directory's.
    libs_in_site: bool,
    /// Host directories the program reads, preopened read-only at the same path.
    dirs: &'static [&'static str],
    args: &'static [&'static str],
}

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// The packages, their Debian libraries and the CPython the guest is compared
/// with are the build machine's: a test binary built for another architecture
/// (scripts/test_cross.sh runs the suite under qemu-user) has none of them
/// for its own. Then these tests say so and assert nothing.
fn skipped_for_another_architecture(test: &str) -> bool {
    let out = Command::new("python3")
        .args(["-c", "import platform; print(platform.machine())"])
        .output()
        .expect("running python3");
    let machine = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let ours = std::env::consts::ARCH;
    if machine == ours || (machine == "arm64" && ours == "aarch64") {
        return false;
    }
    eprintln!(
        "SKIPPED {test}: this test binary is for {ours}, the installed packages and \
         python3 are for {machine}"
    );
    true
}

fn packages_dir() -> PathBuf {
    let dir = repo_root().join("target").join("packages");
    assert!(
        dir.join(".wasmffi-packages").is_file(),
        "{} is not installed: run scripts/packages.sh (scripts/setup.sh does)",
        dir.display()
    );
    dir
}

fn program(name: &str) -> PathBuf {
    repo_root()
        .join("tests")
        .join("packages")
        .join(format!("{name}.py"))
}

/// The program under the machine's CPython, on the same package directory.
fn under_cpython(script: &Path, args: &[&str], path: &Path) -> String {
    let out = Command::new("python3")
        .arg("-S")
        .arg(script)
        .args(args)
        .env("PYTHONPATH", path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "python3 {} failed ({})\n----- stdout -----\n{}\n----- stderr -----\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python3 printed UTF-8")
}

fn in_guest(args: &[String]) -> Run {
    let run = run_within(args, None, timeout());
    assert!(
        run.status.success() && !run.timed_out,
        "the guest failed\n{}",
        run.describe()
    );
    run
}

fn same_as_cpython(case: &Case) {
    if skipped_for_another_architecture(case.program) {
        return;
    }
    let site = packages_dir();
    let script = program(case.program);
    let expected = under_cpython(&script, case.args, &site);
    assert!(
        !expected.trim().is_empty(),
        "{} printed nothing",
        case.program
    );
    let mut args: Vec<String> = vec!["run".into(), "--site".into(), site.display().to_string()];
    for lib in case.libs {
        args.extend(["--allow-lib".into(), lib.to_string()]);
    }
    if case.libs_in_site {
        args.extend(["--allow-lib".into(), site.display().to_string()]);
    }
    for dir in case.dirs {
        args.extend(["--dir".into(), format!("{dir}:ro")]);
    }
    args.push(script.display().to_string());
    args.extend(case.args.iter().map(|a| a.to_string()));
    let run = in_guest(&args);
    assert_eq!(
        run.stdout,
        expected,
        "{}: the guest's output differs from CPython's\n{}",
        case.program,
        run.describe()
    );
}

macro_rules! package_tests {
    ($($name:ident: $case:expr;)*) => {$(
        #[test]
        fn $name() {
            same_as_cpython(&$case);
        }
    )*};
}

const NONE: &[&str] = &[];

package_tests! {
    python_magic_identifies_file_types: Case {
        program: "magic_types", libs: &["libmagic.so.1"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    freetype_renders_glyphs_with_its_bundled_library: Case {
        program: "freetype_render", libs: NONE, libs_in_site: true,
        dirs: &["/usr/share/fonts/truetype/dejavu"], args: &[FONT],
    };
    pyzbar_decodes_barcodes: Case {
        program: "zbar_barcode", libs: &["libzbar.so.0"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    pylibdmtx_encodes_and_decodes_data_matrix: Case {
        program: "dmtx_barcode", libs: &["libdmtx.so.0"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    pysodium_signs_and_boxes: Case {
        program: "sodium_crypto", libs: &["libsodium.so.23"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    libnacl_aead_and_public_boxes: Case {
        program: "nacl_aead", libs: &["libsodium.so.23"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    pycryptodome_ciphers_with_its_own_libraries: Case {
        program: "cryptodome_ciphers", libs: NONE, libs_in_site: true, dirs: NONE, args: NONE,
    };
    libarchive_writes_and_reads_archives: Case {
        program: "archive_roundtrip", libs: &["libarchive.so.13"], libs_in_site: false, dirs: NONE,
        args: NONE,
    };
    opuslib_encodes_and_decodes_audio: Case {
        program: "opus_codec", libs: &["libopus.so.0"], libs_in_site: false, dirs: NONE, args: NONE,
    };
    pyenchant_checks_spelling: Case {
        program: "enchant_spell", libs: &["libenchant-2.so.2"], libs_in_site: false, dirs: NONE,
        args: NONE,
    };
    wand_draws_and_encodes_images: Case {
        program: "wand_image", libs: &["libMagickWand-6.Q16.so.6", "libMagickCore-6.Q16.so.6"],
        libs_in_site: false, dirs: NONE, args: NONE,
    };
    pyudev_lists_devices: Case {
        program: "udev_devices", libs: &["libudev.so.1"], libs_in_site: false, dirs: NONE, args: NONE,
    };
}

/// A package mounted at another guest path than its host path: the library
/// it ships is opened by the guest path its `__file__` gives, mapped back to
/// the host through the preopen, and granted by the directory rule alone.
#[test]
fn a_library_inside_a_package_is_opened_by_its_guest_path() {
    if skipped_for_another_architecture("a_library_inside_a_package_is_opened_by_its_guest_path") {
        return;
    }
    let site = packages_dir();
    let script = program("freetype_render");
    let expected = under_cpython(&script, &[FONT], &site);
    let site_arg = site.display().to_string();
    let args: Vec<String> = [
        "run",
        "--site",
        &format!("{site_arg}::/site"),
        "--allow-lib",
        &site_arg,
        "--dir",
        "/usr/share/fonts/truetype/dejavu:ro",
        &script.display().to_string(),
        FONT,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = in_guest(&args);
    assert_eq!(run.stdout, expected, "{}", run.describe());

    // without the directory's grant the guest is refused, in its own words
    let probe = "import ctypes\n\
        try:\n    ctypes.CDLL('/site/freetype/libfreetype.so')\n\
        except OSError as e:\n    print(type(e).__name__, e)\n";
    let args: Vec<String> = vec![
        "run".into(),
        "--site".into(),
        format!("{site_arg}::/site"),
        "-c".into(),
        probe.into(),
    ];
    let run = in_guest(&args);
    assert!(
        run.stdout.starts_with("PermissionError")
            && run.stdout.contains("/site/freetype/libfreetype.so")
            && !run.stdout.contains(&site_arg),
        "expected a refusal naming the guest path only\n{}",
        run.describe()
    );
}

/// find_library answers from the loader's cache, but only with what the
/// policy lets the guest open.
#[test]
fn find_library_reveals_only_what_the_policy_grants() {
    if skipped_for_another_architecture("find_library_reveals_only_what_the_policy_grants") {
        return;
    }
    let code = "import ctypes.util as u\n\
        print(u.find_library('magic'), u.find_library('sodium'), u.find_library('c'))";
    let run = in_guest(&[
        "run".into(),
        "--allow-lib".into(),
        "libmagic.so.1".into(),
        "-c".into(),
        code.into(),
    ]);
    assert_eq!(
        run.stdout.trim(),
        "libmagic.so.1 None None",
        "{}",
        run.describe()
    );
    let run = in_guest(&[
        "run".into(),
        "--preset".into(),
        "trusted".into(),
        "-c".into(),
        code.into(),
    ]);
    assert_eq!(
        run.stdout.trim(),
        "libmagic.so.1 libsodium.so.23 libc.so.6",
        "{}",
        run.describe()
    );
}

/// The platform a program sees is the host's, where its native code runs;
/// `sys.platform` stays the interpreter's.
#[test]
fn the_platform_is_the_hosts() {
    let code = "import os, platform, sys, sysconfig\n\
        print(sys.platform, platform.system(), platform.machine(), os.uname().sysname, \
        os.uname().machine, sysconfig.get_platform(), platform.libc_ver()[0])";
    let run = in_guest(&["run".into(), "-c".into(), code.into()]);
    let machine = std::env::consts::ARCH;
    assert_eq!(
        run.stdout.trim(),
        format!("wasi Linux {machine} Linux {machine} linux-{machine} glibc"),
        "{}",
        run.describe()
    );
}

/// Pointers native code keeps past the call stay valid as long as the
/// Python object that owns the memory (tests/clib's t_keep & t_kept_hash),
/// the same under CPython.
#[test]
fn kept_pointers_live_as_long_as_their_owners() {
    if skipped_for_another_architecture("kept_pointers_live_as_long_as_their_owners") {
        return;
    }
    let script = common::py_script("ctypes_kept_pointers.py");
    let expected = under_cpython(&script, &[common::TESTLIB], Path::new(""));
    let args: Vec<String> = vec![
        "run".into(),
        "--allow-lib".into(),
        common::TESTLIB.into(),
        script.display().to_string(),
        common::TESTLIB.into(),
    ];
    let run = in_guest(&args);
    assert_eq!(run.stdout, expected, "{}", run.describe());
}
