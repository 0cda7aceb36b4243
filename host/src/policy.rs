//! What a guest may touch: which native libraries it may open, and limits.
//!
//! The same model backs the CLI flags and the embedding API. Library rules
//! are resolved on the host: a rule with a `/` names a file and is matched by
//! its real path (symlinks resolved), anything else is a soname passed to the
//! dynamic loader as is.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::bindings::FfiError;

/// A library the policy allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LibraryRule {
    /// A soname such as `libm.so.6`, found by the dynamic loader's search.
    Soname(String),
    /// An absolute file, kept as its canonical real path.
    Path(PathBuf),
    /// The host process's global namespace (`dlopen(NULL)`, ctypes' `CDLL(None)`).
    Process,
}

/// Name of the rule that allows `dlopen(NULL)`.
pub const PROCESS_RULE: &str = "@process";

#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of native memory the guest may hold through `memory.alloc`.
    pub native_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            native_memory: 1 << 30,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    libraries: Vec<LibraryRule>,
    pub limits: Limits,
}

/// How a permitted `library.open` request is to be loaded.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadTarget {
    Process,
    Soname(String),
    Path(PathBuf),
}

impl Policy {
    /// Allow a library by soname, by absolute path, or `@process` for the
    /// process's global namespace. Paths are resolved when the rule is added.
    pub fn allow_library(mut self, name_or_path: &str) -> Self {
        // A rule naming a file that does not exist can never match; keep the
        // policy usable and let `open` report the missing file.
        let rule = parse_rule(name_or_path)
            .unwrap_or_else(|_| LibraryRule::Path(PathBuf::from(name_or_path)));
        if !self.libraries.contains(&rule) {
            self.libraries.push(rule);
        }
        self
    }

    /// Like [`Policy::allow_library`], but a rule that cannot be resolved is an error.
    pub fn try_allow_library(mut self, name_or_path: &str) -> Result<Self> {
        let rule = parse_rule(name_or_path)?;
        if !self.libraries.contains(&rule) {
            self.libraries.push(rule);
        }
        Ok(self)
    }

    pub fn libraries(&self) -> &[LibraryRule] {
        &self.libraries
    }

    /// Decide whether the guest may open `requested` (`None`: the process).
    pub fn check_library(&self, requested: Option<&str>) -> Result<LoadTarget, FfiError> {
        let Some(requested) = requested else {
            return if self.libraries.contains(&LibraryRule::Process) {
                Ok(LoadTarget::Process)
            } else {
                Err(FfiError::NotPermitted(format!(
                    "the process's global namespace (CDLL(None)) is not allowed by the policy; \
                     allow it with --allow-lib {PROCESS_RULE}"
                )))
            };
        };
        if !requested.contains('/') {
            return if self
                .libraries
                .contains(&LibraryRule::Soname(requested.to_owned()))
            {
                Ok(LoadTarget::Soname(requested.to_owned()))
            } else {
                Err(not_allowed(requested))
            };
        }
        let path = Path::new(requested);
        if !path.is_absolute() {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: libraries are opened by soname or absolute path, not relative path"
            )));
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: '..' is not allowed in library paths"
            )));
        }
        let real = match path.canonicalize() {
            Ok(real) => real,
            // Report a missing file like the loader would, but only for paths
            // the policy names: others must not learn what exists.
            Err(err) => {
                return if self.libraries.contains(&LibraryRule::Path(path.to_owned())) {
                    Err(FfiError::LoadFailed(format!("{requested}: {err}")))
                } else {
                    Err(not_allowed(requested))
                }
            }
        };
        if self.libraries.contains(&LibraryRule::Path(real.clone())) {
            Ok(LoadTarget::Path(real))
        } else {
            Err(not_allowed(requested))
        }
    }

    /// `ctypes.util.find_library` semantics, restricted to allowed libraries:
    /// `"z"` finds an allowed `libz.so.1` or `/.../libz.so.1`.
    pub fn find_library(&self, name: &str) -> Option<String> {
        let prefix = format!("lib{name}.so");
        let matches = |file: &str| file == prefix || file.starts_with(&format!("{prefix}."));
        self.libraries.iter().find_map(|rule| match rule {
            LibraryRule::Soname(s) if matches(s) => Some(s.clone()),
            LibraryRule::Path(p) if p.file_name().and_then(|f| f.to_str()).is_some_and(matches) => {
                Some(p.display().to_string())
            }
            _ => None,
        })
    }
}

fn not_allowed(requested: &str) -> FfiError {
    FfiError::NotPermitted(format!(
        "{requested}: not allowed by the policy (allow it with --allow-lib)"
    ))
}

fn parse_rule(name_or_path: &str) -> Result<LibraryRule> {
    if name_or_path == PROCESS_RULE {
        return Ok(LibraryRule::Process);
    }
    if name_or_path.is_empty() {
        bail!("empty library name");
    }
    if !name_or_path.contains('/') {
        return Ok(LibraryRule::Soname(name_or_path.to_owned()));
    }
    let path = Path::new(name_or_path);
    if !path.is_absolute() {
        bail!("{name_or_path}: library paths in a policy must be absolute");
    }
    let real = path
        .canonicalize()
        .with_context(|| format!("resolving library path {name_or_path}"))?;
    Ok(LibraryRule::Path(real))
}

#[cfg(test)]
mod tests {
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
}
