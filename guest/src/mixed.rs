//! Mixed modules backed by typed host interfaces (`zlib`, `_probe`,
//! `_sqlite3`): a
//! Rust part (`<name>/mod.rs`, a `#[pymodule]` registered in main.rs's
//! inittab) plus an application-level `app.py` run in the module at import.
//! Each calls [`enable`] first, so the host's policy decides whether it
//! imports.

use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;

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
        Err(other) => Err(crate::ffi::errors::to_py(py, other)),
    }
}

/// Runs a module's application-level half (`crate::app_code`, compiled when
/// the guest was built) in its namespace, and drops the `__all__` PyO3 made
/// while adding the Rust half's names (the CPython modules these mirror
/// have none).
pub fn run_app(module: &Bound<'_, PyModule>, code: &[u8]) -> PyResult<()> {
    let dict = module.dict();
    if dict.contains("__all__")? {
        dict.del_item("__all__")?;
    }
    crate::app_code::exec(module.py(), code, &dict)
}
