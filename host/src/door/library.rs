//! `wasmffi:ffi/library`: opening native libraries under the policy.

use std::sync::Arc;

use wasmffi_native::high::protocol::LibKey;
use wasmffi_native::low::library::NativeLibrary;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::library::{Host, HostLibrary};
use crate::bindings::FfiError;
use crate::policy::LoadTarget;
use crate::state::HostState;

/// An open native library. Functions bound from it hold an `Arc` to it, so it
/// stays loaded while they live, whatever order the guest drops handles in.
pub struct Library(pub Arc<LoadedLibrary>);

pub struct LoadedLibrary {
    /// The library in this process (`None`: it is open only where native
    /// code runs, in a helper of another architecture).
    pub native: Option<NativeLibrary>,
    /// What the guest asked for (for messages) and what the loader opened.
    pub requested: String,
    pub path: String,
    /// What the policy says about this library (symbols, pins, memory mode).
    pub settings: Arc<crate::policy::LibrarySettings>,
    /// How a helper process opens the same library.
    pub key: LibKey,
}

impl LoadedLibrary {
    /// The symbol's address in this process.
    pub fn symbol(&self, name: &str) -> Result<u64, FfiError> {
        match &self.native {
            Some(lib) => Ok(lib.symbol(name)?),
            None => Err(FfiError::Unsupported(format!(
                "{}: native code runs in a helper process",
                self.requested
            ))),
        }
    }
}

/// What dlopen gets for a policy's load target.
fn dlopen_name(target: &LoadTarget) -> Option<String> {
    match target {
        LoadTarget::Process => None,
        LoadTarget::Soname(s) => Some(s.as_str().to_owned()),
        LoadTarget::Path(p) => Some(p.display().to_string()),
    }
}

fn open(target: &LoadTarget, requested: &str, flags: i32) -> Result<LoadedLibrary, FfiError> {
    let name = dlopen_name(target);
    let lib = wasmffi_native::low::library::open(name.as_deref(), requested, flags)?;
    Ok(LoadedLibrary {
        requested: requested.to_owned(),
        path: lib.path.clone(),
        settings: Default::default(),
        key: LibKey {
            name,
            mode: lib.flags,
        },
        native: Some(lib),
    })
}

impl HostLibrary for HostState {
    fn open(&mut self, name: Option<String>, flags: i32) -> Result<Resource<Library>, FfiError> {
        let target = self
            .policy
            .check_guest_library(name.as_deref(), &self.mixed.dirs)?;
        let requested = name.as_deref().unwrap_or("<process>");
        self.counts
            .acquire(crate::policy::limits::Handle::Library)?;
        // Another architecture's library: its file of that architecture,
        // opened only in its helper.
        let foreign_name = self
            .foreign
            .then(|| self.policy.foreign_load_name(&target, requested));
        let opened = match (foreign_name, self.foreign_helper()) {
            (Some(name), Some(helper)) => name.and_then(|name| {
                let key = LibKey { name, mode: flags };
                helper
                    .open(&key)
                    .map_err(FfiError::from)
                    .map(|path| LoadedLibrary {
                        native: None,
                        requested: requested.to_owned(),
                        path,
                        settings: Default::default(),
                        key,
                    })
            }),
            _ => open(&target, requested, flags),
        };
        let mut lib = match opened {
            Ok(lib) => lib,
            Err(e) => {
                self.counts.release(crate::policy::limits::Handle::Library);
                return Err(e);
            }
        };
        lib.settings = self.policy.settings_for(&target);
        if let (false, Some(isolated)) = (self.foreign, self.isolated.as_mut()) {
            // Load it where its code will run too, so that errors show now.
            if let Err(e) = isolated.open(&lib.key) {
                self.counts.release(crate::policy::limits::Handle::Library);
                return Err(e.into());
            }
        }
        tracing::debug!(requested, path = %lib.path, "opened native library");
        self.table
            .push(Library(Arc::new(lib)))
            .map_err(|e| FfiError::LimitExceeded(format!("library handles: {e}")))
    }

    fn path(&mut self, lib: Resource<Library>) -> String {
        self.table
            .get(&lib)
            .map(|l| l.0.path.clone())
            .unwrap_or_default()
    }

    fn symbol(&mut self, lib: Resource<Library>, name: String) -> Result<u64, FfiError> {
        let lib = library(self, &lib)?;
        lib.settings.check_symbol(&lib.requested, &name)?;
        self.native_symbol(&lib, &name)
    }

    fn drop(&mut self, rep: Resource<Library>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts.release(crate::policy::limits::Handle::Library);
        Ok(())
    }
}

impl HostState {
    /// A symbol's address where native code runs (under --isolate-native
    /// it must resolve in this process too).
    pub fn native_symbol(&mut self, lib: &LoadedLibrary, name: &str) -> Result<u64, FfiError> {
        match self.isolated.as_mut() {
            Some(helper) => {
                if !self.foreign {
                    lib.symbol(name)?;
                }
                Ok(helper.symbol(&lib.key, name)?)
            }
            None => lib.symbol(name),
        }
    }
}

pub fn library(state: &HostState, lib: &Resource<Library>) -> Result<Arc<LoadedLibrary>, FfiError> {
    state
        .table
        .get(lib)
        .map(|l| l.0.clone())
        .map_err(|e| FfiError::InvalidArgument(format!("library handle: {e}")))
}

impl Host for HostState {
    fn find(&mut self, name: String) -> Option<String> {
        self.policy.find_library(&name)
    }
}
