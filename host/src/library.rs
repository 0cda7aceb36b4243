//! `wasmffi:ffi/library`: opening native libraries under the policy.

use std::ffi::{CStr, CString};
use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::library::{Host, HostLibrary};
use crate::bindings::FfiError;
use crate::policy::LoadTarget;
use crate::state::HostState;

/// An open native library. Functions bound from it hold an `Arc` to it, so it
/// stays loaded while they live, whatever order the guest drops handles in.
pub struct Library(pub Arc<LoadedLibrary>);

pub struct LoadedLibrary {
    pub handle: libloading::os::unix::Library,
    /// What the guest asked for (for messages) and what the host opened.
    pub requested: String,
    pub path: String,
    /// What the policy says about this library (symbols, pins, memory mode).
    pub settings: Arc<crate::policy::LibrarySettings>,
    /// How the --isolate-native helper opens the same library.
    pub key: crate::isolate::LibKey,
}

/// libloading's error with the loader's own words: its Display says only
/// "dlopen failed"; the dlerror text is the error's source.
fn loader_message(err: &libloading::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

impl LoadedLibrary {
    pub fn symbol(&self, name: &str) -> Result<u64, FfiError> {
        let cname = CString::new(name).map_err(|_| {
            FfiError::InvalidArgument(format!("symbol name {name:?} contains a NUL byte"))
        })?;
        // A symbol may legitimately be NULL only for weak undefined symbols;
        // calling or reading it would fault, so treat it as missing.
        let found = unsafe {
            self.handle
                .get::<*mut libc::c_void>(cname.as_bytes_with_nul())
                .map(|s| *s)
        };
        match found {
            Ok(ptr) if !ptr.is_null() => Ok(ptr as u64),
            Ok(_) => Err(FfiError::NoSuchSymbol(format!(
                "{}: symbol {name} resolves to NULL",
                self.requested
            ))),
            Err(err) => Err(FfiError::NoSuchSymbol(format!(
                "{}: undefined symbol {name} ({})",
                self.requested,
                loader_message(&err)
            ))),
        }
    }
}

/// The path the loader actually used for an open handle.
fn loaded_path(raw: *mut libc::c_void, fallback: &str) -> String {
    // SAFETY: `raw` is an open dlopen handle; dlinfo with RTLD_DI_LINKMAP
    // writes one pointer to a link_map owned by the loader.
    unsafe {
        let mut map: *mut LinkMap = std::ptr::null_mut();
        if libc::dlinfo(
            raw,
            libc::RTLD_DI_LINKMAP,
            &mut map as *mut _ as *mut libc::c_void,
        ) == 0
            && !map.is_null()
            && !(*map).name.is_null()
        {
            let name = CStr::from_ptr((*map).name).to_string_lossy().into_owned();
            if !name.is_empty() {
                return name;
            }
        }
    }
    fallback.to_owned()
}

#[repr(C)]
struct LinkMap {
    addr: usize,
    name: *const libc::c_char,
}

pub(crate) fn open(
    target: &LoadTarget,
    requested: &str,
    flags: i32,
) -> Result<LoadedLibrary, FfiError> {
    let name = match target {
        LoadTarget::Process => None,
        LoadTarget::Soname(s) => Some(s.as_str().to_owned()),
        LoadTarget::Path(p) => Some(p.display().to_string()),
    };
    // Only the binding and visibility flags are the guest's to choose.
    let allowed = libc::RTLD_LAZY | libc::RTLD_NOW | libc::RTLD_LOCAL | libc::RTLD_GLOBAL;
    let mut flags = flags & allowed;
    if flags & (libc::RTLD_LAZY | libc::RTLD_NOW) == 0 {
        flags |= libc::RTLD_NOW;
    }
    let handle = unsafe { libloading::os::unix::Library::open(name.as_deref(), flags) }
        .map_err(|e| FfiError::LoadFailed(format!("{requested}: {}", loader_message(&e))))?;
    let raw = handle.into_raw();
    let path = match target {
        LoadTarget::Process => "<process>".to_owned(),
        _ => loaded_path(raw, name.as_deref().unwrap_or(requested)),
    };
    // SAFETY: `raw` came from `into_raw` just above.
    let handle = unsafe { libloading::os::unix::Library::from_raw(raw) };
    Ok(LoadedLibrary {
        handle,
        requested: requested.to_owned(),
        path,
        settings: Default::default(),
        key: crate::isolate::LibKey { name, mode: flags },
    })
}

impl HostLibrary for HostState {
    fn open(&mut self, name: Option<String>, flags: i32) -> Result<Resource<Library>, FfiError> {
        let target = self.policy.check_library(name.as_deref())?;
        let requested = name.as_deref().unwrap_or("<process>");
        self.counts.acquire(crate::limits::Handle::Library)?;
        let mut lib = match open(&target, requested, flags) {
            Ok(lib) => lib,
            Err(e) => {
                self.counts.release(crate::limits::Handle::Library);
                return Err(e);
            }
        };
        lib.settings = self.policy.settings_for(&target);
        if let Some(isolated) = self.isolated.as_mut() {
            // Load it where its code will run too, so that errors show now.
            if let Err(e) = isolated.open(&lib.key) {
                self.counts.release(crate::limits::Handle::Library);
                return Err(e);
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
        let local = lib.symbol(&name)?;
        match self.isolated.as_mut() {
            // The address that means something where native code runs.
            Some(isolated) => isolated.symbol(&lib.key, &name),
            None => Ok(local),
        }
    }

    fn drop(&mut self, rep: Resource<Library>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts.release(crate::limits::Handle::Library);
        Ok(())
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
