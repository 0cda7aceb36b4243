//! `wasmffi:ffi/sqlite`: the mixed module `sqlite3`, done by the host's
//! libsqlite3 (through `libsqlite3-sys`, linked to Debian's libsqlite3).
//!
//! Confinement: every database a guest opens uses a VFS of this run that
//! wraps the default one. Its `xFullPathname` maps the *guest* path sqlite was
//! given (main database, ATTACH, VACUUM INTO) through the guest's preopened
//! directories, refusing anything outside them; `xOpen`, `xDelete` and
//! `xAccess` refuse host paths (journals, WAL files) outside them; `xDlOpen`
//! loads nothing. URI file names are switched off process-wide (a `vfs=`
//! parameter could otherwise pick the unconfined VFS), extension loading is
//! off and the connection is in defensive mode.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use libsqlite3_sys as ffi;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::sqlite::{
    DbError, Host, HostConnection, HostStatement, OpenOptions, Rows, SqliteError, StatementInfo,
    Value,
};
use crate::bindings::FfiError;
use crate::sqlite_vfs::ConfinedVfs;
use crate::state::HostState;

const MODULE: &str = "sqlite3";

extern "C" {
    // In every sqlite since 3.7.14; missing from libsqlite3-sys's bindings.
    fn sqlite3_close_v2(db: *mut ffi::sqlite3) -> c_int;
}
const SQLITE_OPEN_NOFOLLOW: c_int = 0x0100_0000;
const SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION: c_int = 1005;
const SQLITE_DBCONFIG_DEFENSIVE: c_int = 1010;

/// Whether URI file names are off process-wide (set once, before any use).
pub(crate) fn uri_off() -> bool {
    static URI_OFF: OnceLock<bool> = OnceLock::new();
    *URI_OFF.get_or_init(|| unsafe {
        ffi::sqlite3_shutdown();
        let rc = ffi::sqlite3_config(ffi::SQLITE_CONFIG_URI, 0 as c_int);
        ffi::sqlite3_initialize();
        rc == ffi::SQLITE_OK
    })
}

// ------------------------------------------------------ connections, statements

struct ConnInner {
    db: *mut ffi::sqlite3,
    closed: AtomicBool,
    vfs: Arc<ConfinedVfs>,
}

unsafe impl Send for ConnInner {}
unsafe impl Sync for ConnInner {}

impl Drop for ConnInner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            // close_v2: statements still alive keep it a zombie until finalised.
            unsafe { sqlite3_close_v2(self.db) };
        }
    }
}

impl ConnInner {
    fn live(&self) -> Result<*mut ffi::sqlite3, SqliteError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(SqliteError::Sqlite(DbError {
                code: ffi::SQLITE_MISUSE,
                name: "SQLITE_MISUSE".into(),
                message: "Cannot operate on a closed database.".into(),
            }));
        }
        Ok(self.db)
    }

    fn error(&self, rc: c_int) -> SqliteError {
        let (code, mut message) = unsafe {
            let code = ffi::sqlite3_extended_errcode(self.db);
            let code = if code == ffi::SQLITE_OK { rc } else { code };
            let msg = ffi::sqlite3_errmsg(self.db);
            let message = if msg.is_null() {
                String::new()
            } else {
                CStr::from_ptr(msg).to_string_lossy().into_owned()
            };
            (code, message)
        };
        if let Some(why) = self.vfs.take_refusal() {
            message = format!("{message} ({why})");
        }
        SqliteError::Sqlite(DbError {
            code,
            name: error_name(code),
            message,
        })
    }
}

pub struct Connection(Arc<ConnInner>);

pub struct Statement {
    stmt: *mut ffi::sqlite3_stmt,
    conn: Arc<ConnInner>,
}

unsafe impl Send for Statement {}

impl Drop for Statement {
    fn drop(&mut self) {
        unsafe { ffi::sqlite3_finalize(self.stmt) };
    }
}

pub(crate) fn refused(e: FfiError) -> SqliteError {
    SqliteError::Refused(e)
}

fn check(state: &HostState) -> Result<(), SqliteError> {
    state.policy.check_module(MODULE).map_err(refused)
}

fn standalone_error(code: c_int, message: String) -> SqliteError {
    SqliteError::Sqlite(DbError {
        code,
        name: error_name(code),
        message,
    })
}

/// Deny what would let SQL reach outside the sandbox.
unsafe extern "C" fn authorizer(
    user: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    _db: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    let text = |p: *const c_char| {
        (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().to_ascii_lowercase())
    };
    match action {
        ffi::SQLITE_PRAGMA => {
            let name = text(arg1).unwrap_or_default();
            if (name == "temp_store_directory" || name == "data_store_directory") && !arg2.is_null()
            {
                return ffi::SQLITE_DENY;
            }
        }
        ffi::SQLITE_ATTACH => {
            // Only needed when URI names could not be switched off.
            let uri_on = !user.is_null();
            if uri_on && text(arg1).map_or(true, |f| f.starts_with("file:")) {
                return ffi::SQLITE_DENY;
            }
        }
        _ => {}
    }
    ffi::SQLITE_OK
}

/// `file:PATH?mode=...` as CPython's `uri=True` would open it, without
/// handing URI processing to sqlite (its `vfs=` would escape the VFS).
fn parse_uri(uri: &str) -> Result<(String, c_int), SqliteError> {
    let bad = |m: String| standalone_error(ffi::SQLITE_CANTOPEN, m);
    let Some(rest) = uri.strip_prefix("file:") else {
        return Ok((uri.to_owned(), 0));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split('#').next().unwrap_or("");
    let path = path
        .strip_prefix("//localhost")
        .or_else(|| path.strip_prefix("//"))
        .unwrap_or(path);
    let path = percent_decode(path).ok_or_else(|| bad(format!("invalid uri: {uri}")))?;
    let mut flags = 0;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key).ok_or_else(|| bad(format!("invalid uri: {uri}")))?;
        let value = percent_decode(value).ok_or_else(|| bad(format!("invalid uri: {uri}")))?;
        match key.as_str() {
            "mode" => {
                flags = match value.as_str() {
                    "ro" => ffi::SQLITE_OPEN_READONLY,
                    "rw" => ffi::SQLITE_OPEN_READWRITE,
                    "rwc" => ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                    "memory" => return Ok((":memory:".into(), 0)),
                    other => return Err(bad(format!("no such access mode: {other}"))),
                }
            }
            "vfs" => {
                return Err(refused(FfiError::NotPermitted(
                    "uri parameter vfs= is not allowed: databases use the sandbox's VFS".into(),
                )))
            }
            // cache=, immutable=, nolock=, psow=: harmless, ignored.
            _ => {}
        }
    }
    Ok((path, flags))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl HostConnection for HostState {
    fn open(
        &mut self,
        path: String,
        options: OpenOptions,
    ) -> Result<Resource<Connection>, SqliteError> {
        check(self)?;
        let (path, uri_flags) = if options.uri {
            parse_uri(&path)?
        } else {
            (path, 0)
        };
        let mut flags = if uri_flags != 0 {
            uri_flags
        } else {
            ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE
        };
        if path.contains('\0') {
            return Err(refused(FfiError::InvalidArgument(
                "embedded null character in path".into(),
            )));
        }
        let memory = path.is_empty() || path == ":memory:";
        if !memory {
            // A clear message up front; the VFS enforces it regardless.
            let resolved = self.mixed.resolve(&path).map_err(|e| match e {
                FfiError::NotPermitted(m) => standalone_error(
                    ffi::SQLITE_CANTOPEN,
                    format!("unable to open database file: {m}"),
                ),
                other => refused(other),
            })?;
            if !resolved.writable {
                flags = ffi::SQLITE_OPEN_READONLY;
            }
            flags |= SQLITE_OPEN_NOFOLLOW;
        }
        let vfs = match &self.mixed.sqlite_vfs {
            Some(v) => v.clone(),
            None => {
                let v = ConfinedVfs::new(self.mixed.dirs.clone())?;
                self.mixed.sqlite_vfs = Some(v.clone());
                v
            }
        };
        let cpath = CString::new(path.clone()).unwrap();
        let mut db = std::ptr::null_mut();
        let rc = unsafe { ffi::sqlite3_open_v2(cpath.as_ptr(), &mut db, flags, vfs.name.as_ptr()) };
        let inner = ConnInner {
            db,
            closed: AtomicBool::new(db.is_null()),
            vfs,
        };
        if rc != ffi::SQLITE_OK {
            if db.is_null() {
                return Err(standalone_error(rc, "out of memory".into()));
            }
            return Err(inner.error(rc));
        }
        unsafe {
            ffi::sqlite3_extended_result_codes(db, 1);
            ffi::sqlite3_busy_timeout(db, options.timeout_ms.min(i32::MAX as u32) as c_int);
            ffi::sqlite3_db_config(
                db,
                SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
                0 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
            ffi::sqlite3_db_config(
                db,
                SQLITE_DBCONFIG_DEFENSIVE,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
            let uri_on = if uri_off() {
                std::ptr::null_mut()
            } else {
                1 as *mut c_void
            };
            ffi::sqlite3_set_authorizer(db, Some(authorizer), uri_on);
        }
        self.table
            .push(Connection(Arc::new(inner)))
            .map_err(|e| refused(FfiError::LimitExceeded(format!("sqlite handles: {e}"))))
    }

    fn prepare(
        &mut self,
        this: Resource<Connection>,
        sql: String,
    ) -> Result<(Option<Resource<Statement>>, bool), SqliteError> {
        check(self)?;
        let conn = self.table.get(&this).map_err(stale)?.0.clone();
        let db = conn.live()?;
        if sql.len() > i32::MAX as usize {
            return Err(standalone_error(
                ffi::SQLITE_TOOBIG,
                "query string is too large".into(),
            ));
        }
        let mut stmt = std::ptr::null_mut();
        let mut tail: *const c_char = std::ptr::null();
        let start = sql.as_ptr() as *const c_char;
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, start, sql.len() as c_int, &mut stmt, &mut tail) };
        if rc != ffi::SQLITE_OK {
            return Err(conn.error(rc));
        }
        let consumed = if tail.is_null() {
            sql.len()
        } else {
            tail as usize - start as usize
        };
        let more = consumed < sql.len() && {
            let rest = &sql[consumed..];
            let mut next = std::ptr::null_mut();
            let mut t2: *const c_char = std::ptr::null();
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(
                    db,
                    rest.as_ptr() as *const c_char,
                    rest.len() as c_int,
                    &mut next,
                    &mut t2,
                )
            };
            if !next.is_null() {
                unsafe { ffi::sqlite3_finalize(next) };
            }
            rc != ffi::SQLITE_OK || !next.is_null()
        };
        if stmt.is_null() {
            return Ok((None, more));
        }
        let handle = self
            .table
            .push(Statement { stmt, conn })
            .map_err(|e| refused(FfiError::LimitExceeded(format!("sqlite handles: {e}"))))?;
        Ok((Some(handle), more))
    }

    fn execute_script(
        &mut self,
        this: Resource<Connection>,
        sql: String,
    ) -> Result<(), SqliteError> {
        check(self)?;
        let conn = self.table.get(&this).map_err(stale)?.0.clone();
        let db = conn.live()?;
        let csql = CString::new(sql).map_err(|_| {
            refused(FfiError::InvalidArgument(
                "the query contains a null character".into(),
            ))
        })?;
        let mut errmsg: *mut c_char = std::ptr::null_mut();
        let rc = unsafe {
            ffi::sqlite3_exec(db, csql.as_ptr(), None, std::ptr::null_mut(), &mut errmsg)
        };
        if !errmsg.is_null() {
            unsafe { ffi::sqlite3_free(errmsg as *mut c_void) };
        }
        if rc != ffi::SQLITE_OK {
            return Err(conn.error(rc));
        }
        Ok(())
    }

    fn autocommit(&mut self, this: Resource<Connection>) -> bool {
        match self.table.get(&this).map(|c| c.0.clone()) {
            Ok(conn) => match conn.live() {
                Ok(db) => unsafe { ffi::sqlite3_get_autocommit(db) != 0 },
                Err(_) => true,
            },
            Err(_) => true,
        }
    }

    fn total_changes(&mut self, this: Resource<Connection>) -> i64 {
        match self.table.get(&this).map(|c| c.0.clone()) {
            Ok(conn) => match conn.live() {
                Ok(db) => unsafe { ffi::sqlite3_total_changes(db) as i64 },
                Err(_) => 0,
            },
            Err(_) => 0,
        }
    }

    fn close(&mut self, this: Resource<Connection>) -> Result<(), SqliteError> {
        let conn = self.table.get(&this).map_err(stale)?.0.clone();
        if !conn.closed.swap(true, Ordering::SeqCst) {
            unsafe { sqlite3_close_v2(conn.db) };
        }
        Ok(())
    }

    fn interrupt(&mut self, this: Resource<Connection>) {
        if let Ok(conn) = self.table.get(&this) {
            if let Ok(db) = conn.0.live() {
                unsafe { ffi::sqlite3_interrupt(db) };
            }
        }
    }

    fn drop(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

fn stale(e: impl std::fmt::Display) -> SqliteError {
    refused(FfiError::InvalidArgument(format!("sqlite handle: {e}")))
}

unsafe fn opt_str(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

unsafe fn column(stmt: *mut ffi::sqlite3_stmt, i: c_int) -> Value {
    match ffi::sqlite3_column_type(stmt, i) {
        ffi::SQLITE_INTEGER => Value::Integer(ffi::sqlite3_column_int64(stmt, i)),
        ffi::SQLITE_FLOAT => Value::Real(ffi::sqlite3_column_double(stmt, i)),
        ffi::SQLITE_TEXT => {
            let p = ffi::sqlite3_column_text(stmt, i);
            let n = ffi::sqlite3_column_bytes(stmt, i) as usize;
            let bytes = if p.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(p, n)
            };
            match std::str::from_utf8(bytes) {
                Ok(s) => Value::Text(s.to_owned()),
                Err(_) => Value::TextBytes(bytes.to_vec()),
            }
        }
        ffi::SQLITE_BLOB => {
            let p = ffi::sqlite3_column_blob(stmt, i) as *const u8;
            let n = ffi::sqlite3_column_bytes(stmt, i) as usize;
            Value::Blob(if p.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, n).to_vec()
            })
        }
        _ => Value::Null,
    }
}

impl Statement {
    fn step(&self, max_rows: u32) -> Result<Rows, SqliteError> {
        let db = self.conn.live()?;
        let ncols = unsafe { ffi::sqlite3_column_count(self.stmt) };
        let mut rows = Vec::new();
        let mut done = false;
        loop {
            let rc = unsafe { ffi::sqlite3_step(self.stmt) };
            match rc {
                ffi::SQLITE_ROW => {
                    rows.push(
                        (0..ncols)
                            .map(|i| unsafe { column(self.stmt, i) })
                            .collect(),
                    );
                    if rows.len() >= max_rows.max(1) as usize {
                        break;
                    }
                }
                ffi::SQLITE_DONE => {
                    done = true;
                    break;
                }
                rc => {
                    let err = self.conn.error(rc);
                    unsafe { ffi::sqlite3_reset(self.stmt) };
                    return Err(err);
                }
            }
        }
        let (changes, last_insert_rowid) = unsafe {
            (
                ffi::sqlite3_changes(db) as i64,
                ffi::sqlite3_last_insert_rowid(db),
            )
        };
        if done {
            unsafe { ffi::sqlite3_reset(self.stmt) };
        }
        Ok(Rows {
            rows,
            done,
            changes,
            last_insert_rowid,
        })
    }

    fn bind(&self, params: Vec<Value>) -> Result<(), SqliteError> {
        for (i, value) in params.into_iter().enumerate() {
            let pos = i as c_int + 1;
            let rc = unsafe {
                match value {
                    Value::Null => ffi::sqlite3_bind_null(self.stmt, pos),
                    Value::Integer(v) => ffi::sqlite3_bind_int64(self.stmt, pos, v),
                    Value::Real(v) => ffi::sqlite3_bind_double(self.stmt, pos, v),
                    Value::Text(s) => ffi::sqlite3_bind_text64(
                        self.stmt,
                        pos,
                        s.as_ptr() as *const c_char,
                        s.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::TextBytes(b) => ffi::sqlite3_bind_text64(
                        self.stmt,
                        pos,
                        b.as_ptr() as *const c_char,
                        b.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(b) => ffi::sqlite3_bind_blob64(
                        self.stmt,
                        pos,
                        b.as_ptr() as *const c_void,
                        b.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.conn.error(rc));
            }
        }
        Ok(())
    }
}

impl HostStatement for HostState {
    fn info(&mut self, this: Resource<Statement>) -> StatementInfo {
        let Ok(s) = self.table.get(&this) else {
            return StatementInfo {
                column_names: vec![],
                decltypes: vec![],
                parameters: vec![],
                readonly: true,
            };
        };
        unsafe {
            let ncols = ffi::sqlite3_column_count(s.stmt);
            let nparams = ffi::sqlite3_bind_parameter_count(s.stmt);
            StatementInfo {
                column_names: (0..ncols)
                    .map(|i| opt_str(ffi::sqlite3_column_name(s.stmt, i)).unwrap_or_default())
                    .collect(),
                decltypes: (0..ncols)
                    .map(|i| opt_str(ffi::sqlite3_column_decltype(s.stmt, i)))
                    .collect(),
                parameters: (1..=nparams)
                    .map(|i| opt_str(ffi::sqlite3_bind_parameter_name(s.stmt, i)))
                    .collect(),
                readonly: ffi::sqlite3_stmt_readonly(s.stmt) != 0,
            }
        }
    }

    fn run(
        &mut self,
        this: Resource<Statement>,
        params: Vec<Value>,
        max_rows: u32,
    ) -> Result<Rows, SqliteError> {
        check(self)?;
        let s = self.table.get(&this).map_err(stale)?;
        s.conn.live()?;
        unsafe {
            ffi::sqlite3_reset(s.stmt);
            ffi::sqlite3_clear_bindings(s.stmt);
        }
        s.bind(params)?;
        s.step(max_rows)
    }

    fn fetch(&mut self, this: Resource<Statement>, max_rows: u32) -> Result<Rows, SqliteError> {
        check(self)?;
        let s = self.table.get(&this).map_err(stale)?;
        s.step(max_rows)
    }

    fn reset(&mut self, this: Resource<Statement>) {
        if let Ok(s) = self.table.get(&this) {
            if s.conn.live().is_ok() {
                unsafe {
                    ffi::sqlite3_reset(s.stmt);
                    ffi::sqlite3_clear_bindings(s.stmt);
                }
            }
        }
    }

    fn drop(&mut self, this: Resource<Statement>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl Host for HostState {}

/// CPython's `sqlite_errorname`: the symbolic name of a result code.
fn error_name(code: c_int) -> String {
    let name = match code {
        0 => "SQLITE_OK",
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        27 => "SQLITE_NOTICE",
        28 => "SQLITE_WARNING",
        100 => "SQLITE_ROW",
        101 => "SQLITE_DONE",
        261 => "SQLITE_BUSY_RECOVERY",
        262 => "SQLITE_LOCKED_SHAREDCACHE",
        264 => "SQLITE_READONLY_RECOVERY",
        266 => "SQLITE_IOERR_READ",
        267 => "SQLITE_CORRUPT_VTAB",
        270 => "SQLITE_CANTOPEN_NOTEMPDIR",
        275 => "SQLITE_CONSTRAINT_CHECK",
        516 => "SQLITE_ABORT_ROLLBACK",
        517 => "SQLITE_BUSY_SNAPSHOT",
        520 => "SQLITE_READONLY_CANTLOCK",
        522 => "SQLITE_IOERR_SHORT_READ",
        526 => "SQLITE_CANTOPEN_ISDIR",
        531 => "SQLITE_CONSTRAINT_COMMITHOOK",
        776 => "SQLITE_READONLY_ROLLBACK",
        778 => "SQLITE_IOERR_WRITE",
        782 => "SQLITE_CANTOPEN_FULLPATH",
        787 => "SQLITE_CONSTRAINT_FOREIGNKEY",
        1032 => "SQLITE_READONLY_DBMOVED",
        1043 => "SQLITE_CONSTRAINT_FUNCTION",
        1299 => "SQLITE_CONSTRAINT_NOTNULL",
        1555 => "SQLITE_CONSTRAINT_PRIMARYKEY",
        1811 => "SQLITE_CONSTRAINT_TRIGGER",
        2067 => "SQLITE_CONSTRAINT_UNIQUE",
        2323 => "SQLITE_CONSTRAINT_VTAB",
        2579 => "SQLITE_CONSTRAINT_ROWID",
        2835 => "SQLITE_CONSTRAINT_PINNED",
        3091 => "SQLITE_CONSTRAINT_DATATYPE",
        // An extended code this table lacks: its primary code's name.
        _ if code & 0xff != code => return error_name(code & 0xff),
        _ => "SQLITE_UNKNOWN",
    };
    name.to_owned()
}
