//! Mixed modules backed by typed host interfaces (`zlib`, `_probe`): a
//! Rust part (`<name>/mod.rs`, a `#[pymodule]` registered in main.rs's
//! inittab) plus an application-level `app.py` run in the module at import.
//! Each calls [`enable`] first, so the host's policy decides whether it
//! imports.

use pyo3::exceptions::{
    PyAttributeError, PyImportError, PyMemoryError, PyNotImplementedError, PyOSError,
    PyPermissionError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::code::PyCodeInput;
use pyo3::types::{PyCode, PyCodeMethods};

use crate::bindings::types::FfiError;

/// The policy check every mixed module makes when it is imported: ImportError
/// (with the host's reason, which names the flag that would allow it) when
/// the guest does not get `policy_name`.
pub fn enable(py: Python<'_>, module: &str, policy_name: &str) -> PyResult<()> {
    match crate::bindings::mixed::enable(policy_name) {
        Ok(()) => Ok(()),
        Err(FfiError::NotPermitted(msg)) => {
            let err = PyImportError::new_err(format!("cannot import {module}: {msg}"));
            // `name` is what import machinery and users read to tell which
            // import failed; the constructor's message alone does not set it.
            err.value(py).setattr("name", module)?;
            Err(err)
        }
        Err(other) => Err(to_py(py, other)),
    }
}

/// Runs a module's application-level half in its namespace, as the
/// RustPython guest does, and drops the `__all__` PyO3 made while adding
/// the Rust half's names (the CPython modules these mirror have none).
pub fn run_app(
    module: &Bound<'_, PyModule>,
    code: &std::ffi::CStr,
    file: &std::ffi::CStr,
) -> PyResult<()> {
    let py = module.py();
    let dict = module.dict();
    if dict.contains("__all__")? {
        dict.del_item("__all__")?;
    }
    let code = PyCode::compile(py, code, file, PyCodeInput::File)?;
    code.run(Some(&dict), None)?;
    Ok(())
}

/// Host errors as the RustPython guest raises them. Private to the mixed
/// modules so they do not depend on the FFI core's port (`crate::ffi`),
/// which is made apart from them; only `not-permitted`, `invalid-argument`
/// and `limit-exceeded` are expected from these interfaces.
pub fn to_py(py: Python<'_>, err: FfiError) -> PyErr {
    match err {
        FfiError::NotPermitted(msg) => PyPermissionError::new_err(msg),
        FfiError::LoadFailed(msg) => PyOSError::new_err(msg),
        FfiError::NoSuchSymbol(msg) => PyAttributeError::new_err(msg),
        FfiError::InvalidArgument(msg) => PyValueError::new_err(msg),
        FfiError::BadPointer(msg) => segfault(py, msg),
        FfiError::LimitExceeded(msg) => PyMemoryError::new_err(msg),
        FfiError::Unsupported(msg) => PyNotImplementedError::new_err(msg),
        FfiError::SignatureMismatch(msg) => PyTypeError::new_err(msg),
        FfiError::Crashed(crash) if crash.recoverable => PyOSError::new_err(format!(
            "native code crashed: {} in {}",
            crash.signal_name, crash.function
        )),
        FfiError::Crashed(crash) => {
            // The host's own state may be corrupt: end the run as a shell
            // would report the signal, after saying where Python was.
            eprintln!(
                "Fatal Python error: {} in native code: {}\n\nPython stack (most recent call last):",
                crash.signal_name, crash.function
            );
            let _ = py
                .import("traceback")
                .and_then(|tb| tb.call_method0("print_stack"));
            if let Ok(sys) = py.import("sys") {
                for stream in ["stdout", "stderr"] {
                    let _ = sys.getattr(stream).and_then(|s| s.call_method0("flush"));
                }
            }
            crate::bindings::process::exit((128 + crash.signal).clamp(1, 255) as u8);
            std::process::abort()
        }
    }
}

/// `_rawffi.SegfaultException`, looked up at run time because it belongs
/// to `_rawffi`; RuntimeError (its base) when `_rawffi` is not there.
fn segfault(py: Python<'_>, msg: String) -> PyErr {
    let class = py
        .import("_rawffi")
        .and_then(|m| m.getattr("SegfaultException"))
        .ok()
        .filter(|c| c.is_instance_of::<pyo3::types::PyType>());
    match class {
        Some(class) => match class.call1((msg.clone(),)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(_) => PyRuntimeError::new_err(msg),
        },
        None => PyRuntimeError::new_err(msg),
    }
}
