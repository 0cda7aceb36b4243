//! Guest side of callbacks: C function pointers that run Python.
//!
//! A callback is registered with the host under a small id. When native code
//! calls it, the crossing that is running native code (`invoke` or `resume`)
//! returns a callback request instead of finishing; [`super::call::invoke`]
//! dispatches it here, runs the handler, and resumes the native call with the
//! packed result. Python exceptions never cross: like CPython's ctypes, they
//! are reported as unraisable and the C caller gets zero.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::rc::Rc;

use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

use super::call::CallSpec;
use super::errors::OrRaise;
use super::wit::call;

/// What a callback runs.
pub trait Handler {
    /// Run on the packed native arguments; return the packed result (the
    /// result type's size, empty for void).
    fn call(&self, py: Python<'_>, args: &[u8]) -> PyResult<Vec<u8>>;
    /// The Python object named when an exception is reported.
    fn target(&self, py: Python<'_>) -> Py<PyAny>;
    /// How CPython words the report, e.g. "on calling ctypes callback function".
    fn context(&self) -> &'static str;
    /// Report the Python objects the handler owns to the cycle collector
    /// (each once), so that a cycle through a callback can be collected.
    fn traverse(&self, _visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        Ok(())
    }
}

/// Callback ids are small distinct numbers: hashing them is wasted work on
/// every callback.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, id: u32) {
        self.0 = u64::from(id);
    }
}

type Handlers = HashMap<u32, Rc<dyn Handler>, std::hash::BuildHasherDefault<IdHasher>>;

thread_local! {
    static HANDLERS: RefCell<Handlers> = RefCell::new(Handlers::default());
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// A live C function pointer into the guest. Dropping it retires the
/// pointer: native code calling it afterwards gets zero (and a message).
pub struct Callback {
    handle: call::Callback,
    id: u32,
    handler: Rc<dyn Handler>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Callback(#{} at {:#x})", self.id, self.address())
    }
}

impl Callback {
    pub fn address(&self) -> u64 {
        self.handle.address()
    }

    /// For the owner's `__traverse__`.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.handler.traverse(visit)
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // The handler may be running (a callback dropping its own owner):
        // take it out first and let it go after the map is released, as its
        // Python objects' finalizers may run code that registers callbacks.
        let handler = HANDLERS.with(|h| h.borrow_mut().remove(&self.id));
        drop(handler);
    }
}

/// Make a C function pointer with `spec`'s signature that runs `handler`.
pub fn create(py: Python<'_>, spec: &CallSpec, handler: Rc<dyn Handler>) -> PyResult<Callback> {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    let handle = call::Callback::create(&spec.signature, id).or_raise(py)?;
    HANDLERS.with(|h| h.borrow_mut().insert(id, handler.clone()));
    Ok(Callback {
        handle,
        id,
        handler,
    })
}

extern "C" {
    /// CPython's ctypes reports callback exceptions through this (3.11;
    /// private, so not in pyo3-ffi): "Exception ignored {msg}: {obj!r}",
    /// then the traceback, through `sys.unraisablehook`.
    fn _PyErr_WriteUnraisableMsg(err_msg: *const c_char, obj: *mut pyo3::ffi::PyObject);
}

/// Run the callback native code asked for; always produces a reply.
pub(crate) fn dispatch(py: Python<'_>, request: call::CallbackRequest) -> Vec<u8> {
    let Some(handler) = HANDLERS.with(|h| h.borrow().get(&request.id).cloned()) else {
        eprintln!(
            "wasmffi: callback #{} has no handler; it returns 0",
            request.id
        );
        return Vec::new();
    };
    match handler.call(py, &request.args) {
        Ok(reply) => reply,
        Err(exc) => {
            report_unraisable(py, exc, handler.context(), &handler.target(py));
            Vec::new()
        }
    }
}

/// Report an exception a callback cannot raise, as CPython's ctypes does:
/// "Exception ignored {context}: {target!r}" and the traceback.
pub(crate) fn report_unraisable(py: Python<'_>, exc: PyErr, context: &str, target: &Py<PyAny>) {
    let message = CString::new(context).unwrap_or_default();
    exc.restore(py);
    // SAFETY: attached to the interpreter with an exception set, as the
    // function requires; `message` and `target` outlive the call.
    unsafe { _PyErr_WriteUnraisableMsg(message.as_ptr(), target.as_ptr()) };
}
