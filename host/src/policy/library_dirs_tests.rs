//! Directory rules (`--allow-lib DIR`), guest paths of libraries, and
//! `find_library`'s answers under a policy.

use std::path::PathBuf;

use super::*;
use crate::policy::dirs::GuestDir;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("wasmffi-libdirs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
        std::fs::write(dir.join("site/pkg/libinside.so"), b"not really ELF").unwrap();
        std::fs::write(dir.join("outside.so"), b"not really ELF").unwrap();
        std::os::unix::fs::symlink(dir.join("outside.so"), dir.join("site/pkg/escape.so")).unwrap();
        Scratch(dir.canonicalize().unwrap())
    }
    fn path(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_directory_rule_grants_the_files_under_it_only() {
    let s = Scratch::new("dir");
    let policy = Policy::default().allow_library(&s.path("site"));
    assert_eq!(policy.libraries(), [LibraryRule::Dir(s.0.join("site"))]);
    assert!(matches!(
        policy.check_library(Some(&s.path("site/pkg/libinside.so"))),
        Ok(LoadTarget::Path(p)) if p == s.0.join("site/pkg/libinside.so")
    ));
    for refused in ["outside.so", "site/pkg/escape.so", "site/pkg", "site"] {
        assert!(
            matches!(
                policy.check_library(Some(&s.path(refused))),
                Err(FfiError::NotPermitted(_))
            ),
            "{refused} must be refused"
        );
    }
}

#[test]
fn a_guest_path_is_mapped_through_its_preopen() {
    let s = Scratch::new("guest");
    let dirs = [GuestDir {
        guest: "/site".into(),
        host: s.0.join("site"),
        writable: false,
    }];
    let granted = Policy::default().allow_library(&s.path("site"));
    assert!(matches!(
        granted.check_guest_library(Some("/site/pkg/libinside.so"), &dirs),
        Ok(LoadTarget::Path(p)) if p == s.0.join("site/pkg/libinside.so")
    ));
    // a symlink leading out of the preopen is not followed out
    assert!(granted
        .check_guest_library(Some("/site/pkg/escape.so"), &dirs)
        .is_err());
    // refused in the guest's words, without the host path
    match Policy::default().check_guest_library(Some("/site/pkg/libinside.so"), &dirs) {
        Err(FfiError::NotPermitted(message)) => {
            assert!(message.contains("/site/pkg/libinside.so"), "{message}");
            assert!(!message.contains(&s.path("")), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn find_library_answers_only_with_what_may_be_opened() {
    let only_c = Policy::default().allow_library("libc.so.6");
    assert_eq!(only_c.find_library("c").as_deref(), Some("libc.so.6"));
    assert_eq!(only_c.find_library("m"), None);
    if loader_cache::loader_cache()
        .iter()
        .any(|(s, _)| s == "libm.so.6")
    {
        let any = Policy::default().allow_any_library(MemoryMode::Trusted);
        assert_eq!(any.find_library("m").as_deref(), Some("libm.so.6"));
        assert_eq!(any.find_library("surely_not_a_library_name"), None);
    }
}
