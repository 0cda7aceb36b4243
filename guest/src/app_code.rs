//! The application-level halves of the modules (their `app*.py`),
//! compiled to bytecode when the guest is built (build.rs runs the build
//! machine's python3.11, the guest's bytecode version) rather than each
//! time a program imports them: `import ctypes` spent ~100 ms of a
//! 250 ms start compiling its 2,500 lines, `import sqlite3` ~30 ms.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `marshal`led code of `_ctypes`' app-level half (app.py, app_types.py,
/// app_arrays.py, app_pointers.py, app_calls.py: one namespace).
pub const CTYPES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/_ctypes.app.marshal"));
pub const RAWFFI: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/_rawffi.app.marshal"));
pub const ZLIB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/zlib.app.marshal"));
pub const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/_probe.app.marshal"));
pub const SQLITE3: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/_sqlite3.app.marshal"));

/// Run marshalled `code` in `globals` (given `__builtins__`, as `exec()`
/// gives it: app code may read it).
pub fn exec(py: Python<'_>, code: &[u8], globals: &Bound<'_, PyDict>) -> PyResult<()> {
    if !globals.contains("__builtins__")? {
        globals.set_item("__builtins__", PyModule::import(py, "builtins")?)?;
    }
    let len = pyo3::ffi::Py_ssize_t::try_from(code.len())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("app code too large"))?;
    // SAFETY: `code` is a live byte slice of `len` bytes; the call returns a
    // new reference or NULL with an exception set.
    let code = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyMarshal_ReadObjectFromString(code.as_ptr().cast(), len),
        )?
    };
    // SAFETY: `code` is a code object (build.rs marshalled one), `globals`
    // a dict; the result is a new reference or NULL with an exception set.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyEval_EvalCode(code.as_ptr(), globals.as_ptr(), globals.as_ptr()),
        )
    }
    .map(drop)
}
