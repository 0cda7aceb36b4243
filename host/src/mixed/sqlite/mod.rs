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
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libsqlite3_sys as ffi;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::sqlite::{
    CallbackReply, DbError, FunctionKind, Host, HostConnection, OpenOptions, SqliteError, Step,
};
use crate::bindings::FfiError;
use crate::mixed::sqlite::budget::Charging;
use crate::mixed::sqlite::guard::{authorizer, busy, progress, ConnCtx};
use crate::mixed::sqlite::vfs::ConfinedVfs;
use crate::state::HostState;
use names::error_name;
use steps::{Outcome, Progress};

pub(crate) mod budget;
pub(crate) mod callbacks;
mod extras;
pub(crate) mod guard;
mod names;
mod statement;
pub(crate) mod steps;
pub(crate) mod vfs;

pub use extras::{Backup, Blob};
pub(crate) use statement::column_text;
pub use statement::Statement;

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
        let accounted = crate::mixed::sqlite::budget::configure_process();
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

/// Virtual-machine instructions between two looks at the deadline.
const DEADLINE_STEPS: c_int = 1000;

// ------------------------------------------------------ connections, statements

pub(crate) struct ConnInner {
    db: *mut ffi::sqlite3,
    closed: AtomicBool,
    /// The guest registered a callback: work runs where it can call back.
    callbacks_on: AtomicBool,
    /// Work of this connection was abandoned mid-step (sqlite/steps.rs):
    /// sqlite's state is unknown, so the connection is leaked, never closed.
    abandoned: AtomicBool,
    vfs: Arc<ConfinedVfs>,
    /// sqlite's callbacks point here; outlives `db` (closed in `drop`).
    ctx: Box<ConnCtx>,
}

unsafe impl Send for ConnInner {}
unsafe impl Sync for ConnInner {}

impl Drop for ConnInner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) && !self.is_abandoned() {
            // close_v2: statements still alive keep it a zombie until finalised.
            let _charging = self.charging();
            unsafe { sqlite3_close_v2(self.db) };
        }
    }
}

impl ConnInner {
    pub(crate) fn has_callbacks(&self) -> bool {
        self.callbacks_on.load(Ordering::Relaxed)
    }

    pub(crate) fn enable_callbacks(&self) {
        self.callbacks_on.store(true, Ordering::Relaxed)
    }

    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst)
    }

    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Charge sqlite's allocations on this thread to the run's budget.
    pub(crate) fn charging(&self) -> Charging {
        Charging::new(Some(self.vfs.budget().clone()))
    }

    pub(crate) fn live(&self) -> Result<*mut ffi::sqlite3, SqliteError> {
        if self.closed.load(Ordering::SeqCst) || self.is_abandoned() {
            return Err(SqliteError::Sqlite(DbError {
                code: ffi::SQLITE_MISUSE,
                name: "SQLITE_MISUSE".into(),
                message: "Cannot operate on a closed database.".into(),
            }));
        }
        Ok(self.db)
    }

    pub(crate) fn error(&self, rc: c_int) -> SqliteError {
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

pub(crate) fn refused(e: FfiError) -> SqliteError {
    SqliteError::Refused(e)
}

fn check(state: &HostState) -> Result<(), SqliteError> {
    state.policy.check_module(MODULE).map_err(refused)
}

pub(crate) fn standalone_error(code: c_int, message: String) -> SqliteError {
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
                    crate::mixed::sqlite::budget::Budget::new(limit),
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
            guest_authorizer: AtomicU32::new(0),
            guest_progress: AtomicU32::new(0),
            guest_trace: AtomicU32::new(0),
        });
        let _charging = Charging::new(Some(vfs.budget().clone()));
        let cpath = CString::new(path.clone()).unwrap();
        let mut db = std::ptr::null_mut();
        let rc = unsafe { ffi::sqlite3_open_v2(cpath.as_ptr(), &mut db, flags, vfs.name.as_ptr()) };
        let inner = ConnInner {
            db,
            closed: AtomicBool::new(db.is_null()),
            callbacks_on: AtomicBool::new(false),
            abandoned: AtomicBool::new(false),
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
                ffi::sqlite3_progress_handler(db, DEADLINE_STEPS, Some(progress), user);
            }
            ffi::sqlite3_set_authorizer(db, Some(authorizer), user);
        }
        self.table
            .push(Connection(Arc::new(inner)))
            .map_err(|e| refused(FfiError::LimitExceeded(format!("sqlite handles: {e}"))))
    }

    fn prepare(&mut self, this: Resource<Connection>, sql: String) -> Result<Step, SqliteError> {
        check(self)?;
        let conn = self.table.get(&this).map_err(stale)?.0.clone();
        conn.live()?;
        if sql.len() > i32::MAX as usize {
            return Err(standalone_error(
                ffi::SQLITE_TOOBIG,
                "query string is too large".into(),
            ));
        }
        let work_conn = conn.clone();
        let progress = self
            .mixed
            .sqlite_steps
            .start(&conn, move || prepare(work_conn, &sql))?;
        self.step_of(progress)
    }

    fn execute_script(
        &mut self,
        this: Resource<Connection>,
        sql: String,
    ) -> Result<Step, SqliteError> {
        check(self)?;
        let conn = self.table.get(&this).map_err(stale)?.0.clone();
        conn.live()?;
        let csql = CString::new(sql).map_err(|_| {
            refused(FfiError::InvalidArgument(
                "the query contains a null character".into(),
            ))
        })?;
        let work_conn = conn.clone();
        let progress = self.mixed.sqlite_steps.start(&conn, move || {
            let db = work_conn.live()?;
            let _charging = work_conn.charging();
            let mut errmsg: *mut c_char = std::ptr::null_mut();
            let rc = unsafe {
                ffi::sqlite3_exec(db, csql.as_ptr(), None, std::ptr::null_mut(), &mut errmsg)
            };
            if !errmsg.is_null() {
                unsafe { ffi::sqlite3_free(errmsg as *mut c_void) };
            }
            if rc != ffi::SQLITE_OK {
                return Err(work_conn.error(rc));
            }
            Ok(Outcome::Done)
        })?;
        self.step_of(progress)
    }

    fn create_function(
        &mut self,
        this: Resource<Connection>,
        name: String,
        nargs: i32,
        kind: FunctionKind,
        id: Option<u32>,
        deterministic: bool,
    ) -> Result<(), SqliteError> {
        let conn = self.idle_conn(&this)?;
        callbacks::create_function(&conn, &name, nargs, kind, id, deterministic)
    }

    fn create_collation(
        &mut self,
        this: Resource<Connection>,
        name: String,
        id: Option<u32>,
    ) -> Result<(), SqliteError> {
        let conn = self.idle_conn(&this)?;
        callbacks::create_collation(&conn, &name, id)
    }

    fn set_authorizer(
        &mut self,
        this: Resource<Connection>,
        id: Option<u32>,
    ) -> Result<(), SqliteError> {
        let conn = self.live_conn(&this)?;
        conn.enable_callbacks();
        conn.ctx
            .guest_authorizer
            .store(id.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    fn set_progress_handler(
        &mut self,
        this: Resource<Connection>,
        id: Option<u32>,
        n: i32,
    ) -> Result<(), SqliteError> {
        let conn = self.live_conn(&this)?;
        let db = conn.live()?;
        conn.enable_callbacks();
        let id = if n > 0 { id.unwrap_or(0) } else { 0 };
        conn.ctx.guest_progress.store(id, Ordering::Relaxed);
        let user = &*conn.ctx as *const ConnCtx as *mut c_void;
        unsafe {
            if id != 0 {
                ffi::sqlite3_progress_handler(db, n, Some(progress), user);
            } else if conn.ctx.deadline.is_some() {
                ffi::sqlite3_progress_handler(db, DEADLINE_STEPS, Some(progress), user);
            } else {
                ffi::sqlite3_progress_handler(db, 0, None, std::ptr::null_mut());
            }
        }
        Ok(())
    }

    fn set_trace_callback(
        &mut self,
        this: Resource<Connection>,
        id: Option<u32>,
    ) -> Result<(), SqliteError> {
        let conn = self.live_conn(&this)?;
        let db = conn.live()?;
        conn.enable_callbacks();
        conn.ctx
            .guest_trace
            .store(id.unwrap_or(0), Ordering::Relaxed);
        let user = &*conn.ctx as *const ConnCtx as *mut c_void;
        let rc = unsafe {
            match id {
                Some(_) => ffi::sqlite3_trace_v2(
                    db,
                    ffi::SQLITE_TRACE_STMT as u32,
                    Some(callbacks::trace),
                    user,
                ),
                None => ffi::sqlite3_trace_v2(db, 0, None, std::ptr::null_mut()),
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(conn.error(rc));
        }
        Ok(())
    }

    fn limit(&mut self, this: Resource<Connection>, category: i32, value: i32) -> i32 {
        match self.live_conn(&this) {
            Ok(conn) => extras::limit(&conn, category, value),
            Err(_) => -1,
        }
    }

    fn blob_open(
        &mut self,
        this: Resource<Connection>,
        schema: String,
        table: String,
        column: String,
        row: i64,
        readonly: bool,
    ) -> Result<Resource<Blob>, SqliteError> {
        check(self)?;
        let conn = self.live_conn(&this)?;
        extras::blob_open(self, conn, &schema, &table, &column, row, readonly)
    }

    fn serialize(
        &mut self,
        this: Resource<Connection>,
        schema: String,
    ) -> Result<Option<Vec<u8>>, SqliteError> {
        check(self)?;
        let conn = self.live_conn(&this)?;
        extras::serialize(&conn, &schema)
    }

    fn deserialize(
        &mut self,
        this: Resource<Connection>,
        schema: String,
        data: Vec<u8>,
    ) -> Result<(), SqliteError> {
        check(self)?;
        let conn = self.idle_conn(&this)?;
        extras::deserialize(&conn, &schema, &data)
    }

    fn backup_to(
        &mut self,
        this: Resource<Connection>,
        name: String,
        target: Resource<Connection>,
        target_name: String,
    ) -> Result<Resource<Backup>, SqliteError> {
        check(self)?;
        let conn = self.idle_conn(&this)?;
        extras::backup_to(self, conn, &name, target, &target_name)
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
        if self.mixed.sqlite_steps.busy(&conn) {
            return Err(busy_in_callback());
        }
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

pub(crate) fn stale(e: impl std::fmt::Display) -> SqliteError {
    refused(FfiError::InvalidArgument(format!("sqlite handle: {e}")))
}

fn busy_in_callback() -> SqliteError {
    refused(FfiError::Unsupported(
        "not while one of this connection's statements is running a Python callback".into(),
    ))
}

/// The first statement of `sql`, and whether anything but blanks and
/// comments follows it (CPython 3.11's `pysqlite_check_remaining_sql`).
fn prepare(conn: Arc<ConnInner>, sql: &str) -> Result<Outcome, SqliteError> {
    let db = conn.live()?;
    let _charging = conn.charging();
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
    let more = statement::more_sql(&sql.as_bytes()[consumed..]);
    let stmt = (!stmt.is_null()).then(|| statement::Statement::new(stmt, conn));
    Ok(Outcome::Prepared(stmt, more))
}

impl HostState {
    fn live_conn(&mut self, this: &Resource<Connection>) -> Result<Arc<ConnInner>, SqliteError> {
        let conn = self.table.get(this).map_err(stale)?.0.clone();
        conn.live()?;
        Ok(conn)
    }

    /// The connection, refused while its work waits for a callback (what
    /// would change the statements or the database under it).
    fn idle_conn(&mut self, this: &Resource<Connection>) -> Result<Arc<ConnInner>, SqliteError> {
        let conn = self.live_conn(this)?;
        if self.mixed.sqlite_steps.busy(&conn) {
            return Err(busy_in_callback());
        }
        Ok(conn)
    }

    /// The WIT step of work's progress (a prepared statement becomes a handle).
    pub(crate) fn step_of(&mut self, progress: Progress) -> Result<Step, SqliteError> {
        Ok(match progress {
            Progress::Callback(call) => Step::Callback(call),
            Progress::Finished(Outcome::Done) => Step::Done,
            Progress::Finished(Outcome::Rows(rows)) => Step::Rows(rows),
            Progress::Finished(Outcome::Prepared(None, more)) => Step::Prepared((None, more)),
            Progress::Finished(Outcome::Prepared(Some(stmt), more)) => {
                let handle = self.table.push(stmt).map_err(|e| {
                    refused(FfiError::LimitExceeded(format!("sqlite handles: {e}")))
                })?;
                Step::Prepared((Some(handle), more))
            }
        })
    }
}

impl Host for HostState {
    fn resume(&mut self, reply: CallbackReply) -> Result<Step, SqliteError> {
        let progress = self.mixed.sqlite_steps.resume(reply)?;
        self.step_of(progress)
    }
}
