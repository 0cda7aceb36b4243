//! Host errors as Python exceptions.

use pyo3::exceptions::{
    PyAttributeError, PyMemoryError, PyNotImplementedError, PyOSError, PyPermissionError,
    PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;

use super::wit::types::{FfiError, NativeCrash};

// Every module that exposes the FFI raises this one type for bad pointers;
// it lives in the core so `_ctypes` raises it too, and `_rawffi` exports it.
pyo3::create_exception!(
    _rawffi,
    SegfaultException,
    PyRuntimeError,
    "Memory the runtime refused to touch: NULL, freed, out of bounds or not granted."
);

/// The Python exception for a host error.
pub fn to_py(py: Python<'_>, err: FfiError) -> PyErr {
    match err {
        FfiError::NotPermitted(msg) => PyPermissionError::new_err(msg),
        FfiError::LoadFailed(msg) => PyOSError::new_err(msg),
        FfiError::NoSuchSymbol(msg) => PyAttributeError::new_err(msg),
        FfiError::InvalidArgument(msg) => PyValueError::new_err(msg),
        FfiError::BadPointer(msg) => segfault(msg),
        FfiError::LimitExceeded(msg) => PyMemoryError::new_err(msg),
        FfiError::Unsupported(msg) => PyNotImplementedError::new_err(msg),
        FfiError::SignatureMismatch(msg) => PyTypeError::new_err(msg),
        // The helper took ctypes' arena chunks with it (see arena.rs).
        FfiError::Crashed(crash) if crash.recoverable => {
            super::arena::forget_native_memory();
            PyOSError::new_err(format!(
                "native code crashed: {} in {}",
                crash.signal_name, crash.function
            ))
        }
        FfiError::Crashed(crash) => fatal_native_crash(py, &crash),
    }
}

/// Native code crashed inside this process: its state may be corrupt, so
/// report like CPython's faulthandler (what crashed, then the Python stack)
/// and end the run with 128 + the signal number, as a shell would.
fn fatal_native_crash(py: Python<'_>, crash: &NativeCrash) -> ! {
    eprintln!(
        "Fatal Python error: {} in native code: {}\n\nPython stack (most recent call last):",
        crash.signal_name, crash.function
    );
    // A failure to print the stack must not keep the run alive.
    let _ = py
        .import("traceback")
        .and_then(|tb| tb.call_method0("print_stack"));
    if let Ok(sys) = py.import("sys") {
        for stream in ["stdout", "stderr"] {
            let _ = sys.getattr(stream).and_then(|s| s.call_method0("flush"));
        }
    }
    crate::bindings::process::exit((128 + crash.signal).clamp(1, 255) as u8);
    // process.exit does not return; should it, ending here still stops the run.
    std::process::abort()
}

/// `_rawffi.SegfaultException(msg)`.
pub fn segfault(msg: impl Into<String>) -> PyErr {
    SegfaultException::new_err(msg.into())
}

/// Extension for `Result<T, FfiError>`.
pub trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, FfiError> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// The name of an object's type (`__name__`), for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}
