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
use pyo3::types::{PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::fast::Plan;
use crate::ffi::memory::{read, write};

/// `_ctypes._CDataBase`: the Rust half of every ctypes instance, CPython's
/// `CDataObject`. It holds the instance's state (CPython's `b_ptr`,
/// `b_base`, `b_index`, `b_objects`, ... under their Python names), so
/// that the hot paths in `super::fast` read it without Python, and, for
/// function pointers, the call plan. It also makes `memoryview(c_int())`
/// work (PEP 3118, below).
#[pyclass(name = "_CDataBase", subclass, module = "_ctypes")]
#[derive(Default)]
pub struct CDataBase {
    /// The host address of the object's memory: what `addressof()` gives.
    pub addr: u64,
    /// The arena block that owns the memory (None: another object's).
    pub block: Option<Py<PyAny>>,
    /// The object whose memory this one shares, and where in it.
    pub base: Option<Py<PyAny>>,
    pub index: i64,
    /// What must stay alive with the memory (CPython's `b_objects`).
    pub objects: Option<Py<PyAny>>,
    /// Ours: host copies of strings stored into the memory, and the like.
    pub hidden: Option<Py<PyAny>>,
    /// A `resize()`d object's size (None: its type's).
    pub size: Option<Py<PyAny>>,
    pub plan: Option<Arc<Plan>>,
}

/// A Python attribute value as an optional reference: None is None.
fn slot(value: Option<Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    value.filter(|v| !v.is_none()).map(Bound::unbind)
}

fn get(py: Python<'_>, value: &Option<Py<PyAny>>) -> Py<PyAny> {
    value
        .as_ref()
        .map_or_else(|| py.None(), |v| v.clone_ref(py))
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

    #[getter(_b_addr_)]
    fn get_addr(&self) -> u64 {
        self.addr
    }

    #[setter(_b_addr_)]
    fn set_addr(&mut self, addr: u64) {
        self.addr = addr;
    }

    #[getter(_b_block_)]
    fn get_block(&self, py: Python<'_>) -> Py<PyAny> {
        get(py, &self.block)
    }

    #[setter(_b_block_)]
    fn set_block(&mut self, value: Option<Bound<'_, PyAny>>) {
        self.block = slot(value);
    }

    #[getter(_b_base_)]
    fn get_base(&self, py: Python<'_>) -> Py<PyAny> {
        get(py, &self.base)
    }

    #[setter(_b_base_)]
    fn set_base(&mut self, value: Option<Bound<'_, PyAny>>) {
        self.base = slot(value);
    }

    #[getter(_b_index_)]
    fn get_index(&self) -> i64 {
        self.index
    }

    #[setter(_b_index_)]
    fn set_index(&mut self, index: i64) {
        self.index = index;
    }

    #[getter(_objects)]
    fn get_objects(&self, py: Python<'_>) -> Py<PyAny> {
        get(py, &self.objects)
    }

    #[setter(_objects)]
    fn set_objects(&mut self, value: Option<Bound<'_, PyAny>>) {
        self.objects = slot(value);
    }

    #[getter(_b_hidden_)]
    fn get_hidden(&self, py: Python<'_>) -> Py<PyAny> {
        get(py, &self.hidden)
    }

    #[setter(_b_hidden_)]
    fn set_hidden(&mut self, value: Option<Bound<'_, PyAny>>) {
        self.hidden = slot(value);
    }

    #[getter(_b_size_)]
    fn get_size(&self, py: Python<'_>) -> Py<PyAny> {
        get(py, &self.size)
    }

    #[setter(_b_size_)]
    fn set_size(&mut self, value: Option<Bound<'_, PyAny>>) {
        self.size = slot(value);
    }

    /// `__getitem__` of arrays and pointers (app.py assigns it): numbers
    /// in Rust, anything else through the class's `_getitem`.
    fn _item_get<'py>(
        slf: &Bound<'py, Self>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        super::fast::item_get(slf, index)
    }

    /// `__setitem__` of arrays and pointers, as `_item_get`.
    fn _item_set(
        slf: &Bound<'_, Self>,
        index: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        super::fast::item_set(slf, index, value)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for value in [
            &self.block,
            &self.base,
            &self.objects,
            &self.hidden,
            &self.size,
        ] {
            if let Some(value) = value {
                visit.call(value)?;
            }
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.block = None;
        self.base = None;
        self.objects = None;
        self.hidden = None;
        self.size = None;
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

/// A new instance of `cls` (a ctypes type) over the memory at `addr`,
/// owned by `block` or shared with `base`: CPython's PyCData_AtAddress and
/// PyCData_FromBaseObj. Neither `__new__` nor `__init__` of `cls` runs.
#[pyfunction]
#[pyo3(signature = (cls, addr, block, base=None, index=0))]
pub fn _new_instance<'py>(
    cls: &Bound<'py, PyType>,
    addr: u64,
    block: Option<Bound<'py, PyAny>>,
    base: Option<Bound<'py, PyAny>>,
    index: i64,
) -> PyResult<Bound<'py, CDataBase>> {
    let obj = new_instance(cls)?;
    {
        let mut data = obj.borrow_mut();
        data.addr = addr;
        data.block = slot(block);
        data.base = slot(base);
        data.index = index;
    }
    Ok(obj)
}

/// An instance of `cls` with the Rust base's defaults.
pub fn new_instance<'py>(cls: &Bound<'py, PyType>) -> PyResult<Bound<'py, CDataBase>> {
    let py = cls.py();
    if !cls.is_subclass_of::<CDataBase>()? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{} is not a ctypes type",
            cls.name()?
        )));
    }
    let new = unsafe { (*py.get_type::<CDataBase>().as_type_ptr()).tp_new }
        .ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("_CDataBase has no tp_new"))?;
    let args = PyTuple::empty(py);
    // SAFETY: `cls` is a subtype of _CDataBase, whose tp_new allocates an
    // instance of the subtype given and initialises the Rust part; `args`
    // is a live tuple; the result is a new reference or NULL with an error.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            new(cls.as_type_ptr(), args.as_ptr(), std::ptr::null_mut()),
        )
        .map(|obj| obj.cast_into_unchecked::<CDataBase>())
    }
}
