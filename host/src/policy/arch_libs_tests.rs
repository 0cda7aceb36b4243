//! Libraries of another architecture: the pure parts (ELF headers,
//! `ld.so.conf`, `dpkg-query -S`, choosing among names) and, where that
//! architecture's C library is installed, the real files.

use super::*;
use crate::policy::native_helper::arch;

fn header(class: u8, data: u8, machine: u16) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = class;
    h[5] = data;
    let m = if data == 2 {
        machine.to_be_bytes()
    } else {
        machine.to_le_bytes()
    };
    h[18..20].copy_from_slice(&m);
    h
}

#[test]
fn elf_headers_say_class_byte_order_and_machine() {
    let s390x = elf_kind_of(&header(2, 2, 22)).unwrap();
    assert_eq!(s390x, arch("s390x").unwrap().elf);
    assert_eq!(describe(s390x), "s390x");
    let i386 = elf_kind_of(&header(1, 1, 3)).unwrap();
    assert_eq!(i386, arch("i686").unwrap().elf);
    let aarch64 = elf_kind_of(&header(2, 1, 183)).unwrap();
    assert_eq!(aarch64, arch("aarch64").unwrap().elf);
    let x86_64 = elf_kind_of(&header(2, 1, 62)).unwrap();
    assert_eq!(describe(x86_64), "x86-64");
    for a in ["aarch64", "s390x", "i686", "armhf"] {
        assert_ne!(x86_64, arch(a).unwrap().elf, "{a}");
    }
    // The machine is read in the file's own byte order.
    assert_ne!(elf_kind_of(&header(2, 1, 22)), Some(s390x));
    let mut script = [b' '; 20];
    script[..9].copy_from_slice(b"/* GNU ld");
    assert_eq!(elf_kind_of(&script), None);
    assert_eq!(elf_kind_of(&header(3, 1, 62)), None);
}

#[test]
fn ld_so_conf_lists_directories_only() {
    let text = "# Multiarch support\n/usr/local/lib/s390x-linux-gnu\n\n\
        include /etc/ld.so.conf.d/*.conf\n  /lib/s390x-linux-gnu  # the loader's\n";
    assert_eq!(
        parse_conf(text),
        [
            PathBuf::from("/usr/local/lib/s390x-linux-gnu"),
            PathBuf::from("/lib/s390x-linux-gnu")
        ]
    );
}

#[test]
fn dpkg_search_answers_name_the_package() {
    assert_eq!(
        package_of_search("zlib1g:amd64: /lib/x86_64-linux-gnu/libz.so.1\n").as_deref(),
        Some("zlib1g")
    );
    assert_eq!(
        package_of_search("libc6:amd64, libc6:i386: /usr/share/doc/libc6\n").as_deref(),
        Some("libc6")
    );
    assert_eq!(
        package_of_search("diversion by foo from: /x\ndiversion by foo to: /y\nbar: /x\n")
            .as_deref(),
        Some("bar")
    );
    assert_eq!(package_of_search(""), None);
}

/// A directory of fake libraries: each file holds only the ELF header
/// given (or other bytes).
struct FakeDir(PathBuf);

impl FakeDir {
    fn new(tag: &str, files: &[(&str, [u8; 20])]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("wasmffi-archlibs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, head) in files {
            std::fs::write(dir.join(name), head).unwrap();
        }
        FakeDir(dir)
    }
}

impl Drop for FakeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_soname_resolves_only_to_a_file_of_the_architecture() {
    let s390x = arch("s390x").unwrap();
    let host_kind = header(2, 1, 62);
    let ours = header(2, 2, 22);
    let wrong = FakeDir::new(
        "wrong",
        &[("libz.so.1", host_kind), ("libm.so.6", host_kind)],
    );
    let right = FakeDir::new(
        "right",
        &[
            ("libz.so.1", ours),
            ("libz.so.1.2.13", ours),
            ("libz.so", *b"/* GNU ld script  */"),
        ],
    );
    let cached = vec![CacheEntry {
        soname: "libm.so.6".into(),
        tag: "64bit".into(),
        path: wrong.0.join("libm.so.6"),
    }];
    let libs = ArchLibraries::new(s390x, vec![wrong.0.clone(), right.0.clone()], cached);
    assert_eq!(libs.resolve("libz.so.1"), Some(right.0.join("libz.so.1")));
    // Listed in the cache, but an x86-64 file: not this architecture's.
    assert_eq!(libs.resolve("libm.so.6"), None);
    assert_eq!(libs.resolve("libz.so"), None);
    assert_eq!(
        libs.candidates("z"),
        ["libz.so.1", "libz.so.1.2.13", "libz.so"]
    );
    assert_eq!(libs.candidates("zz"), Vec::<String>::new());
}

/// Where an architecture's C library is installed, its libc.so.6 is found
/// in its own directory and is an ELF file of it.
#[test]
fn installed_architectures_find_their_own_c_library() {
    for a in ["aarch64", "s390x", "i686"] {
        let a = arch(a).unwrap();
        let own = Path::new("/usr/lib").join(a.multiarch).join("libc.so.6");
        if !own.exists() {
            continue;
        }
        let found = arch_libraries(a).resolve("libc.so.6").expect(a.name);
        assert!(found.to_string_lossy().contains(a.multiarch), "{found:?}");
        assert_eq!(elf_kind(&found), Some(a.elf));
    }
}

/// Under `--native-arch s390x` (where its C library is installed, on an
/// x86-64 host): a granted soname is s390x's file, a granted x86-64 file is
/// refused naming both architectures, and a library s390x lacks is refused
/// naming it and what to install, not a host path.
#[test]
fn a_policy_under_another_architecture_hands_its_helper_its_own_files() {
    let s390x = arch("s390x").unwrap();
    let host_libc = Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6");
    if !Path::new("/usr/lib")
        .join(s390x.multiarch)
        .join("libc.so.6")
        .exists()
        || !host_libc.exists()
    {
        return;
    }
    let mut policy = Policy::default()
        .allow_library("libc.so.6")
        .allow_library(host_libc.to_str().unwrap())
        .allow_library("libwasmffi_not_installed.so.1");
    policy.native_arch = Some("s390x".into());
    let libc = policy
        .foreign_load_name(&LoadTarget::Soname("libc.so.6".into()), "libc.so.6")
        .unwrap()
        .unwrap();
    assert!(libc.contains("/s390x-linux-gnu/"), "{libc}");
    assert_eq!(policy.find_library("c").as_deref(), Some("libc.so.6"));

    let real = host_libc.canonicalize().unwrap();
    let err = policy
        .foreign_load_name(&LoadTarget::Path(real), "/guest/libc.so.6")
        .unwrap_err();
    let err = format!("{err:?}");
    assert!(err.contains("/guest/libc.so.6: built for x86-64"), "{err}");
    assert!(err.contains("runs as s390x"), "{err}");
    assert!(err.contains("grant libc.so.6 by name"), "{err}");
    assert!(!err.contains("/usr/lib"), "{err}");

    let missing = "libwasmffi_not_installed.so.1";
    let err = policy
        .foreign_load_name(&LoadTarget::Soname(missing.into()), missing)
        .unwrap_err();
    let err = format!("{err:?}");
    assert!(err.contains("not installed for s390x"), "{err}");
    assert!(err.contains("install the :s390x package"), "{err}");
    assert!(!err.contains("/usr/lib"), "{err}");
    assert_eq!(policy.find_library("wasmffi_not_installed"), None);
}
