//! `_ctypes` for the CPython guest: the core under CPython 3.11's own,
//! unmodified `ctypes` package.
//!
//! # Design
//!
//! Every ctypes buffer is host memory carved by the arena
//! (`crate::ffi::arena`), so `addressof()` is what native code sees;
//! structure layouts come from the host (`Layout`); calls cross once with a
//! prepared signature and the callback suspend/resume loop of
//! `crate::ffi::call`; callbacks are `crate::ffi::callback` closures;
//! `get_errno` speaks the guest's numbers.
//!
//! What runs where:
//! - **Rust** is the door and the hot paths. `buffer.rs`: `_CDataBase`,
//!   every instance's state (CPython's `CDataObject`: address, owning
//!   block, base, `_objects`, ...) and PEP 3118; `native.rs`: blocks that
//!   free themselves, byte/scalar access at an address, C strings;
//!   `calls.rs`: layouts, signatures, bound functions, callbacks, the
//!   library table; `fast.rs`: calls, fields, simple values and array or
//!   pointer items whose values are plain numbers, run from plans without
//!   entering Python.
//! - **Python** (`app*.py`, compiled when the guest is built and run in
//!   this module at import, one namespace) is everything with ctypes
//!   semantics: the metaclasses (`PyCSimpleType`, `PyCStructType`,
//!   `UnionType`, `PyCArrayType`, `PyCPointerType`, `PyCFuncPtrType`), which
//!   must be Python because PyO3 cannot make metaclasses; `_CData`'s
//!   methods, `CField`, argument conversion (`from_param`,
//!   `_as_parameter_`, argtypes/restype/errcheck, paramflags), keep-alive.
//!   It makes the plans `fast.rs` runs once it has checked a case with the
//!   full rules, and is what every case a plan does not cover falls back
//!   to, so the two never disagree on semantics.

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
        _dlopen, _find_library, _kept_bytes_address, dlclose, dlsym, Callback, Function, Layout,
        Signature,
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
        // Native code's byte order, which app*.py and the standard
        // library's ctypes/_endian.py (patched by scripts/cpython_wasi.py)
        // use for native data; `sys.byteorder` stays the guest's.
        let order = if facts().big_endian() {
            "big"
        } else {
            "little"
        };
        module.add("_native_byteorder", order)?;
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
