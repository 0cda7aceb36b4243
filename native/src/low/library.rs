//! The dynamic loader: opening native libraries and looking up symbols
//! (which library may be opened is the host's policy, decided before).

use std::ffi::{CStr, CString};

use crate::Error;

/// An open native library; closed when dropped.
pub struct NativeLibrary {
    handle: libloading::os::unix::Library,
    /// What the caller asked for (for messages).
    pub requested: String,
    /// The file the loader actually used (`<process>` for the program itself).
    pub path: String,
    /// The flags it was opened with, after [`open`] cleaned them.
    pub flags: i32,
}

/// libloading's error with the loader's own words: its Display says only
/// "dlopen failed"; the dlerror text is the error's source.
fn loader_message(err: &libloading::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

/// The binding and visibility flags, the only ones a caller may choose;
/// `RTLD_NOW` when it chose neither binding.
pub fn clean_flags(flags: i32) -> i32 {
    let allowed = libc::RTLD_LAZY | libc::RTLD_NOW | libc::RTLD_LOCAL | libc::RTLD_GLOBAL;
    let mut flags = flags & allowed;
    if flags & (libc::RTLD_LAZY | libc::RTLD_NOW) == 0 {
        flags |= libc::RTLD_NOW;
    }
    flags
}

/// dlopen `name` (a soname or a path; `None`: the program itself).
pub fn open(name: Option<&str>, requested: &str, flags: i32) -> Result<NativeLibrary, Error> {
    let flags = clean_flags(flags);
    let handle = unsafe { libloading::os::unix::Library::open(name, flags) }
        .map_err(|e| Error::LoadFailed(format!("{requested}: {}", loader_message(&e))))?;
    let raw = handle.into_raw();
    let path = match name {
        None => "<process>".to_owned(),
        Some(name) => loaded_path(raw, name),
    };
    // SAFETY: `raw` came from `into_raw` just above.
    let handle = unsafe { libloading::os::unix::Library::from_raw(raw) };
    Ok(NativeLibrary {
        handle,
        requested: requested.to_owned(),
        path,
        flags,
    })
}

impl NativeLibrary {
    pub fn symbol(&self, name: &str) -> Result<u64, Error> {
        let cname = CString::new(name).map_err(|_| {
            Error::InvalidArgument(format!("symbol name {name:?} contains a NUL byte"))
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
            Ok(_) => Err(Error::NoSuchSymbol(format!(
                "{}: symbol {name} resolves to NULL",
                self.requested
            ))),
            Err(err) => Err(Error::NoSuchSymbol(format!(
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
