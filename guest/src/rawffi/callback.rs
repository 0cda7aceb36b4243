//! `_rawffi.CallbackPtr`'s handler: native arguments to Python values, the
//! Python result back to native bytes.

use std::rc::Rc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use pyo3::{ffi, PyTraverseError, PyVisit};

use crate::ffi::call::{CallSpec, ValueSpec};
use crate::ffi::callback::Handler;
use crate::ffi::memory;
use crate::ffi::prim::{address_of, decode_bytes, encode, Encoded, Kind};

pub struct RawHandler {
    pub callable: Py<PyAny>,
    pub spec: Rc<CallSpec>,
    pub arg_shapes: Vec<Option<Py<PyAny>>>,
}

impl Handler for RawHandler {
    fn call(&self, py: Python<'_>, packed: &[u8]) -> PyResult<Vec<u8>> {
        let result = if self.spec.args.len() <= INLINE_ARGS {
            self.call_inline(py, packed)?
        } else {
            let mut args = Vec::with_capacity(self.spec.args.len());
            for index in 0..self.spec.args.len() {
                args.push(self.argument(py, packed, index)?);
            }
            self.callable.bind(py).call1(PyTuple::new(py, args)?)?
        };
        self.reply(py, result)
    }

    fn target(&self, py: Python<'_>) -> Py<PyAny> {
        self.callable.clone_ref(py)
    }

    fn context(&self) -> &'static str {
        "on calling _rawffi callback function"
    }

    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.callable)?;
        for shape in self.arg_shapes.iter().flatten() {
            visit.call(shape)?;
        }
        Ok(())
    }
}

/// Callbacks of up to this many arguments call the Python function through
/// vectorcall from an array on the stack (no argument tuple).
const INLINE_ARGS: usize = 8;

impl RawHandler {
    /// Argument `index` of the packed native arguments, as a Python value.
    fn argument<'py>(
        &self,
        py: Python<'py>,
        packed: &[u8],
        index: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ty = &self.spec.args[index];
        let offset = self.spec.offsets[index] as usize;
        let bytes = packed
            .get(offset..offset + ty.size() as usize)
            .ok_or_else(|| {
                PyValueError::new_err("callback arguments are shorter than the signature")
            })?;
        Ok(match ty {
            ValueSpec::Prim(prim) => decode_bytes(py, *prim, bytes)?,
            ValueSpec::Aggregate(_) => {
                let data = PyBytes::new(py, bytes);
                match self.arg_shapes.get(index).and_then(Option::as_ref) {
                    Some(shape) => shape.bind(py).call_method1("_from_bytes", (data,))?,
                    None => data.into_any(),
                }
            }
        })
    }

    fn call_inline<'py>(&self, py: Python<'py>, packed: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let count = self.spec.args.len();
        let mut args: [Option<Bound<'py, PyAny>>; INLINE_ARGS] = Default::default();
        for (index, slot) in args.iter_mut().enumerate().take(count) {
            *slot = Some(self.argument(py, packed, index)?);
        }
        let mut ptrs = [std::ptr::null_mut::<ffi::PyObject>(); INLINE_ARGS];
        for (ptr, arg) in ptrs.iter_mut().zip(&args) {
            if let Some(arg) = arg {
                *ptr = arg.as_ptr();
            }
        }
        // SAFETY: `count` live objects (owned by `args` until after the
        // call), no keywords; attached to the interpreter.
        unsafe {
            let result = ffi::PyObject_Vectorcall(
                self.callable.as_ptr(),
                ptrs.as_ptr(),
                count,
                std::ptr::null_mut(),
            );
            Bound::from_owned_ptr_or_err(py, result)
        }
    }

    /// The Python result as the native result's bytes.
    fn reply(&self, py: Python<'_>, result: Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        match &self.spec.ret {
            None => Ok(Vec::new()),
            Some(ValueSpec::Prim(prim)) if prim.kind == Kind::Void => Ok(Vec::new()),
            Some(ValueSpec::Prim(prim)) => match encode(*prim, &result)? {
                Encoded::Bits(bits) => {
                    let size = (prim.size as usize).min(8);
                    Ok(bits.to_le_bytes()[..size].to_vec())
                }
                Encoded::Bytes(bytes) => Ok(bytes),
                Encoded::Temporary(_) => Err(PyTypeError::new_err(
                    "a callback cannot return a string by value: return an address that stays valid",
                )),
            },
            Some(ValueSpec::Aggregate(aggregate)) => {
                let size = aggregate.layout.size as usize;
                if let Ok(b) = result.cast::<PyBytes>() {
                    if b.as_bytes().len() == size {
                        return Ok(b.as_bytes().to_vec());
                    }
                }
                let buffer = result.getattr("buffer")?;
                let address = address_of(&buffer)?.filter(|&a| a != 0).ok_or_else(|| {
                    PyTypeError::new_err("the callback must return a structure instance")
                })?;
                memory::read(py, address, size)
            }
        }
    }
}
