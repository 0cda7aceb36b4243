//! `zlib.Compress` and `zlib.Decompress`, the objects `compressobj()` and
//! `decompressobj()` return, over the host's streams. As CPython 3.11's: not
//! instantiable, not subclassable, not picklable, `eof`, `unused_data` and
//! `unconsumed_tail` read-only, and not reachable as module attributes.

use pyo3::exceptions::{PyAttributeError, PyTypeError, PyValueError};
use pyo3::ffi as capi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use super::args::{c_int, no_args, ssize_t, Params, View};
use super::OrRaise;
use crate::bindings::zlib as host;

const Z_FINISH: i32 = 4;
const DEF_BUF_SIZE: u64 = 16384;

/// As CPython's types (`Py_TPFLAGS_DISALLOW_INSTANTIATION`): no `tp_new`, so
/// `zlib.Compress()` is "cannot create 'zlib.Compress' instances" and
/// `object.__new__(zlib.Compress)` "is not safe". PyO3 gives a class without
/// `#[new]` a `tp_new` that raises a message of its own, and the `__new__`
/// that wraps it goes too (it would call the missing slot).
pub(super) fn disallow_instantiation(tp: &Bound<'_, pyo3::types::PyType>) -> PyResult<()> {
    let ptr = tp.as_type_ptr();
    // SAFETY: a live heap type made by PyO3, the GIL held; the type cache is
    // told about the change.
    unsafe {
        (*ptr).tp_new = None;
        let dict = (*ptr).tp_dict;
        if !dict.is_null() && capi::PyDict_DelItemString(dict, c"__new__".as_ptr()) != 0 {
            capi::PyErr_Clear();
        }
        capi::PyType_Modified(ptr);
    }
    Ok(())
}

/// The methods both types have: `copy()`, `__copy__()`, `__deepcopy__(memo)`,
/// each a new object over a copy of the host's stream.
macro_rules! with_copy_methods {
    ($ty:ident($host:ident) { $($methods:tt)* }) => {
        impl $ty {
            pub(super) fn new(inner: host::$host) -> $ty {
                $ty { inner }
            }

            fn duplicate(&self, py: Python<'_>) -> PyResult<$ty> {
                Ok($ty { inner: self.inner.copy().or_raise(py)? })
            }
        }

        #[pymethods]
        impl $ty {
            $($methods)*

            #[pyo3(signature = (*args, **kwargs), text_signature = "($self, /)")]
            fn copy(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<$ty> {
                no_args("copy", args, kwargs)?;
                self.duplicate(args.py())
            }

            #[pyo3(signature = (*args, **kwargs), text_signature = "($self, /)")]
            fn __copy__(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<$ty> {
                no_args("__copy__", args, kwargs)?;
                self.duplicate(args.py())
            }

            #[pyo3(signature = (*args, **kwargs), text_signature = "($self, memo, /)")]
            fn __deepcopy__(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<$ty> {
                const P: Params = Params::new("__deepcopy__", 1, 1, &[]);
                P.parse(args, kwargs)?;
                self.duplicate(args.py())
            }
        }
    };
}

#[pyclass(name = "Compress", module = "zlib", unsendable)]
pub(super) struct Compress {
    inner: host::Compressor,
}

with_copy_methods!(Compress(Compressor) {
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, data, /)")]
    fn compress<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("compress", 1, 1, &[]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let data = View::new(a[0].as_ref().expect("required"))?;
        let out = self.inner.compress(data.bytes()).or_raise(py)?;
        bytes(py, &out)
    }

    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, mode=zlib.Z_FINISH, /)")]
    fn flush<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("flush", 1, 0, &[]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let mode = a[0].as_ref().map(c_int).transpose()?.unwrap_or(Z_FINISH);
        bytes(py, &self.inner.flush(mode).or_raise(py)?)
    }
});

/// The attributes (`eof`, `unused_data`, `unconsumed_tail`) are the host's,
/// read when they are read: the guest keeps no copies of them.
#[pyclass(name = "Decompress", module = "zlib", unsendable)]
pub(super) struct Decompress {
    inner: host::Decompressor,
}

/// Setting or deleting an attribute: CPython's members are read-only, its
/// methods too, and there is no `__dict__`.
fn not_settable(name: &str) -> PyErr {
    PyAttributeError::new_err(match name {
        "eof" | "unused_data" | "unconsumed_tail" => "readonly attribute".to_owned(),
        "decompress" | "flush" | "copy" | "__copy__" | "__deepcopy__" => {
            format!("'zlib.Decompress' object attribute '{name}' is read-only")
        }
        _ => format!("'zlib.Decompress' object has no attribute '{name}'"),
    })
}

/// A bytes object, or the MemoryError of a guest that has no room for it
/// (`PyBytes::new` would panic).
pub(super) fn bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    // SAFETY: `data` is valid for its length; the GIL is held; a NULL result
    // has set the exception.
    unsafe {
        let ptr =
            capi::PyBytes_FromStringAndSize(data.as_ptr().cast(), data.len() as capi::Py_ssize_t);
        Bound::from_owned_ptr_or_err(py, ptr).map(|b| b.cast_into_unchecked())
    }
}

with_copy_methods!(Decompress(Decompressor) {
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, data, /, max_length=0)")]
    fn decompress<'py>(
        &mut self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("decompress", 1, 1, &["max_length"]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let data = View::new(a[0].as_ref().expect("required"))?;
        let max_length = a[1].as_ref().map(ssize_t).transpose()?.unwrap_or(0);
        if max_length < 0 {
            return Err(PyValueError::new_err("max_length must be non-negative"));
        }
        let out = self.inner.decompress(data.bytes(), max_length as u64).or_raise(py)?;
        bytes(py, &out)
    }

    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, length=zlib.DEF_BUF_SIZE, /)")]
    fn flush<'py>(
        &mut self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("flush", 1, 0, &[]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let length = match a[0].as_ref().map(ssize_t).transpose()? {
            None => DEF_BUF_SIZE,
            Some(n) if n <= 0 => {
                return Err(PyValueError::new_err("length must be greater than zero"))
            }
            Some(n) => n as u64,
        };
        bytes(py, &self.inner.flush(length).or_raise(py)?)
    }

    #[getter]
    fn eof(&self) -> bool {
        self.inner.eof()
    }

    #[getter]
    fn unused_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        bytes(py, &self.inner.unused_data().or_raise(py)?)
    }

    #[getter]
    fn unconsumed_tail<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        bytes(py, &self.inner.unconsumed_tail().or_raise(py)?)
    }

    fn __setattr__(&mut self, name: &str, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(not_settable(name))
    }

    fn __delattr__(&mut self, name: &str) -> PyResult<()> {
        Err(not_settable(name))
    }
});

/// `decompressobj(zdict=...)` takes any object with the buffer protocol.
pub(super) fn check_zdict(zdict: &Bound<'_, PyAny>) -> PyResult<()> {
    // SAFETY: a live object with the GIL held.
    if unsafe { capi::PyObject_CheckBuffer(zdict.as_ptr()) } == 0 {
        return Err(PyTypeError::new_err(
            "zdict argument must support the buffer protocol",
        ));
    }
    Ok(())
}
