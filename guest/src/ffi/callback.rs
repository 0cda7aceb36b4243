//! Guest side of callbacks: C function pointers that run Python.
//!
//! A callback is registered with the host under a small id. When native code
//! calls it, the crossing that is running native code (`invoke` or `resume`)
//! returns a callback request instead of finishing; [`super::call::invoke`]
//! dispatches it here, runs the handler, and resumes the native call with the
//! packed result. Python exceptions never cross: like CPython, they are
//! reported as unraisable and the C caller gets zero.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use rustpython_vm::object::TraverseFn;
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

use super::call::CallSpec;
use super::errors::OrRaise;
use crate::bindings::call;

/// What a callback runs.
pub trait Handler {
    /// Run on the packed native arguments; return the packed result (the
    /// result type's size, empty for void).
    fn call(&self, vm: &VirtualMachine, args: &[u8]) -> PyResult<Vec<u8>>;
    /// The Python object named when an exception is reported.
    fn target(&self) -> PyObjectRef;
    /// How CPython words the report, e.g. "on calling ctypes callback function".
    fn context(&self) -> &'static str;
    /// Report the Python objects the handler owns to the cycle collector
    /// (each once), so that a cycle through a callback can be collected.
    fn traverse(&self, _tracer: &mut TraverseFn<'_>) {}
}

thread_local! {
    static HANDLERS: RefCell<HashMap<u32, Rc<dyn Handler>>> = RefCell::new(HashMap::new());
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

    /// For the owner's `Traverse` implementation.
    pub fn traverse(&self, tracer: &mut TraverseFn<'_>) {
        self.handler.traverse(tracer);
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        HANDLERS.with(|h| h.borrow_mut().remove(&self.id));
    }
}

/// Make a C function pointer with `spec`'s signature that runs `handler`.
pub fn create(
    vm: &VirtualMachine,
    spec: &CallSpec,
    handler: Rc<dyn Handler>,
) -> PyResult<Callback> {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    let handle = call::Callback::create(&spec.signature, id).or_raise(vm)?;
    HANDLERS.with(|h| h.borrow_mut().insert(id, handler.clone()));
    Ok(Callback {
        handle,
        id,
        handler,
    })
}

/// Run the callback native code asked for; always produces a reply.
pub(crate) fn dispatch(vm: &VirtualMachine, request: call::CallbackRequest) -> Vec<u8> {
    let Some(handler) = HANDLERS.with(|h| h.borrow().get(&request.id).cloned()) else {
        eprintln!(
            "wasmffi: callback #{} has no handler; it returns 0",
            request.id
        );
        return Vec::new();
    };
    match handler.call(vm, &request.args) {
        Ok(reply) => reply,
        Err(exc) => {
            let message = format!("Exception ignored {}", handler.context());
            vm.run_unraisable(exc, Some(message), handler.target());
            Vec::new()
        }
    }
}
