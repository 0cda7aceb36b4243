//! `wasmffi:ffi/sqlite`: the mixed module `sqlite3`, done by the host's
//! libsqlite3 (through `libsqlite3-sys`, linked to Debian's libsqlite3).
//!
//! Confinement (the VFS in sqlite_vfs.rs, the memory budget in
//! sqlite_budget.rs, the authorizer and the deadline's handlers in
//! sqlite_guard.rs):
//!
//! - Files: every database a guest opens uses a VFS of this run that wraps
//!   the default one; sqlite sees guest paths only, each file is mapped
//!   through the preopens when it is opened, and temporary files live in
//!   memory. URI file names are switched off process-wide (a `vfs=`
//!   parameter could otherwise pick the unconfined VFS).
//! - Pointers: nothing from SQL exchanges a host pointer. `fts3_tokenizer()`
//!   hands out and takes function-table pointers (Debian builds it enabled,
//!   and a *bound* argument is accepted even when disabled), so the
//!   authorizer refuses the function outright, as `load_extension()`;
//!   extension loading and the fts3 tokenizer are off, defensive mode on,
//!   the schema untrusted (`PRAGMA trusted_schema` cannot turn it on), no
//!   worker threads (their allocations would escape the budget), no mmap.
//!   Pragmas that change process-wide state (`hard_heap_limit`,
//!   `soft_heap_limit`, `temp_store_directory`) are refused.
//! - Memory: sqlite's heap and temporary files of a run are bounded by
//!   `limits.sqlite_memory`: MemoryError or OperationalError past it.
//! - Time: with `limits.cpu_time`, a progress handler interrupts a running
//!   statement at the run's deadline and the busy handler stops waiting
//!   there; the guest then meets the deadline (exit 124) at its next step.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libsqlite3_sys as ffi;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::sqlite::{
    DbError, Host, HostConnection, HostStatement, OpenOptions, Rows, SqliteError, StatementInfo,
    Value,
};
use crate::bindings::FfiError;
use crate::sqlite_budget::Charging;
use crate::sqlite_guard::{authorizer, busy, progress, ConnCtx};
use crate::sqlite_vfs::ConfinedVfs;
use crate::state::HostState;

const MODULE: &str = "sqlite3";

extern "C" {
    // In every sqlite since 3.7.14; missing from libsqlite3-sys's bindings.
    fn sqlite3_close_v2(db: *mut ffi::sqlite3) -> c_int;
}
const SQLITE_OPEN_NOFOLLOW: c_int = 0x0100_0000;
const SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER: c_int = 1004;
const SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION: c_int = 1005;
const SQLITE_DBCONFIG_DEFENSIVE: c_int = 1010;
const SQLITE_DBCONFIG_TRUSTED_SCHEMA: c_int = 1017;

extern "C" {
    // Since sqlite 3.31; missing from libsqlite3-sys's bindings.
    fn sqlite3_hard_heap_limit64(n: i64) -> i64;
}

/// What was set process-wide, once, before any database was opened.
struct ProcessConfig {
    uri_off: bool,
    /// sqlite allocates through the budget-keeping allocator.
    accounted: bool,
}

fn process_config() -> &'static ProcessConfig {
    static CONFIG: OnceLock<ProcessConfig> = OnceLock::new();
    CONFIG.get_or_init(|| unsafe {
        ffi::sqlite3_shutdown();
        let rc = ffi::sqlite3_config(ffi::SQLITE_CONFIG_URI, 0 as c_int);
        let accounted = crate::sqlite_budget::configure_process();
        ffi::sqlite3_initialize();
        ProcessConfig {
            uri_off: rc == ffi::SQLITE_OK,
            accounted,
        }
    })
}

/// Whether URI file names are off process-wide (set once, before any use).
pub(crate) fn uri_off() -> bool {
    process_config().uri_off
}

/// How long past the deadline an interrupted call waits before returning, so
/// that the epoch ticker (every 10 ms) has passed the run's deadline and the
/// guest's next instruction ends the run (exit 124) rather than Python
/// seeing an ordinary error first.
const DEADLINE_SETTLE: Duration = Duration::from_millis(40);

// ------------------------------------------------------ connections, statements

struct ConnInner {
    db: *mut ffi::sqlite3,
    closed: AtomicBool,
    vfs: Arc<ConfinedVfs>,
    /// sqlite's callbacks point here; outlives `db` (closed in `drop`).
    ctx: Box<ConnCtx>,
}

unsafe impl Send for ConnInner {}
unsafe impl Sync for ConnInner {}

impl Drop for ConnInner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            // close_v2: statements still alive keep it a zombie until finalised.
            let _charging = self.charging();
            unsafe { sqlite3_close_v2(self.db) };
        }
    }
}

impl ConnInner {
    /// Charge sqlite's allocations on this thread to the run's budget.
    fn charging(&self) -> Charging {
        Charging::new(Some(self.vfs.budget().clone()))
    }

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
        let mut notes = Vec::new();
        notes.extend(self.vfs.take_refusal());
        notes.extend(
            self.ctx
                .note
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let budget = self.vfs.budget();
        if budget.take_hit() {
            notes.push(format!(
                "sqlite's memory and temporary files of this run reached limits.sqlite_memory \
                 ({} bytes)",
                budget.limit
            ));
        }
        if self.ctx.past_deadline() {
            notes.push("the run is past its time limit (limits.cpu_time)".into());
            std::thread::sleep(DEADLINE_SETTLE);
        }
        if !notes.is_empty() {
            message = format!("{message} ({})", notes.join("; "));
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
        let _charging = self.conn.charging();
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
                let limit = self.policy.limits.sqlite_memory;
                let v = ConfinedVfs::new(
                    self.mixed.dirs.clone(),
                    crate::sqlite_budget::Budget::new(limit),
                )?;
                if !process_config().accounted {
                    // Without the accounting allocator (sqlite was in use
                    // before): sqlite's process-wide limit is the fallback.
                    unsafe { sqlite3_hard_heap_limit64(limit.min(i64::MAX as u64) as i64) };
                }
                self.mixed.sqlite_vfs = Some(v.clone());
                v
            }
        };
        let ctx = Box::new(ConnCtx {
            deadline: self
                .policy
                .limits
                .cpu_time
                .map(|limit| self.mixed.started + limit),
            busy_timeout: Duration::from_millis(options.timeout_ms as u64),
            uri_on: !uri_off(),
            note: Mutex::new(None),
        });
        let _charging = Charging::new(Some(vfs.budget().clone()));
        let cpath = CString::new(path.clone()).unwrap();
        let mut db = std::ptr::null_mut();
        let rc = unsafe { ffi::sqlite3_open_v2(cpath.as_ptr(), &mut db, flags, vfs.name.as_ptr()) };
        let inner = ConnInner {
            db,
            closed: AtomicBool::new(db.is_null()),
            vfs,
            ctx,
        };
        if rc != ffi::SQLITE_OK {
            if db.is_null() {
                return Err(standalone_error(rc, "out of memory".into()));
            }
            return Err(inner.error(rc));
        }
        unsafe {
            let user = &*inner.ctx as *const ConnCtx as *mut c_void;
            ffi::sqlite3_extended_result_codes(db, 1);
            ffi::sqlite3_busy_handler(db, Some(busy), user);
            for (op, on) in [
                (SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0),
                (SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0),
                (SQLITE_DBCONFIG_DEFENSIVE, 1),
                (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
            ] {
                ffi::sqlite3_db_config(db, op, on as c_int, std::ptr::null_mut::<c_int>());
            }
            // Sorter threads would allocate outside the run's budget and
            // run past its deadline.
            ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_WORKER_THREADS, 0);
            if inner.ctx.deadline.is_some() {
                ffi::sqlite3_progress_handler(db, 1000, Some(progress), user);
            }
            ffi::sqlite3_set_authorizer(db, Some(authorizer), user);
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
        let _charging = conn.charging();
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
        let _charging = conn.charging();
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
            let _charging = conn.charging();
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
        let _charging = self.conn.charging();
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
        let _charging = s.conn.charging();
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
                let _charging = s.conn.charging();
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
