//! `_ctypes` for the CPython guest: the core under CPython 3.11's own,
//! unmodified `ctypes` package.
//!
//! # Design
//!
//! The boundary is the RustPython guest's (guest/src/ctypes/): every ctypes
//! buffer is host memory carved by the arena (`crate::ffi::arena`), so
//! `addressof()` is what native code sees; structure layouts come from the
//! host (`Layout`); calls cross once with a prepared signature and the
//! callback suspend/resume loop of `crate::ffi::call`; callbacks are
//! `crate::ffi::callback` closures; `get_errno` speaks the guest's numbers.
//!
//! What runs where:
//! - **Rust (this directory)** is the door and nothing else: blocks that
//!   free themselves (`native.rs`), byte/scalar access at an address,
//!   C strings, layouts, signatures, bound functions, callbacks and the
//!   library table (`calls.rs`). Values cross it already reduced to ints,
//!   floats, bytes and str.
//! - **Python (`app.py`, exec'd into this module at import)** is everything
//!   with ctypes semantics: the metaclasses (`PyCSimpleType`,
//!   `PyCStructType`, `UnionType`, `PyCArrayType`, `PyCPointerType`,
//!   `PyCFuncPtrType`), which must be Python because PyO3 cannot make
//!   metaclasses; and, for this first step, also `_CData` and its
//!   subclasses, `CField`, argument conversion (`from_param`,
//!   `_as_parameter_`, argtypes/restype/errcheck) and `_objects`.
//!
//! Why instances are Python too for now (the brief recommended Rust
//! pyclasses for them): a Python class whose metaclass is a Python
//! subclass of `type` and whose base is a PyO3 class works, but every
//! semantic detail (keep-alive, `_b_base_`, field descriptors, the many
//! conversion rules) would have to be written twice over the boundary
//! before anything ran. In Python it was working in one step, and the
//! hot paths (`CField.__get__/__set__`, `_SimpleCData.value`, the call's
//! argument conversion) are small functions over the Rust primitives here,
//! each of which can move into a `#[pyclass(subclass)]` base without
//! changing the metaclasses or the boundary.

mod buffer;
mod calls;
mod fast;
mod native;

#[pyo3::pymodule]
pub(crate) mod _ctypes {
    use pyo3::prelude::*;
    use pyo3::types::PyDict;

    use crate::ffi::platform::facts;

    #[pymodule_export]
    use super::buffer::{_new_instance, CDataBase};
    #[pymodule_export]
    use super::calls::{
        _dlopen, _find_library, dlclose, dlsym, Callback, Function, Layout, Signature,
    };
    #[pymodule_export]
    use super::fast::{
        _fast_install, _fast_setup, _forget_elem, _has_plan, _set_plan, CallPlan, FieldBase,
    };
    #[pymodule_export]
    use super::native::{
        _copy, _fill, _load, _read, _store, _string_at, _write, _wstring_at, Block,
    };

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        for name in ["RTLD_LOCAL", "RTLD_GLOBAL", "RTLD_NOW"] {
            module.add(name, facts().dlopen_flag(name))?;
        }
        let sizes = PyDict::new(py);
        for code in crate::ffi::prim::CODES.chars() {
            if let Some(p) = crate::ffi::prim::prim(code) {
                sizes.set_item(code.to_string(), (p.size, p.align))?;
            }
        }
        module.add("_prim_sizes", sizes)?;
        let c_types = PyDict::new(py);
        for t in &facts().raw.c_types {
            c_types.set_item(t.name.as_str(), (t.size, t.alignment, t.is_signed))?;
        }
        module.add("_c_types", c_types)?;
        let errno_codes = PyDict::new(py);
        for (name, value) in &facts().raw.errno_codes {
            errno_codes.set_item(name.as_str(), *value)?;
        }
        module.add("_host_errno_codes", errno_codes)?;
        let dict = module.dict();
        if dict.contains("__all__")? {
            dict.del_item("__all__")?;
        }
        // app.py, app_types.py, app_arrays.py, app_pointers.py and
        // app_calls.py, compiled by build.rs
        crate::app_code::exec(py, crate::app_code::CTYPES, &dict)
    }

    /// The guest's copy of C errno, in the host's numbering (app.py
    /// translates to and from the guest's).
    #[pyfunction]
    fn _get_host_errno() -> i32 {
        crate::ffi::errno()
    }

    #[pyfunction]
    fn _set_host_errno(value: i32) -> i32 {
        crate::ffi::set_errno(value)
    }
}
