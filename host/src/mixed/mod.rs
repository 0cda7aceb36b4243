//! `wasmffi:ffi/mixed`: the policy gate of mixed modules, and what their host
//! halves share: the guest's preopened directories (paths the guest names are
//! guest paths) and the cache directory.

use std::path::PathBuf;

use crate::bindings::wasmffi::ffi::mixed::Host;
use crate::bindings::FfiError;
use crate::policy::dirs::{resolve_in, GuestDir, Resolved};
use crate::state::HostState;

pub(crate) mod probe;
pub(crate) mod sqlite;
pub(crate) mod zlib;

/// Host-side state of the mixed modules for one run.
pub struct MixedState {
    pub dirs: Vec<GuestDir>,
    pub cache_dir: PathBuf,
    /// The sqlite VFS confining this run's databases, made on first use.
    pub sqlite_vfs: Option<std::sync::Arc<crate::mixed::sqlite::vfs::ConfinedVfs>>,
    /// sqlite work suspended while the guest runs a Python callback.
    pub sqlite_steps: crate::mixed::sqlite::steps::Suspended,
    /// When the run started (made just before its store): the run's
    /// deadline, `limits.cpu_time`, counts from here, as the epoch's does.
    pub started: std::time::Instant,
}

impl Default for MixedState {
    fn default() -> Self {
        MixedState::new(Vec::new(), PathBuf::new())
    }
}

impl MixedState {
    pub fn new(dirs: Vec<GuestDir>, cache_dir: PathBuf) -> Self {
        MixedState {
            dirs,
            cache_dir,
            sqlite_vfs: None,
            sqlite_steps: Default::default(),
            started: std::time::Instant::now(),
        }
    }

    /// Map the guest path `path` to the host, refusing anything outside the
    /// preopened directories (after resolving symlinks on the host).
    pub fn resolve(&self, path: &str) -> Result<Resolved, FfiError> {
        resolve_in(&self.dirs, path)
    }
}

impl Host for HostState {
    fn enable(&mut self, name: String) -> Result<(), FfiError> {
        self.policy.check_module(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_stay_inside_preopens() {
        let root = std::env::temp_dir().join(format!("wasmffi-mixed-{}", std::process::id()));
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let host = data.canonicalize().unwrap();
        let state = MixedState::new(
            vec![GuestDir {
                guest: "/data".into(),
                host: host.clone(),
                writable: true,
            }],
            PathBuf::new(),
        );
        assert_eq!(state.resolve("/data/x.db").unwrap().host, host.join("x.db"));
        assert_eq!(
            state.resolve("/data/./a/../x.db").unwrap().host,
            host.join("x.db")
        );
        for bad in [
            "/data/../x.db",
            "/etc/passwd",
            "/datax/y.db",
            "/../../etc/passwd",
        ] {
            assert!(
                matches!(state.resolve(bad), Err(FfiError::NotPermitted(_))),
                "{bad} resolved"
            );
        }
        assert!(matches!(
            state.resolve("x.db"),
            Err(FfiError::InvalidArgument(_))
        ));
        std::os::unix::fs::symlink("/etc/hostname", data.join("link")).unwrap();
        assert!(
            state.resolve("/data/link").is_err(),
            "a symlink leading out"
        );
        std::os::unix::fs::symlink("/nonexistent-wasmffi", data.join("dangling")).unwrap();
        assert!(
            state.resolve("/data/dangling").is_err(),
            "a dangling symlink"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn module_policy_defaults_and_overrides() {
        use crate::policy::Policy;
        let p = Policy::default();
        assert!(p.module_allowed("sqlite3") && p.module_allowed("zlib"));
        assert!(!p.module_allowed("probe") && !p.module_allowed("nonsense"));
        let p = p.allow_module("probe").deny_module("zlib");
        assert!(p.module_allowed("probe") && !p.module_allowed("zlib"));
        assert!(matches!(
            p.check_module("zlib"),
            Err(FfiError::NotPermitted(_))
        ));
    }
}
