//! Work of a connection that may call the guest's Python callbacks (see
//! `step` in wit/sqlite.wit), with the suspend/resume protocol of ctypes
//! callbacks (README "Callbacks"): the work runs on a stackful coroutine on
//! the run's thread; when sqlite calls one of the guest's callbacks, the
//! trampoline suspends the coroutine and the host call returns
//! `step.callback`; the guest runs the callable and calls `resume`, which
//! continues sqlite where it stopped. Nothing re-enters the component.
//!
//! A connection with no callbacks registered runs its work directly: the
//! coroutine costs only when something can call back.

use std::cell::Cell;
use std::sync::Arc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::ConnInner;
use crate::bindings::wasmffi::ffi::sqlite::{CallbackCall, CallbackReply, Rows, SqliteError};
use crate::bindings::FfiError;
use crate::mixed::sqlite::budget;

/// sqlite's own recursion is deep for complex statements; touched pages
/// only are committed.
const WORK_STACK_SIZE: usize = 8 << 20;
/// Work suspended inside callbacks that run SQL, at most this deep.
const MAX_NESTING: usize = 64;
const STACK_POOL: usize = 4;

/// What finished work produced.
pub(crate) enum Outcome {
    Rows(Rows),
    Prepared(Option<super::Statement>, bool),
    Done,
}

/// How far work got: finished, or waiting for the guest to run a callback.
pub(crate) enum Progress {
    Finished(Outcome),
    Callback(CallbackCall),
}

type Finished = Result<Outcome, SqliteError>;
type Work = Coroutine<CallbackReply, CallbackCall, Finished, DefaultStack>;
type WorkYielder = Yielder<CallbackReply, CallbackCall>;

thread_local! {
    /// The yielder of the work running on this thread's current stack; null
    /// outside work (on the guest's stack, even while work is suspended).
    static RUNNING: Cell<*const WorkYielder> = const { Cell::new(std::ptr::null()) };
}

/// Hands `call` to the guest and waits for its answer; `None` when sqlite
/// calls back outside work (a reset or a finalize), where no guest code can run.
pub(crate) fn call_guest(call: CallbackCall) -> Option<CallbackReply> {
    let yielder = RUNNING.with(Cell::get);
    if yielder.is_null() {
        return None;
    }
    let charged = budget::current();
    // SAFETY: RUNNING is set only while the coroutine owning this yielder
    // runs on this thread's current stack (see `Work` in `drive`).
    let reply = unsafe { (*yielder).suspend(call) };
    RUNNING.with(|r| r.set(yielder));
    budget::set_current(charged);
    Some(reply)
}

/// A run's suspended work, innermost last.
pub struct Suspended {
    works: Vec<(Work, Arc<ConnInner>)>,
    stacks: Vec<DefaultStack>,
    owner: std::thread::ThreadId,
}

// SAFETY: coroutines are !Send because their stacks hold native frames of
// this thread. A run's store is made, used and dropped on one thread, and
// every entry point checks `owner` before touching the coroutines.
unsafe impl Send for Suspended {}

impl Default for Suspended {
    fn default() -> Self {
        Suspended {
            works: Vec::new(),
            stacks: Vec::new(),
            owner: std::thread::current().id(),
        }
    }
}

fn refused(message: String) -> SqliteError {
    SqliteError::Refused(FfiError::Unsupported(message))
}

impl Suspended {
    /// Whether `conn` has work waiting for a callback.
    pub(crate) fn busy(&self, conn: &Arc<ConnInner>) -> bool {
        self.works.iter().any(|(_, c)| Arc::ptr_eq(c, conn))
    }

    /// Runs `work` for `conn`: on a coroutine when the connection has
    /// callbacks, else directly.
    pub(crate) fn start(
        &mut self,
        conn: &Arc<ConnInner>,
        work: impl FnOnce() -> Finished + 'static,
    ) -> Result<Progress, SqliteError> {
        if !conn.has_callbacks() {
            return work().map(Progress::Finished);
        }
        if std::thread::current().id() != self.owner {
            return Err(refused(
                "sqlite work with callbacks must stay on the thread that started the run".into(),
            ));
        }
        if self.works.len() >= MAX_NESTING {
            return Err(refused(format!(
                "sqlite callbacks running SQL nested more than {MAX_NESTING} deep"
            )));
        }
        let stack = match self.stacks.pop() {
            Some(stack) => stack,
            None => DefaultStack::new(WORK_STACK_SIZE)
                .map_err(|e| refused(format!("cannot allocate a stack for sqlite: {e}")))?,
        };
        let charging = conn.vfs.budget().clone();
        let coroutine = Coroutine::with_stack(stack, move |y: &WorkYielder, _: CallbackReply| {
            RUNNING.with(|r| r.set(y as *const _));
            let _charging = budget::Charging::new(Some(charging));
            work()
        });
        self.drive(coroutine, conn.clone(), CallbackReply::Toobig)
    }

    /// Continues the innermost suspended work with the guest's answer.
    pub(crate) fn resume(&mut self, reply: CallbackReply) -> Result<Progress, SqliteError> {
        if std::thread::current().id() != self.owner {
            return Err(refused(
                "sqlite work must be resumed on the thread that started the run".into(),
            ));
        }
        let (work, conn) = self.works.pop().ok_or_else(|| {
            SqliteError::Refused(FfiError::InvalidArgument(
                "resume: no sqlite work is waiting for a callback".into(),
            ))
        })?;
        self.drive(work, conn, reply)
    }

    fn drive(
        &mut self,
        mut work: Work,
        conn: Arc<ConnInner>,
        input: CallbackReply,
    ) -> Result<Progress, SqliteError> {
        let outside = (RUNNING.with(Cell::get), budget::current());
        let result = work.resume(input);
        RUNNING.with(|r| r.set(outside.0));
        budget::set_current(outside.1);
        match result {
            CoroutineResult::Yield(call) => {
                self.works.push((work, conn));
                Ok(Progress::Callback(call))
            }
            CoroutineResult::Return(finished) => {
                if self.stacks.len() < STACK_POOL {
                    self.stacks.push(work.into_stack());
                }
                finished.map(Progress::Finished)
            }
        }
    }
}

impl Drop for Suspended {
    fn drop(&mut self) {
        // The run ended with work suspended (the guest trapped or hit its
        // deadline inside a callback): its native frames are discarded, never
        // resumed, and the connection they hold locked is leaked rather than
        // closed under them.
        while let Some((mut work, conn)) = self.works.pop() {
            conn.abandon();
            // SAFETY: the frames on this stack are never resumed.
            unsafe { work.force_reset() };
        }
    }
}
