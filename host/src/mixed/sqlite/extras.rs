//! The rest of CPython's connection API over the host's libsqlite3:
//! incremental BLOB I/O, online backup, serialize/deserialize and limits.
//! All of it stays inside the run's confinement: a blob or a backup works
//! on connections the guest opened through the sandbox's VFS, and a
//! deserialized database lives in sqlite's memory, charged to the run's
//! budget.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

use libsqlite3_sys as ffi;
use wasmtime::component::Resource;

use super::{refused, stale, standalone_error, ConnInner, Connection};
use crate::bindings::wasmffi::ffi::sqlite::{BackupProgress, HostBackup, HostBlob, SqliteError};
use crate::bindings::FfiError;
use crate::state::HostState;

extern "C" {
    // Since sqlite 3.23; absent from libsqlite3-sys's default bindings.
    fn sqlite3_serialize(
        db: *mut ffi::sqlite3,
        schema: *const c_char,
        size: *mut i64,
        flags: u32,
    ) -> *mut u8;
    fn sqlite3_deserialize(
        db: *mut ffi::sqlite3,
        schema: *const c_char,
        data: *mut u8,
        size: i64,
        capacity: i64,
        flags: u32,
    ) -> c_int;
}
const SQLITE_SERIALIZE_NOCOPY: u32 = 1;
const SQLITE_DESERIALIZE_FREEONCLOSE: u32 = 1;
const SQLITE_DESERIALIZE_RESIZEABLE: u32 = 2;

fn c_name(s: &str) -> Result<CString, SqliteError> {
    CString::new(s)
        .map_err(|_| refused(FfiError::InvalidArgument("embedded null character".into())))
}

pub struct Blob {
    blob: *mut ffi::sqlite3_blob,
    conn: Arc<ConnInner>,
    open: bool,
}

// SAFETY: the run's store is used on one thread at a time.
unsafe impl Send for Blob {}

impl Blob {
    fn close(&mut self) {
        if self.open {
            self.open = false;
            if !self.conn.is_abandoned() {
                let _charging = self.conn.charging();
                unsafe { ffi::sqlite3_blob_close(self.blob) };
            }
        }
    }

    fn live(&self) -> Result<*mut ffi::sqlite3_blob, SqliteError> {
        self.conn.live()?;
        if !self.open {
            return Err(refused(FfiError::InvalidArgument(
                "the blob is closed".into(),
            )));
        }
        Ok(self.blob)
    }

    /// `offset..offset + len` inside the blob.
    fn span(&self, offset: i32, len: usize) -> Result<(), SqliteError> {
        let size = unsafe { ffi::sqlite3_blob_bytes(self.live()?) } as i64;
        if offset < 0 || offset as i64 + len as i64 > size {
            return Err(refused(FfiError::InvalidArgument(format!(
                "blob range {offset}..+{len} is outside its {size} bytes"
            ))));
        }
        Ok(())
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        self.close();
    }
}

pub(crate) fn blob_open(
    state: &mut HostState,
    conn: Arc<ConnInner>,
    schema: &str,
    table: &str,
    column: &str,
    row: i64,
    readonly: bool,
) -> Result<Resource<Blob>, SqliteError> {
    let db = conn.live()?;
    let (schema, table, column) = (c_name(schema)?, c_name(table)?, c_name(column)?);
    let _charging = conn.charging();
    let mut blob = std::ptr::null_mut();
    let rc = unsafe {
        ffi::sqlite3_blob_open(
            db,
            schema.as_ptr(),
            table.as_ptr(),
            column.as_ptr(),
            row,
            (!readonly) as c_int,
            &mut blob,
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(conn.error(rc));
    }
    state
        .table
        .push(Blob {
            blob,
            conn,
            open: true,
        })
        .map_err(|e| refused(FfiError::LimitExceeded(format!("sqlite handles: {e}"))))
}

impl HostBlob for HostState {
    fn size(&mut self, this: Resource<Blob>) -> i32 {
        match self.table.get(&this).map(|b| b.live()) {
            Ok(Ok(blob)) => unsafe { ffi::sqlite3_blob_bytes(blob) },
            _ => 0,
        }
    }

    fn read(
        &mut self,
        this: Resource<Blob>,
        offset: i32,
        length: i32,
    ) -> Result<Vec<u8>, SqliteError> {
        let b = self.table.get(&this).map_err(stale)?;
        let len = length.max(0) as usize;
        b.span(offset, len)?;
        let mut out = vec![0u8; len];
        let _charging = b.conn.charging();
        let rc = unsafe {
            ffi::sqlite3_blob_read(
                b.blob,
                out.as_mut_ptr() as *mut c_void,
                len as c_int,
                offset,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(b.conn.error(rc));
        }
        Ok(out)
    }

    fn write(
        &mut self,
        this: Resource<Blob>,
        offset: i32,
        data: Vec<u8>,
    ) -> Result<(), SqliteError> {
        let b = self.table.get(&this).map_err(stale)?;
        b.span(offset, data.len())?;
        let _charging = b.conn.charging();
        let rc = unsafe {
            ffi::sqlite3_blob_write(
                b.blob,
                data.as_ptr() as *const c_void,
                data.len() as c_int,
                offset,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(b.conn.error(rc));
        }
        Ok(())
    }

    fn close(&mut self, this: Resource<Blob>) {
        if let Ok(b) = self.table.get_mut(&this) {
            b.close();
        }
    }

    fn drop(&mut self, this: Resource<Blob>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

pub struct Backup {
    backup: *mut ffi::sqlite3_backup,
    source: Arc<ConnInner>,
    target: Arc<ConnInner>,
}

// SAFETY: the run's store is used on one thread at a time.
unsafe impl Send for Backup {}

impl Backup {
    fn finish(&mut self) -> c_int {
        if self.backup.is_null() {
            return ffi::SQLITE_OK;
        }
        let backup = std::mem::replace(&mut self.backup, std::ptr::null_mut());
        if self.source.is_abandoned() || self.target.is_abandoned() {
            return ffi::SQLITE_OK;
        }
        let _charging = self.target.charging();
        unsafe { ffi::sqlite3_backup_finish(backup) }
    }
}

impl Drop for Backup {
    fn drop(&mut self) {
        self.finish();
    }
}

pub(crate) fn backup_to(
    state: &mut HostState,
    source: Arc<ConnInner>,
    name: &str,
    target: Resource<Connection>,
    target_name: &str,
) -> Result<Resource<Backup>, SqliteError> {
    let target = state.table.get(&target).map_err(stale)?.0.clone();
    let (src_db, dst_db) = (source.live()?, target.live()?);
    let (name, target_name) = (c_name(name)?, c_name(target_name)?);
    let _charging = target.charging();
    let backup =
        unsafe { ffi::sqlite3_backup_init(dst_db, target_name.as_ptr(), src_db, name.as_ptr()) };
    if backup.is_null() {
        return Err(target.error(ffi::SQLITE_ERROR));
    }
    state
        .table
        .push(Backup {
            backup,
            source,
            target,
        })
        .map_err(|e| refused(FfiError::LimitExceeded(format!("sqlite handles: {e}"))))
}

impl HostBackup for HostState {
    fn step(&mut self, this: Resource<Backup>, pages: i32) -> Result<BackupProgress, SqliteError> {
        let b = self.table.get(&this).map_err(stale)?;
        b.source.live()?;
        b.target.live()?;
        if b.backup.is_null() {
            return Err(refused(FfiError::InvalidArgument(
                "the backup is finished".into(),
            )));
        }
        let _charging = b.target.charging();
        unsafe {
            let status = ffi::sqlite3_backup_step(b.backup, pages);
            Ok(BackupProgress {
                status,
                remaining: ffi::sqlite3_backup_remaining(b.backup),
                pagecount: ffi::sqlite3_backup_pagecount(b.backup),
            })
        }
    }

    fn finish(&mut self, this: Resource<Backup>) -> Result<(), SqliteError> {
        let b = self.table.get_mut(&this).map_err(stale)?;
        let rc = b.finish();
        if rc != ffi::SQLITE_OK {
            return Err(b.target.error(rc));
        }
        Ok(())
    }

    fn drop(&mut self, this: Resource<Backup>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

pub(crate) fn serialize(conn: &ConnInner, schema: &str) -> Result<Option<Vec<u8>>, SqliteError> {
    let db = conn.live()?;
    let schema = c_name(schema)?;
    let _charging = conn.charging();
    let mut size: i64 = 0;
    unsafe {
        let data = sqlite3_serialize(db, schema.as_ptr(), &mut size, SQLITE_SERIALIZE_NOCOPY);
        if !data.is_null() {
            return Ok(Some(
                std::slice::from_raw_parts(data, size as usize).to_vec(),
            ));
        }
        let data = sqlite3_serialize(db, schema.as_ptr(), &mut size, 0);
        if data.is_null() {
            return Ok(None);
        }
        let out = std::slice::from_raw_parts(data, size as usize).to_vec();
        ffi::sqlite3_free(data as *mut c_void);
        Ok(Some(out))
    }
}

pub(crate) fn deserialize(conn: &ConnInner, schema: &str, data: &[u8]) -> Result<(), SqliteError> {
    let db = conn.live()?;
    let schema = c_name(schema)?;
    let _charging = conn.charging();
    let size = data.len() as i64;
    unsafe {
        // Charged to the run's budget; sqlite frees it with the database.
        let buf = ffi::sqlite3_malloc64(data.len().max(1) as u64) as *mut u8;
        if buf.is_null() {
            return Err(standalone_error(ffi::SQLITE_NOMEM, "out of memory".into()));
        }
        std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len());
        let rc = sqlite3_deserialize(
            db,
            schema.as_ptr(),
            buf,
            size,
            size,
            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE,
        );
        if rc != ffi::SQLITE_OK {
            return Err(conn.error(rc));
        }
    }
    Ok(())
}

/// `sqlite3_limit`. The sandbox keeps sorter threads off (their
/// allocations would escape the budget): that limit only reads.
pub(crate) fn limit(conn: &ConnInner, category: i32, value: i32) -> i32 {
    let Ok(db) = conn.live() else { return -1 };
    let value = if category == ffi::SQLITE_LIMIT_WORKER_THREADS {
        -1
    } else {
        value
    };
    unsafe { ffi::sqlite3_limit(db, category, value) }
}
