//! The policy model's own tests: library matching, paths, limits.

use super::*;

#[test]
fn sonames_match_exactly() {
    let policy = Policy::default().allow_library("libm.so.6");
    assert!(matches!(
        policy.check_library(Some("libm.so.6")),
        Ok(LoadTarget::Soname(s)) if s == "libm.so.6"
    ));
    assert!(matches!(
        policy.check_library(Some("libc.so.6")),
        Err(FfiError::NotPermitted(_))
    ));
    assert!(matches!(
        policy.check_library(None),
        Err(FfiError::NotPermitted(_))
    ));
}

#[test]
fn paths_match_by_real_path_and_reject_tricks() {
    let dir = std::env::temp_dir().join(format!("wasmffi-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("libfake.so.1");
    std::fs::write(&lib, b"").unwrap();
    let link = dir.join("link.so");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&lib, &link).unwrap();

    let policy = Policy::default().allow_library(lib.to_str().unwrap());
    let real = lib.canonicalize().unwrap();
    assert!(matches!(
        policy.check_library(link.to_str()),
        Ok(LoadTarget::Path(p)) if p == real
    ));
    let dotted = format!(
        "{}/../{}/libfake.so.1",
        dir.display(),
        dir.file_name().unwrap().to_str().unwrap()
    );
    assert!(matches!(
        policy.check_library(Some(&dotted)),
        Err(FfiError::NotPermitted(_))
    ));
    assert!(matches!(
        policy.check_library(Some("./libfake.so.1")),
        Err(FfiError::NotPermitted(_))
    ));
    assert_eq!(
        policy.find_library("fake"),
        Some(real.display().to_string())
    );
    assert_eq!(policy.find_library("fak"), None);
    std::fs::remove_dir_all(&dir).unwrap();
}
