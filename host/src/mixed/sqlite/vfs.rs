//! The confinement of the `sqlite3` mixed module (see sqlite.rs): a VFS per
//! run that every database of the run goes through, and the memory budget
//! that bounds sqlite's heap and temporary files (`limits.sqlite_memory`).
//!
//! **Guest paths only.** sqlite only ever sees guest paths: `xFullPathname`
//! checks that the guest path it was given (main database, ATTACH, VACUUM
//! INTO) lies inside a preopened directory and hands back the normalised
//! *guest* path, so `PRAGMA database_list`, `sqlite3_db_filename` and every
//! error message name guest paths. sqlite derives journal, WAL and
//! super-journal names from it; `xOpen`, `xDelete` and `xAccess` map each
//! name to the host through the preopens (refusing anything outside, and
//! symlinks leading out) when the file is touched. A file sqlite opens is
//! wrapped so that its host name (which the default VFS keeps) lives as long
//! as the file; the wrapper is an `iVersion` 2 file (no `xFetch`), so sqlite
//! never memory-maps a database (`PRAGMA mmap_size` stays 0).
//!
//! **Temporary files in memory.** sqlite asks for a temporary file (sorts
//! that spill, temp tables and indices, statement journals, `ATTACH ''`, the
//! temporary database `""`) by opening a NULL name; the default VFS would
//! create it under /var/tmp or $TMPDIR, outside every preopen. Here it is a
//! [`MemFile`] in host memory, counted against the run's budget.
//!
//! **Memory** (sqlite_budget.rs): sqlite's heap and these temporary files
//! are charged to the run's budget; past it a temporary file answers
//! SQLITE_FULL and the message names the limit. `xDlOpen` loads nothing.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use libsqlite3_sys as ffi;

use crate::bindings::wasmffi::ffi::sqlite::SqliteError;
use crate::bindings::FfiError;
use crate::mixed::sqlite::budget::Budget;
use crate::mixed::sqlite::{refused, uri_off};
use crate::policy::dirs::{normalise, resolve_in, GuestDir};

// ------------------------------------------------------------------ the VFS

struct VfsData {
    base: *mut ffi::sqlite3_vfs,
    dirs: Vec<GuestDir>,
    budget: Arc<Budget>,
    /// Why the last path was refused, for the error message.
    refusal: Mutex<Option<String>>,
}

impl VfsData {
    fn refuse(&self, why: String) {
        *self.refusal.lock().unwrap() = Some(why);
    }

    /// The host path of a guest path sqlite names (its own derived names
    /// included), and whether it may be written.
    fn map(&self, guest: &str) -> Result<(Vec<u8>, bool), String> {
        match resolve_in(&self.dirs, guest) {
            Ok(r) => {
                use std::os::unix::ffi::OsStrExt;
                let host = r.host.as_os_str().as_bytes();
                if host.contains(&0) {
                    return Err(format!("{guest}: not a valid file name"));
                }
                Ok((host.to_vec(), r.writable))
            }
            Err(FfiError::NotPermitted(m) | FfiError::InvalidArgument(m)) => Err(m),
            Err(other) => Err(format!("{guest}: {other:?}")),
        }
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

unsafe fn text(p: *const c_char) -> String {
    CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe extern "C" fn x_full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    let data = vfs_data(vfs);
    let guest = text(name);
    let absolute = if guest.starts_with('/') {
        guest.clone()
    } else {
        format!("/{guest}")
    };
    if let Err(why) = data.map(&absolute) {
        data.refuse(why);
        return ffi::SQLITE_CANTOPEN;
    }
    // The guest path: what sqlite shows and derives its other names from.
    let Some(full) = normalise(&absolute) else {
        data.refuse(format!(
            "{guest}: outside the guest's preopened directories"
        ));
        return ffi::SQLITE_CANTOPEN;
    };
    if full.len() + 1 > n_out.max(0) as usize || full.contains('\0') {
        data.refuse(format!("{guest}: path too long"));
        return ffi::SQLITE_CANTOPEN;
    }
    std::ptr::copy_nonoverlapping(full.as_ptr() as *const c_char, out, full.len());
    *out.add(full.len()) = 0;
    ffi::SQLITE_OK
}

/// What sqlite allocates for each open file of this VFS: the wrapper, then
/// the default VFS's own file.
#[repr(C)]
struct ShimFile {
    base: ffi::sqlite3_file,
    /// A real file: its host name as sqlite expects a file name laid out
    /// (four NULs before it, an empty parameter list after), alive until
    /// xClose because the default VFS keeps a pointer to it.
    host: *mut [u8],
    /// A temporary file in memory.
    mem: *mut MemFile,
    real: *mut ffi::sqlite3_file,
}

const REAL_OFFSET: usize = (std::mem::size_of::<ShimFile>() + 15) & !15;

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    mut flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let data = vfs_data(vfs);
    let shim = file as *mut ShimFile;
    shim.write(ShimFile {
        base: ffi::sqlite3_file {
            pMethods: std::ptr::null(),
        },
        host: std::ptr::slice_from_raw_parts_mut(std::ptr::null_mut(), 0),
        mem: std::ptr::null_mut(),
        real: (file as *mut u8).add(REAL_OFFSET) as *mut ffi::sqlite3_file,
    });
    if name.is_null() {
        // A temporary file: in memory, never on the host's disk.
        (*shim).mem = Box::into_raw(Box::new(MemFile {
            chunks: Vec::new(),
            size: 0,
            budget: data.budget.clone(),
        }));
        (*shim).base.pMethods = &MEM_METHODS;
        if !out_flags.is_null() {
            *out_flags = flags;
        }
        return ffi::SQLITE_OK;
    }
    let guest = text(name);
    let (host, writable) = match data.map(&guest) {
        Ok(found) => found,
        Err(why) => {
            data.refuse(why);
            return ffi::SQLITE_CANTOPEN;
        }
    };
    if !writable {
        // A read-only preopen: never write or create there.
        flags &= !(ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE);
        flags |= ffi::SQLITE_OPEN_READONLY;
    }
    let mut laid_out = vec![0u8; 4];
    laid_out.extend_from_slice(&host);
    laid_out.push(0);
    if !writable {
        // The default VFS creates a WAL database's `-shm` file next to it
        // even for a read-only database, unless told so (it reads this
        // parameter whatever the URI setting).
        laid_out.extend_from_slice(b"readonly_shm\x001\x00");
    }
    laid_out.extend_from_slice(&[0, 0]);
    let laid_out = Box::into_raw(laid_out.into_boxed_slice());
    let host_name = (laid_out as *mut u8).add(4) as *const c_char;
    let base = data.base;
    let rc = ((*base).xOpen.unwrap())(base, host_name, (*shim).real, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        if !(*(*shim).real).pMethods.is_null() {
            // Not expected (sqlite's contract), but then it must be closed.
            let m = (*(*shim).real).pMethods;
            ((*m).xClose.unwrap())((*shim).real);
        }
        drop(Box::from_raw(laid_out));
        return rc;
    }
    (*shim).host = laid_out;
    (*shim).base.pMethods = &REAL_METHODS;
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync: c_int,
) -> c_int {
    let data = vfs_data(vfs);
    let guest = text(name);
    match data.map(&guest) {
        Ok((host, true)) => {
            let host = CString::new(host).unwrap();
            let base = data.base;
            ((*base).xDelete.unwrap())(base, host.as_ptr(), sync)
        }
        Ok((_, false)) => {
            data.refuse(format!("{guest}: in a read-only directory"));
            ffi::SQLITE_IOERR_DELETE
        }
        Err(why) => {
            data.refuse(why);
            ffi::SQLITE_IOERR_DELETE
        }
    }
}

unsafe extern "C" fn x_access(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    res: *mut c_int,
) -> c_int {
    let data = vfs_data(vfs);
    let guest = text(name);
    match data.map(&guest) {
        Ok((_, false)) if flags == ffi::SQLITE_ACCESS_READWRITE => {
            *res = 0;
            ffi::SQLITE_OK
        }
        Ok((host, _)) => {
            let host = CString::new(host).unwrap();
            let base = data.base;
            ((*base).xAccess.unwrap())(base, host.as_ptr(), flags, res)
        }
        Err(_) => {
            *res = 0;
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn x_dlopen(_vfs: *mut ffi::sqlite3_vfs, _name: *const c_char) -> *mut c_void {
    std::ptr::null_mut()
}

// ------------------------------------------------ real files: forwarded

unsafe fn real(
    f: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    let real = (*(f as *mut ShimFile)).real;
    (real, &*(*real).pMethods)
}

unsafe extern "C" fn real_close(f: *mut ffi::sqlite3_file) -> c_int {
    let (r, m) = real(f);
    let rc = (m.xClose.unwrap())(r);
    let shim = f as *mut ShimFile;
    drop(Box::from_raw((*shim).host));
    (*shim).host = std::ptr::slice_from_raw_parts_mut(std::ptr::null_mut(), 0);
    rc
}

unsafe extern "C" fn real_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let (r, m) = real(f);
    (m.xRead.unwrap())(r, buf, n, off)
}

unsafe extern "C" fn real_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let (r, m) = real(f);
    (m.xWrite.unwrap())(r, buf, n, off)
}

unsafe extern "C" fn real_truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let (r, m) = real(f);
    (m.xTruncate.unwrap())(r, size)
}

unsafe extern "C" fn real_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let (r, m) = real(f);
    (m.xSync.unwrap())(r, flags)
}

unsafe extern "C" fn real_file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    let (r, m) = real(f);
    (m.xFileSize.unwrap())(r, size)
}

unsafe extern "C" fn real_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (r, m) = real(f);
    (m.xLock.unwrap())(r, level)
}

unsafe extern "C" fn real_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (r, m) = real(f);
    (m.xUnlock.unwrap())(r, level)
}

unsafe extern "C" fn real_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    let (r, m) = real(f);
    (m.xCheckReservedLock.unwrap())(r, out)
}

const SQLITE_FCNTL_TEMPFILENAME: c_int = 16;

unsafe extern "C" fn real_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    match op {
        // A host temporary name (outside the preopens): none.
        SQLITE_FCNTL_TEMPFILENAME => ffi::SQLITE_NOTFOUND,
        // No memory-mapped I/O: the map would not be counted anywhere.
        ffi::SQLITE_FCNTL_MMAP_SIZE => {
            if !arg.is_null() {
                *(arg as *mut i64) = 0;
            }
            ffi::SQLITE_OK
        }
        _ => {
            let (r, m) = real(f);
            (m.xFileControl.unwrap())(r, op, arg)
        }
    }
}

unsafe extern "C" fn real_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    let (r, m) = real(f);
    (m.xSectorSize.unwrap())(r)
}

unsafe extern "C" fn real_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    let (r, m) = real(f);
    (m.xDeviceCharacteristics.unwrap())(r)
}

unsafe extern "C" fn real_shm_map(
    f: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let (r, m) = real(f);
    match m.xShmMap {
        Some(x) if m.iVersion >= 2 => x(r, region, size, extend, out),
        _ => ffi::SQLITE_IOERR,
    }
}

unsafe extern "C" fn real_shm_lock(
    f: *mut ffi::sqlite3_file,
    off: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let (r, m) = real(f);
    match m.xShmLock {
        Some(x) if m.iVersion >= 2 => x(r, off, n, flags),
        _ => ffi::SQLITE_IOERR,
    }
}

unsafe extern "C" fn real_shm_barrier(f: *mut ffi::sqlite3_file) {
    let (r, m) = real(f);
    if let Some(x) = m.xShmBarrier.filter(|_| m.iVersion >= 2) {
        x(r)
    }
}

unsafe extern "C" fn real_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    let (r, m) = real(f);
    match m.xShmUnmap {
        Some(x) if m.iVersion >= 2 => x(r, delete),
        _ => ffi::SQLITE_OK,
    }
}

/// Version 2: shared memory for WAL, but no `xFetch`, so no mmap.
static REAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(real_close),
    xRead: Some(real_read),
    xWrite: Some(real_write),
    xTruncate: Some(real_truncate),
    xSync: Some(real_sync),
    xFileSize: Some(real_file_size),
    xLock: Some(real_lock),
    xUnlock: Some(real_unlock),
    xCheckReservedLock: Some(real_check_reserved_lock),
    xFileControl: Some(real_file_control),
    xSectorSize: Some(real_sector_size),
    xDeviceCharacteristics: Some(real_device_characteristics),
    xShmMap: Some(real_shm_map),
    xShmLock: Some(real_shm_lock),
    xShmBarrier: Some(real_shm_barrier),
    xShmUnmap: Some(real_shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

// ------------------------------------------- temporary files: in memory

const CHUNK: usize = 64 << 10;

/// A temporary file in host memory, in chunks charged to the run's budget.
pub(crate) struct MemFile {
    chunks: Vec<Box<[u8]>>,
    size: u64,
    budget: Arc<Budget>,
}

impl MemFile {
    /// Make room for `end` bytes; false if the budget refuses.
    fn reserve(&mut self, end: u64) -> bool {
        let need = end.div_ceil(CHUNK as u64) as usize;
        while self.chunks.len() < need {
            if !self.budget.charge(CHUNK as u64) {
                return false;
            }
            self.chunks.push(vec![0u8; CHUNK].into_boxed_slice());
        }
        true
    }

    fn truncate(&mut self, size: u64) {
        if size >= self.size {
            return;
        }
        let keep = size.div_ceil(CHUNK as u64) as usize;
        for _ in keep..self.chunks.len() {
            self.chunks.pop();
            self.budget.release(CHUNK as u64);
        }
        // Bytes past the end read back as zeros if the file grows again.
        let tail = size as usize % CHUNK;
        if tail != 0 {
            if let Some(last) = self.chunks.last_mut() {
                last[tail..].fill(0);
            }
        }
        self.size = size;
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        self.budget.release((self.chunks.len() * CHUNK) as u64);
    }
}

unsafe fn mem<'a>(f: *mut ffi::sqlite3_file) -> &'a mut MemFile {
    &mut *(*(f as *mut ShimFile)).mem
}

unsafe extern "C" fn mem_close(f: *mut ffi::sqlite3_file) -> c_int {
    let shim = f as *mut ShimFile;
    drop(Box::from_raw((*shim).mem));
    (*shim).mem = std::ptr::null_mut();
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let file = mem(f);
    let out = std::slice::from_raw_parts_mut(buf as *mut u8, n.max(0) as usize);
    let (off, end) = (off.max(0) as u64, off.max(0) as u64 + out.len() as u64);
    let mut pos = off;
    while pos < end.min(file.size) {
        let (chunk, at) = ((pos / CHUNK as u64) as usize, (pos % CHUNK as u64) as usize);
        let len = (CHUNK - at).min((end.min(file.size) - pos) as usize);
        let dst = (pos - off) as usize;
        out[dst..dst + len].copy_from_slice(&file.chunks[chunk][at..at + len]);
        pos += len as u64;
    }
    if end > file.size {
        let from = file.size.saturating_sub(off).min(out.len() as u64) as usize;
        out[from..].fill(0);
        return ffi::SQLITE_IOERR_SHORT_READ;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let file = mem(f);
    let data = std::slice::from_raw_parts(buf as *const u8, n.max(0) as usize);
    let off = off.max(0) as u64;
    let end = off + data.len() as u64;
    if !file.reserve(end) {
        return ffi::SQLITE_FULL;
    }
    let mut pos = off;
    while pos < end {
        let (chunk, at) = ((pos / CHUNK as u64) as usize, (pos % CHUNK as u64) as usize);
        let len = (CHUNK - at).min((end - pos) as usize);
        let src = (pos - off) as usize;
        file.chunks[chunk][at..at + len].copy_from_slice(&data[src..src + len]);
        pos += len as u64;
    }
    file.size = file.size.max(end);
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let file = mem(f);
    let size = size.max(0) as u64;
    if size > file.size {
        if !file.reserve(size) {
            return ffi::SQLITE_FULL;
        }
        file.size = size;
    } else {
        file.truncate(size);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_sync(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    *size = mem(f).size as i64;
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_lock(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_check_reserved_lock(_: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    *out = 0;
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_file_control(
    _: *mut ffi::sqlite3_file,
    _: c_int,
    _: *mut c_void,
) -> c_int {
    ffi::SQLITE_NOTFOUND
}

unsafe extern "C" fn mem_sector_size(_: *mut ffi::sqlite3_file) -> c_int {
    4096
}

unsafe extern "C" fn mem_device_characteristics(_: *mut ffi::sqlite3_file) -> c_int {
    ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE
}

static MEM_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(mem_close),
    xRead: Some(mem_read),
    xWrite: Some(mem_write),
    xTruncate: Some(mem_truncate),
    xSync: Some(mem_sync),
    xFileSize: Some(mem_file_size),
    xLock: Some(mem_lock),
    xUnlock: Some(mem_lock),
    xCheckReservedLock: Some(mem_check_reserved_lock),
    xFileControl: Some(mem_file_control),
    xSectorSize: Some(mem_sector_size),
    xDeviceCharacteristics: Some(mem_device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

impl ConfinedVfs {
    pub fn new(dirs: Vec<GuestDir>, budget: Arc<Budget>) -> Result<Arc<ConfinedVfs>, SqliteError> {
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
            budget,
            refusal: Mutex::new(None),
        });
        // SAFETY: a copy of the default VFS with some methods replaced.
        let mut vfs = Box::new(unsafe { std::ptr::read(base) });
        vfs.szOsFile = (REAL_OFFSET + unsafe { (*base).szOsFile } as usize) as c_int;
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

    pub(crate) fn budget(&self) -> &Arc<Budget> {
        &self.data.budget
    }
}

impl Drop for ConfinedVfs {
    fn drop(&mut self) {
        unsafe { ffi::sqlite3_vfs_unregister(&mut *self.vfs) };
        let _ = &self.name;
    }
}
