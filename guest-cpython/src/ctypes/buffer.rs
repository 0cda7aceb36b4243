//! PEP 3118 for ctypes objects: the Rust base class of `_CData`.
//!
//! A ctypes object's bytes are host memory, which a Py_buffer (a pointer
//! into the guest's linear memory) cannot point at. An export is therefore
//! a guest copy taken when the buffer is requested, written back to the
//! host when it is released if the consumer changed it. Format, shape and
//! item size are CPython's (app.py's `_b_buffer_` computes them from the
//! type info).

use std::ffi::{c_int, c_void, CString};
use std::sync::Arc;

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;

use super::fast::Plan;
use crate::ffi::memory::{read, write};

/// `_ctypes._CDataBase`: the Rust half of every ctypes instance. It holds
/// what the hot paths read without going through Python: the address of
/// the object's memory (`_b_addr_`) and, for function pointers, the call
/// plan (`super::fast`). It also makes `memoryview(c_int())` work.
#[pyclass(name = "_CDataBase", subclass, module = "_ctypes")]
#[derive(Default)]
pub struct CDataBase {
    pub addr: u64,
    pub plan: Option<Arc<Plan>>,
}

/// One export's storage, owned by the Py_buffer (`internal`).
struct Export {
    addr: u64,
    data: Vec<u8>,
    original: Vec<u8>,
    format: CString,
    shape: Vec<ffi::Py_ssize_t>,
}

#[pymethods]
impl CDataBase {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> Self {
        CDataBase::default()
    }

    /// The host address of the object's memory: what `addressof()` gives.
    #[getter(_b_addr_)]
    fn addr(&self) -> u64 {
        self.addr
    }

    #[setter(_b_addr_)]
    fn set_addr(&mut self, addr: u64) {
        self.addr = addr;
    }

    /// # Safety
    /// Called by the interpreter with a valid `view` to fill.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let py = slf.py();
        if view.is_null() {
            return Err(PyBufferError::new_err("NULL view"));
        }
        // the item size is the element type's, also for an empty array
        let (addr, size, format, shape, itemsize): (u64, usize, String, Vec<isize>, isize) =
            slf.call_method0("_b_buffer_")?.extract()?;
        let data = if size == 0 {
            Vec::new()
        } else {
            read(py, addr, size)?
        };
        let mut export = Box::new(Export {
            addr,
            original: data.clone(),
            data,
            format: CString::new(format).map_err(|_| PyBufferError::new_err("bad format"))?,
            shape: shape.iter().map(|&d| d as ffi::Py_ssize_t).collect(),
        });
        // SAFETY: `view` is the interpreter's, valid for writing; the
        // pointers stored into it stay valid until __releasebuffer__
        // frees `export` (its vectors are never resized meanwhile).
        unsafe {
            (*view).buf = export.data.as_mut_ptr().cast::<c_void>();
            (*view).obj = slf.clone().into_any().into_ptr();
            (*view).len = size as ffi::Py_ssize_t;
            (*view).readonly = 0;
            (*view).itemsize = itemsize as ffi::Py_ssize_t;
            (*view).format = if flags & ffi::PyBUF_FORMAT != 0 {
                export.format.as_ptr().cast_mut()
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = export.shape.len() as c_int;
            (*view).shape = if export.shape.is_empty() {
                std::ptr::null_mut()
            } else {
                export.shape.as_mut_ptr()
            };
            (*view).strides = std::ptr::null_mut();
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = Box::into_raw(export).cast::<c_void>();
        }
        Ok(())
    }

    /// # Safety
    /// Called by the interpreter with a view this class filled.
    unsafe fn __releasebuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer) {
        // SAFETY: `internal` is the Box that __getbuffer__ leaked.
        let export = unsafe { Box::from_raw((*view).internal.cast::<Export>()) };
        if export.data != export.original {
            // A consumer wrote into the copy: the object's memory follows.
            if let Err(err) = write(slf.py(), export.addr, &export.data) {
                err.write_unraisable(slf.py(), Some(slf.as_any()));
            }
        }
    }
}
