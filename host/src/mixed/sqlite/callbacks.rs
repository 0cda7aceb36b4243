//! The guest's Python callbacks as sqlite sees them: SQL functions,
//! aggregates, window functions and collations, plus the guest's authorizer,
//! progress handler and trace callback. Each C entry point packs what sqlite
//! passed into a `callback-call`, hands it to the guest through the
//! suspended work (steps.rs), and gives sqlite the guest's answer.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicU32, Ordering};

use libsqlite3_sys as ffi;

use super::statement::text_bytes;
use super::steps::call_guest;
use super::{column_text, ConnInner};
use crate::bindings::wasmffi::ffi::sqlite::{
    CallbackCall, CallbackKind, CallbackReply, FunctionKind, SqliteError, Value,
};
use crate::bindings::FfiError;
use crate::mixed::sqlite::guard::ConnCtx;

type XFunc = unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);
type XFinal = unsafe extern "C" fn(*mut ffi::sqlite3_context);

extern "C" {
    // Since sqlite 3.25; absent from libsqlite3-sys's default bindings.
    fn sqlite3_create_window_function(
        db: *mut ffi::sqlite3,
        name: *const c_char,
        nargs: c_int,
        flags: c_int,
        user: *mut c_void,
        x_step: Option<XFunc>,
        x_final: Option<XFinal>,
        x_value: Option<XFinal>,
        x_inverse: Option<XFunc>,
        x_destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    ) -> c_int;
}

/// What a registered function's C entry points need (sqlite's user data).
struct Registered {
    id: u32,
}

unsafe extern "C" fn free_registered(p: *mut c_void) {
    drop(Box::from_raw(p as *mut Registered));
}

/// Numbers of running aggregate instances; 0 means "none yet".
fn next_instance() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        if n != 0 {
            return n;
        }
    }
}

unsafe fn value_of(v: *mut ffi::sqlite3_value) -> Value {
    match ffi::sqlite3_value_type(v) {
        ffi::SQLITE_INTEGER => Value::Integer(ffi::sqlite3_value_int64(v)),
        ffi::SQLITE_FLOAT => Value::Real(ffi::sqlite3_value_double(v)),
        ffi::SQLITE_TEXT => {
            let p = ffi::sqlite3_value_text(v);
            let n = ffi::sqlite3_value_bytes(v) as usize;
            column_text(p, n)
        }
        ffi::SQLITE_BLOB => {
            let p = ffi::sqlite3_value_blob(v) as *const u8;
            let n = ffi::sqlite3_value_bytes(v) as usize;
            Value::Blob(if p.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, n).to_vec()
            })
        }
        _ => Value::Null,
    }
}

unsafe fn values_of(argc: c_int, argv: *mut *mut ffi::sqlite3_value) -> Vec<Value> {
    (0..argc.max(0) as usize)
        .map(|i| value_of(*argv.add(i)))
        .collect()
}

unsafe fn set_result(ctx: *mut ffi::sqlite3_context, reply: Option<CallbackReply>) {
    let Some(reply) = reply else {
        ffi::sqlite3_result_error(
            ctx,
            c"a Python callback cannot run here (outside a statement's step)".as_ptr(),
            -1,
        );
        return;
    };
    match reply {
        CallbackReply::Value(Value::Null) => ffi::sqlite3_result_null(ctx),
        CallbackReply::Value(Value::Integer(i)) => ffi::sqlite3_result_int64(ctx, i),
        CallbackReply::Value(Value::Real(f)) => ffi::sqlite3_result_double(ctx, f),
        CallbackReply::Value(text @ (Value::Text(_) | Value::TextBytes(_))) => {
            let text = text_bytes(&text);
            ffi::sqlite3_result_text64(
                ctx,
                text.as_ptr() as *const c_char,
                text.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            )
        }
        CallbackReply::Value(Value::Blob(b)) => ffi::sqlite3_result_blob64(
            ctx,
            b.as_ptr() as *const c_void,
            b.len() as u64,
            ffi::SQLITE_TRANSIENT(),
        ),
        CallbackReply::Error(message) => {
            let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
            ffi::sqlite3_result_error(ctx, message.as_ptr(), -1)
        }
        CallbackReply::Nomem => ffi::sqlite3_result_error_nomem(ctx),
        CallbackReply::Toobig => ffi::sqlite3_result_error_toobig(ctx),
    }
}

fn call(kind: CallbackKind, id: u32, instance: u32, args: Vec<Value>) -> Option<CallbackReply> {
    let call = CallbackCall {
        kind,
        id,
        instance,
        args,
    };
    // A Rust panic must never unwind into sqlite.
    std::panic::catch_unwind(move || call_guest(call)).unwrap_or(None)
}

unsafe fn registered(ctx: *mut ffi::sqlite3_context) -> u32 {
    (*(ffi::sqlite3_user_data(ctx) as *const Registered)).id
}

unsafe extern "C" fn x_func(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let id = registered(ctx);
    set_result(
        ctx,
        call(CallbackKind::Function, id, 0, values_of(argc, argv)),
    );
}

/// An aggregate's step or a window function's inverse: the instance is made
/// on the group's first row.
unsafe fn aggregate_row(
    kind: CallbackKind,
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let slot = ffi::sqlite3_aggregate_context(ctx, std::mem::size_of::<u32>() as c_int) as *mut u32;
    if slot.is_null() {
        ffi::sqlite3_result_error_nomem(ctx);
        return;
    }
    if *slot == 0 {
        *slot = next_instance();
    }
    let reply = call(kind, registered(ctx), *slot, values_of(argc, argv));
    // A step's value is not a result; only its errors are.
    if let Some(reply @ (CallbackReply::Error(_) | CallbackReply::Nomem | CallbackReply::Toobig)) =
        reply
    {
        set_result(ctx, Some(reply));
    } else if reply.is_none() {
        set_result(ctx, None);
    }
}

/// An aggregate's final or a window function's current value. A group that
/// had no row has no instance: its result is NULL, as CPython's.
unsafe fn aggregate_value(kind: CallbackKind, ctx: *mut ffi::sqlite3_context) {
    let slot = ffi::sqlite3_aggregate_context(ctx, 0) as *mut u32;
    if slot.is_null() || *slot == 0 {
        ffi::sqlite3_result_null(ctx);
        return;
    }
    let instance = *slot;
    match call(kind, registered(ctx), instance, Vec::new()) {
        // Finalised outside a step (a reset): the guest's instance stays
        // until its connection closes.
        None => ffi::sqlite3_result_null(ctx),
        reply => set_result(ctx, reply),
    }
}

unsafe extern "C" fn x_step(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    aggregate_row(CallbackKind::AggregateStep, ctx, argc, argv)
}

unsafe extern "C" fn x_inverse(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    aggregate_row(CallbackKind::WindowInverse, ctx, argc, argv)
}

unsafe extern "C" fn x_final(ctx: *mut ffi::sqlite3_context) {
    aggregate_value(CallbackKind::AggregateFinal, ctx)
}

unsafe extern "C" fn x_value(ctx: *mut ffi::sqlite3_context) {
    aggregate_value(CallbackKind::WindowValue, ctx)
}

unsafe extern "C" fn x_compare(
    user: *mut c_void,
    n1: c_int,
    s1: *const c_void,
    n2: c_int,
    s2: *const c_void,
) -> c_int {
    let id = (*(user as *const Registered)).id;
    let args = vec![
        column_text(s1 as *const u8, n1.max(0) as usize),
        column_text(s2 as *const u8, n2.max(0) as usize),
    ];
    match call(CallbackKind::Collation, id, 0, args) {
        Some(CallbackReply::Value(Value::Integer(i))) => i.signum() as c_int,
        _ => 0,
    }
}

fn sqlite_error(conn: &ConnInner, rc: c_int) -> SqliteError {
    conn.error(rc)
}

fn bad_name(name: &str) -> Result<CString, SqliteError> {
    CString::new(name).map_err(|_| {
        SqliteError::Refused(FfiError::InvalidArgument(
            "embedded null character in name".into(),
        ))
    })
}

/// `create_function` / `create_aggregate` / `create_window_function`.
pub(crate) fn create_function(
    conn: &ConnInner,
    name: &str,
    nargs: i32,
    kind: FunctionKind,
    id: Option<u32>,
    deterministic: bool,
) -> Result<(), SqliteError> {
    let db = conn.live()?;
    let cname = bad_name(name)?;
    let mut flags = ffi::SQLITE_UTF8;
    if deterministic {
        flags |= ffi::SQLITE_DETERMINISTIC;
    }
    let rc = unsafe {
        match id {
            None => ffi::sqlite3_create_function_v2(
                db,
                cname.as_ptr(),
                nargs,
                flags,
                std::ptr::null_mut(),
                None,
                None,
                None,
                None,
            ),
            Some(id) => {
                conn.enable_callbacks();
                let user = Box::into_raw(Box::new(Registered { id })) as *mut c_void;
                match kind {
                    FunctionKind::Scalar => ffi::sqlite3_create_function_v2(
                        db,
                        cname.as_ptr(),
                        nargs,
                        flags,
                        user,
                        Some(x_func),
                        None,
                        None,
                        Some(free_registered),
                    ),
                    FunctionKind::Aggregate => ffi::sqlite3_create_function_v2(
                        db,
                        cname.as_ptr(),
                        nargs,
                        flags,
                        user,
                        None,
                        Some(x_step),
                        Some(x_final),
                        Some(free_registered),
                    ),
                    FunctionKind::Window => sqlite3_create_window_function(
                        db,
                        cname.as_ptr(),
                        nargs,
                        flags,
                        user,
                        Some(x_step),
                        Some(x_final),
                        Some(x_value),
                        Some(x_inverse),
                        Some(free_registered),
                    ),
                }
            }
        }
    };
    if rc != ffi::SQLITE_OK {
        return Err(sqlite_error(conn, rc));
    }
    Ok(())
}

pub(crate) fn create_collation(
    conn: &ConnInner,
    name: &str,
    id: Option<u32>,
) -> Result<(), SqliteError> {
    let db = conn.live()?;
    let cname = bad_name(name)?;
    let rc = unsafe {
        match id {
            None => ffi::sqlite3_create_collation_v2(
                db,
                cname.as_ptr(),
                ffi::SQLITE_UTF8,
                std::ptr::null_mut(),
                None,
                None,
            ),
            Some(id) => {
                conn.enable_callbacks();
                let user = Box::into_raw(Box::new(Registered { id })) as *mut c_void;
                ffi::sqlite3_create_collation_v2(
                    db,
                    cname.as_ptr(),
                    ffi::SQLITE_UTF8,
                    user,
                    Some(x_compare),
                    Some(free_registered),
                )
            }
        }
    };
    if rc != ffi::SQLITE_OK {
        return Err(sqlite_error(conn, rc));
    }
    Ok(())
}

/// After the sandbox's own checks allowed it (sqlite_guard.rs): the guest's
/// authorizer, if any.
pub(crate) unsafe fn guest_authorizer(
    ctx: &ConnCtx,
    action: c_int,
    args: [*const c_char; 4],
) -> c_int {
    let id = ctx.guest_authorizer.load(Ordering::Relaxed);
    if id == 0 {
        return ffi::SQLITE_OK;
    }
    let mut values = vec![Value::Integer(action as i64)];
    for p in args {
        values.push(if p.is_null() {
            Value::Null
        } else {
            let bytes = CStr::from_ptr(p).to_bytes();
            column_text(bytes.as_ptr(), bytes.len())
        });
    }
    match call(CallbackKind::Authorizer, id, 0, values) {
        Some(CallbackReply::Value(Value::Integer(rc))) => rc as c_int,
        _ => ffi::SQLITE_DENY,
    }
}

/// The guest's progress handler: nonzero interrupts the statement.
pub(crate) fn guest_progress(ctx: &ConnCtx) -> c_int {
    let id = ctx.guest_progress.load(Ordering::Relaxed);
    if id == 0 {
        return 0;
    }
    match call(CallbackKind::Progress, id, 0, Vec::new()) {
        Some(CallbackReply::Value(Value::Integer(v))) => (v != 0) as c_int,
        Some(CallbackReply::Value(Value::Null)) | None => 0,
        Some(_) => 1,
    }
}

/// `sqlite3_trace_v2` with SQLITE_TRACE_STMT: the statement's expanded SQL
/// (its unexpanded text when expanding failed, with an integer 0 after it).
pub(crate) unsafe extern "C" fn trace(
    mask: c_uint,
    user: *mut c_void,
    stmt: *mut c_void,
    sql: *mut c_void,
) -> c_int {
    if mask != ffi::SQLITE_TRACE_STMT as c_uint {
        return 0;
    }
    let ctx = &*(user as *const ConnCtx);
    let id = ctx.guest_trace.load(Ordering::Relaxed);
    if id == 0 {
        return 0;
    }
    let expanded = ffi::sqlite3_expanded_sql(stmt as *mut ffi::sqlite3_stmt);
    let args = if expanded.is_null() {
        let text = if sql.is_null() {
            Value::Null
        } else {
            let bytes = CStr::from_ptr(sql as *const c_char).to_bytes();
            column_text(bytes.as_ptr(), bytes.len())
        };
        vec![text, Value::Integer(0)]
    } else {
        let bytes = CStr::from_ptr(expanded).to_bytes();
        let text = column_text(bytes.as_ptr(), bytes.len());
        ffi::sqlite3_free(expanded as *mut c_void);
        vec![text]
    };
    call(CallbackKind::Trace, id, 0, args);
    0
}
