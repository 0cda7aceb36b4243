//! Compiled statements of the `sqlite3` mixed module: binding, stepping,
//! and the rows that cross to the guest.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libsqlite3_sys as ffi;
use wasmtime::component::Resource;

use super::steps::Outcome;
use super::{check, stale, ConnInner};
use crate::bindings::wasmffi::ffi::sqlite::{
    HostStatement, Rows, SqliteError, StatementInfo, Step, Value,
};
use crate::state::HostState;

/// A statement's handle. Work suspended in a callback holds the statement
/// too: it is finalised when both let go.
pub struct Statement(Arc<StmtInner>);

struct StmtInner {
    stmt: *mut ffi::sqlite3_stmt,
    conn: Arc<ConnInner>,
    /// Stepping, maybe suspended in a callback: a nested step of the same
    /// statement is refused.
    running: AtomicBool,
}

// SAFETY: the run's store is used on one thread at a time; the pointer is
// only used with its connection's (recursive, serialized) mutex.
unsafe impl Send for StmtInner {}
unsafe impl Sync for StmtInner {}

impl Drop for StmtInner {
    fn drop(&mut self) {
        if !self.conn.is_abandoned() {
            let _charging = self.conn.charging();
            unsafe { ffi::sqlite3_finalize(self.stmt) };
        }
    }
}

impl Statement {
    pub(crate) fn new(stmt: *mut ffi::sqlite3_stmt, conn: Arc<ConnInner>) -> Statement {
        Statement(Arc::new(StmtInner {
            stmt,
            conn,
            running: AtomicBool::new(false),
        }))
    }
}

/// Whether `tail` holds more than blanks and comments (CPython 3.11's
/// `pysqlite_check_remaining_sql`: a stray `;` counts as more).
pub(crate) fn more_sql(tail: &[u8]) -> bool {
    let mut i = 0;
    while i < tail.len() {
        match tail[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'-' if tail.get(i + 1) == Some(&b'-') => {
                while i < tail.len() && tail[i] != b'\n' && tail[i] != b'\r' {
                    i += 1;
                }
            }
            b'/' if tail.get(i + 1) == Some(&b'*') => {
                match tail[i + 2..].windows(2).position(|w| w == b"*/") {
                    Some(end) => i += 2 + end + 2,
                    // An unterminated comment: sqlite saw nothing more.
                    None => return false,
                }
            }
            _ => return true,
        }
    }
    false
}

unsafe fn opt_str(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// The UTF-8 of a TEXT value (empty for any other).
pub(crate) fn text_bytes(value: &Value) -> &[u8] {
    match value {
        Value::Text(s) => s.as_bytes(),
        Value::TextBytes(b) => b,
        _ => &[],
    }
}

/// TEXT as a value: a string, or its bytes when it is not UTF-8.
pub(crate) unsafe fn column_text(p: *const u8, n: usize) -> Value {
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

unsafe fn column(stmt: *mut ffi::sqlite3_stmt, i: c_int) -> Value {
    match ffi::sqlite3_column_type(stmt, i) {
        ffi::SQLITE_INTEGER => Value::Integer(ffi::sqlite3_column_int64(stmt, i)),
        ffi::SQLITE_FLOAT => Value::Real(ffi::sqlite3_column_double(stmt, i)),
        ffi::SQLITE_TEXT => {
            let p = ffi::sqlite3_column_text(stmt, i);
            let n = ffi::sqlite3_column_bytes(stmt, i) as usize;
            column_text(p, n)
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

const SQLITE_STMTSTATUS_REPREPARE: c_int = 5;

impl StmtInner {
    fn claim(&self) -> Result<(), SqliteError> {
        if self.running.swap(true, Ordering::SeqCst) {
            return Err(super::refused(crate::bindings::FfiError::Unsupported(
                "this statement is running a Python callback".into(),
            )));
        }
        Ok(())
    }

    fn step(&self, max_rows: u32) -> Result<Rows, SqliteError> {
        let db = self.conn.live()?;
        let _charging = self.conn.charging();
        let mut rows = Vec::new();
        let mut done = false;
        loop {
            let rc = unsafe { ffi::sqlite3_step(self.stmt) };
            match rc {
                ffi::SQLITE_ROW => {
                    // Read per row: a re-prepare may change the columns.
                    let ncols = unsafe { ffi::sqlite3_column_count(self.stmt) };
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
        let (changes, last_insert_rowid, reprepared) = unsafe {
            (
                ffi::sqlite3_changes(db) as i64,
                ffi::sqlite3_last_insert_rowid(db),
                ffi::sqlite3_stmt_status(self.stmt, SQLITE_STMTSTATUS_REPREPARE, 1) > 0,
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
            reprepared,
        })
    }

    fn bind(&self, params: Vec<Value>) -> Result<(), SqliteError> {
        for (i, value) in params.into_iter().enumerate() {
            let pos = i as c_int + 1;
            let rc = unsafe {
                match &value {
                    Value::Null => ffi::sqlite3_bind_null(self.stmt, pos),
                    Value::Integer(v) => ffi::sqlite3_bind_int64(self.stmt, pos, *v),
                    Value::Real(v) => ffi::sqlite3_bind_double(self.stmt, pos, *v),
                    Value::Text(_) | Value::TextBytes(_) => {
                        let text = text_bytes(&value);
                        ffi::sqlite3_bind_text64(
                            self.stmt,
                            pos,
                            text.as_ptr() as *const c_char,
                            text.len() as u64,
                            ffi::SQLITE_TRANSIENT(),
                            ffi::SQLITE_UTF8 as u8,
                        )
                    }
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

    fn reset(&self) {
        let _charging = self.conn.charging();
        unsafe {
            ffi::sqlite3_reset(self.stmt);
            ffi::sqlite3_clear_bindings(self.stmt);
        }
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
        let st = s.0.stmt;
        unsafe {
            let ncols = ffi::sqlite3_column_count(st);
            let nparams = ffi::sqlite3_bind_parameter_count(st);
            StatementInfo {
                column_names: (0..ncols)
                    .map(|i| opt_str(ffi::sqlite3_column_name(st, i)).unwrap_or_default())
                    .collect(),
                decltypes: (0..ncols)
                    .map(|i| opt_str(ffi::sqlite3_column_decltype(st, i)))
                    .collect(),
                parameters: (1..=nparams)
                    .map(|i| opt_str(ffi::sqlite3_bind_parameter_name(st, i)))
                    .collect(),
                readonly: ffi::sqlite3_stmt_readonly(st) != 0,
            }
        }
    }

    fn run(
        &mut self,
        this: Resource<Statement>,
        params: Vec<Value>,
        max_rows: u32,
    ) -> Result<Step, SqliteError> {
        check(self)?;
        let s = self.table.get(&this).map_err(stale)?.0.clone();
        let conn = s.conn.clone();
        conn.live()?;
        s.claim()?;
        let progress = self.mixed.sqlite_steps.start(&conn, move || {
            s.reset();
            let rows = s.bind(params).and_then(|()| s.step(max_rows));
            s.running.store(false, Ordering::SeqCst);
            rows.map(Outcome::Rows)
        })?;
        self.step_of(progress)
    }

    fn fetch(&mut self, this: Resource<Statement>, max_rows: u32) -> Result<Step, SqliteError> {
        check(self)?;
        let s = self.table.get(&this).map_err(stale)?.0.clone();
        let conn = s.conn.clone();
        s.claim()?;
        let progress = self.mixed.sqlite_steps.start(&conn, move || {
            let rows = s.step(max_rows);
            s.running.store(false, Ordering::SeqCst);
            rows.map(Outcome::Rows)
        })?;
        self.step_of(progress)
    }

    fn reset(&mut self, this: Resource<Statement>) {
        if let Ok(s) = self.table.get(&this) {
            if s.0.conn.live().is_ok() && !self.mixed.sqlite_steps.busy(&s.0.conn) {
                s.0.reset();
            }
        }
    }

    fn drop(&mut self, this: Resource<Statement>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
