//! What a guest's SQL may do on a connection of the `sqlite3` mixed module
//! (see sqlite.rs): the authorizer that refuses functions and pragmas which
//! would reach outside the sandbox, and the progress and busy handlers that
//! hold the run's deadline.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::AtomicU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

const SQLITE_FUNCTION: c_int = 31;

/// Per connection, for sqlite's callbacks (a stable address: boxed).
pub(crate) struct ConnCtx {
    /// The run's deadline (`limits.cpu_time` from the run's start).
    pub(crate) deadline: Option<Instant>,
    /// `timeout` of `connect()`: how long to wait on a locked database.
    pub(crate) busy_timeout: Duration,
    /// URI names could not be switched off process-wide.
    pub(crate) uri_on: bool,
    /// Why the authorizer refused, for the error message.
    pub(crate) note: Mutex<Option<String>>,
    /// The guest's authorizer, progress handler and trace callback (their
    /// callback ids; 0: none). See sqlite/callbacks.rs.
    pub(crate) guest_authorizer: AtomicU32,
    pub(crate) guest_progress: AtomicU32,
    pub(crate) guest_trace: AtomicU32,
}

impl ConnCtx {
    pub(crate) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn refuse(&self, why: String) -> c_int {
        *self.note.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        ffi::SQLITE_DENY
    }
}

/// Deny what would let SQL reach outside the sandbox.
pub(crate) unsafe extern "C" fn authorizer(
    user: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    db: *const c_char,
    trigger: *const c_char,
) -> c_int {
    let ctx = &*(user as *const ConnCtx);
    let text = |p: *const c_char| {
        (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().to_ascii_lowercase())
    };
    match action {
        SQLITE_FUNCTION => {
            let name = text(arg2).unwrap_or_default();
            match name.as_str() {
                // fts3_tokenizer(name) returns the address of a host function
                // table; fts3_tokenizer(name, ptr) makes the host call
                // through one the guest chose (accepted from a bound
                // parameter even with the tokenizer switched off).
                "fts3_tokenizer" => {
                    return ctx.refuse(
                        "fts3_tokenizer() is refused in the sandbox: it exchanges host pointers"
                            .into(),
                    )
                }
                "load_extension" => {
                    return ctx.refuse("load_extension() is refused in the sandbox".into())
                }
                _ => {}
            }
        }
        ffi::SQLITE_PRAGMA => {
            let name = text(arg1).unwrap_or_default();
            let Some(value) = text(arg2) else {
                return ffi::SQLITE_OK;
            };
            match name.as_str() {
                // Process-wide state, shared with other runs and the host.
                "temp_store_directory"
                | "data_store_directory"
                | "hard_heap_limit"
                | "soft_heap_limit" => {
                    return ctx.refuse(format!(
                        "PRAGMA {name} is refused in the sandbox: it changes the whole process"
                    ))
                }
                "trusted_schema" => {
                    let value = value.trim_matches(|c| c == '\'' || c == '"');
                    if !matches!(value, "0" | "off" | "false" | "no") {
                        return ctx.refuse("PRAGMA trusted_schema stays off in the sandbox".into());
                    }
                }
                // Sorter threads would allocate outside the run's budget and
                // run past its deadline (the pragma raises the limit).
                "threads" if value.trim_matches(|c| c == '\'' || c == '"') != "0" => {
                    return ctx.refuse("PRAGMA threads is refused in the sandbox".into());
                }
                // sqlite's own busy handler would wait past the deadline.
                "busy_timeout" if ctx.deadline.is_some() => {
                    return ctx.refuse(
                        "PRAGMA busy_timeout is refused under a time limit; \
                         use connect(timeout=...)"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        ffi::SQLITE_ATTACH => {
            // Only needed when URI names could not be switched off.
            if ctx.uri_on && text(arg1).map_or(true, |f| f.starts_with("file:")) {
                return ffi::SQLITE_DENY;
            }
        }
        _ => {}
    }
    crate::mixed::sqlite::callbacks::guest_authorizer(ctx, action, [arg1, arg2, db, trigger])
}

/// Every 1000 virtual-machine instructions (or the guest's own handler's
/// interval): stop at the run's deadline, then ask the guest's handler.
pub(crate) unsafe extern "C" fn progress(user: *mut c_void) -> c_int {
    let ctx = &*(user as *const ConnCtx);
    if ctx.past_deadline() {
        return 1;
    }
    crate::mixed::sqlite::callbacks::guest_progress(ctx)
}

/// A locked database: wait as sqlite's busy timeout does (the delays of
/// `sqliteDefaultBusyCallback`), up to `timeout` and never past the deadline.
pub(crate) unsafe extern "C" fn busy(user: *mut c_void, count: c_int) -> c_int {
    const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    let ctx = &*(user as *const ConnCtx);
    let count = count.max(0) as usize;
    let waited: u64 = if count < DELAYS_MS.len() {
        DELAYS_MS[..count].iter().sum()
    } else {
        DELAYS_MS.iter().sum::<u64>() + (count - DELAYS_MS.len()) as u64 * 100
    };
    let timeout = ctx.busy_timeout.as_millis() as u64;
    if waited >= timeout {
        return 0;
    }
    let mut delay =
        Duration::from_millis(DELAYS_MS[count.min(DELAYS_MS.len() - 1)].min(timeout - waited));
    if let Some(deadline) = ctx.deadline {
        let now = Instant::now();
        if now >= deadline {
            return 0;
        }
        delay = delay.min(deadline - now);
    }
    std::thread::sleep(delay);
    1
}
