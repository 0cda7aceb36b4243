//! The confinement VFS of the `sqlite3` mixed module (see sqlite.rs): every
//! database a guest opens goes through it. `xFullPathname` maps the guest path
//! sqlite was given through the guest's preopened directories, refusing
//! anything outside them; `xOpen`, `xDelete` and `xAccess` refuse host paths
//! (journals, WAL files) outside them; `xDlOpen` loads nothing.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use libsqlite3_sys as ffi;

use crate::bindings::wasmffi::ffi::sqlite::SqliteError;
use crate::bindings::FfiError;
use crate::mixed::{real_path, resolve_in, GuestDir};
use crate::sqlite::{refused, uri_off};

struct VfsData {
    base: *mut ffi::sqlite3_vfs,
    dirs: Vec<GuestDir>,
    /// Why the last path was refused, for the error message.
    refusal: Mutex<Option<String>>,
}

impl VfsData {
    fn refuse(&self, why: String) {
        *self.refusal.lock().unwrap() = Some(why);
    }

    fn host_inside(&self, host: &Path) -> Option<bool> {
        let real = real_path(host)?;
        self.dirs
            .iter()
            .filter(|d| real.starts_with(&d.host))
            .max_by_key(|d| d.host.as_os_str().len())
            .map(|d| d.writable)
    }
}

/// A VFS registered for one run; unregistered when the last connection using
/// it is gone.
pub(crate) struct ConfinedVfs {
    vfs: Box<ffi::sqlite3_vfs>,
    data: Box<VfsData>,
    pub(crate) name: CString,
}

// SAFETY: used from the thread running the store only; sqlite's own use of
// the VFS is serialised by the connections using it.
unsafe impl Send for ConfinedVfs {}
unsafe impl Sync for ConfinedVfs {}

unsafe fn vfs_data<'a>(vfs: *mut ffi::sqlite3_vfs) -> &'a VfsData {
    &*((*vfs).pAppData as *const VfsData)
}

unsafe extern "C" fn x_full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    let data = vfs_data(vfs);
    let guest = CStr::from_ptr(name).to_string_lossy().into_owned();
    let absolute = if guest.starts_with('/') {
        guest.clone()
    } else {
        format!("/{guest}")
    };
    match resolve_in(&data.dirs, &absolute) {
        Ok(resolved) => {
            let host = resolved.host.to_string_lossy().into_owned();
            if host.len() + 1 > n_out as usize || host.contains('\0') {
                data.refuse(format!("{guest}: path too long"));
                return ffi::SQLITE_CANTOPEN;
            }
            std::ptr::copy_nonoverlapping(host.as_ptr() as *const c_char, out, host.len());
            *out.add(host.len()) = 0;
            ffi::SQLITE_OK
        }
        Err(err) => {
            data.refuse(match err {
                FfiError::NotPermitted(m) | FfiError::InvalidArgument(m) => m,
                other => format!("{other:?}"),
            });
            ffi::SQLITE_CANTOPEN
        }
    }
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    mut flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let data = vfs_data(vfs);
    if !name.is_null() {
        let path = CStr::from_ptr(name).to_string_lossy().into_owned();
        match data.host_inside(Path::new(&path)) {
            None => {
                data.refuse(format!("{path}: outside the guest's preopened directories"));
                return ffi::SQLITE_CANTOPEN;
            }
            Some(false) => {
                // A read-only preopen: never write or create there.
                flags &= !(ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE);
                flags |= ffi::SQLITE_OPEN_READONLY;
            }
            Some(true) => {}
        }
    }
    let base = data.base;
    ((*base).xOpen.unwrap())(base, name, file, flags, out_flags)
}

unsafe extern "C" fn x_delete(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync: c_int,
) -> c_int {
    let data = vfs_data(vfs);
    let path = CStr::from_ptr(name).to_string_lossy().into_owned();
    if data.host_inside(Path::new(&path)) != Some(true) {
        data.refuse(format!("{path}: outside the guest's writable directories"));
        return ffi::SQLITE_IOERR_DELETE;
    }
    let base = data.base;
    ((*base).xDelete.unwrap())(base, name, sync)
}

unsafe extern "C" fn x_access(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    res: *mut c_int,
) -> c_int {
    let data = vfs_data(vfs);
    let path = CStr::from_ptr(name).to_string_lossy().into_owned();
    if data.host_inside(Path::new(&path)).is_none() {
        *res = 0;
        return ffi::SQLITE_OK;
    }
    let base = data.base;
    ((*base).xAccess.unwrap())(base, name, flags, res)
}

unsafe extern "C" fn x_dlopen(_vfs: *mut ffi::sqlite3_vfs, _name: *const c_char) -> *mut c_void {
    std::ptr::null_mut()
}

impl ConfinedVfs {
    pub fn new(dirs: Vec<GuestDir>) -> Result<Arc<ConfinedVfs>, SqliteError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        uri_off();
        let base = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
        if base.is_null() {
            return Err(refused(FfiError::Unsupported(
                "sqlite has no default VFS".into(),
            )));
        }
        let name = CString::new(format!(
            "wasmffi-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
        .unwrap();
        let data = Box::new(VfsData {
            base,
            dirs,
            refusal: Mutex::new(None),
        });
        // SAFETY: a copy of the default VFS with some methods replaced.
        let mut vfs = Box::new(unsafe { std::ptr::read(base) });
        vfs.pNext = std::ptr::null_mut();
        vfs.zName = name.as_ptr();
        vfs.pAppData = &*data as *const VfsData as *mut c_void;
        vfs.xOpen = Some(x_open);
        vfs.xDelete = Some(x_delete);
        vfs.xAccess = Some(x_access);
        vfs.xFullPathname = Some(x_full_pathname);
        vfs.xDlOpen = Some(x_dlopen);
        let mut this = ConfinedVfs { vfs, data, name };
        let rc = unsafe { ffi::sqlite3_vfs_register(&mut *this.vfs, 0) };
        if rc != ffi::SQLITE_OK {
            return Err(refused(FfiError::Unsupported(format!(
                "registering the sqlite VFS failed ({rc})"
            ))));
        }
        Ok(Arc::new(this))
    }

    pub(crate) fn take_refusal(&self) -> Option<String> {
        self.data.refusal.lock().unwrap().take()
    }
}

impl Drop for ConfinedVfs {
    fn drop(&mut self) {
        unsafe { ffi::sqlite3_vfs_unregister(&mut *self.vfs) };
        let _ = &self.name;
    }
}
