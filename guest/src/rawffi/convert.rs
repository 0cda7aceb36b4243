//! Type descriptions and argument/result conversion for `_rawffi`.

use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};

use super::_rawffi::StructLayoutObj;
use crate::ffi::call::{check_usable, ArgBuffer, CallSpec, Returned, ValueSpec};
use crate::ffi::errors::type_name;
use crate::ffi::memory;
use crate::ffi::prim::{address_of, decode_bits, decode_bytes, encode, prim_from_str, utf8, Kind};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SpecSource {
    Argument,
    Result,
    Field,
}

/// A type as `_rawffi` accepts it: a type code, a `StructLayout`, or a
/// shape (anything with a `_layout` attribute, such as `_rawffi.Structure`).
/// Returns the shape too, to convert struct values by value.
pub fn parse_spec(
    tp: &Bound<'_, PyAny>,
    source: SpecSource,
) -> PyResult<(ValueSpec, Option<Py<PyAny>>)> {
    if let Ok(code) = tp.cast::<PyString>() {
        let prim = prim_from_str(utf8(code, "surrogates are not allowed here")?)?;
        check_usable(prim, source == SpecSource::Result)?;
        return Ok((ValueSpec::Prim(prim), None));
    }
    if let Ok(layout) = tp.cast::<StructLayoutObj>() {
        return Ok((
            ValueSpec::Aggregate(layout.borrow().aggregate.clone()),
            None,
        ));
    }
    if let Ok(layout) = tp.getattr("_layout") {
        if let Ok(layout) = layout.cast::<StructLayoutObj>() {
            return Ok((
                ValueSpec::Aggregate(layout.borrow().aggregate.clone()),
                Some(tp.clone().unbind()),
            ));
        }
    }
    Err(PyTypeError::new_err(format!(
        "expected a type code, a StructLayout or a shape, not {}",
        type_name(tp)
    )))
}

/// Prefix an argument's conversion error with its position, as ctypes does.
fn at_argument(py: Python<'_>, index: usize, err: PyErr) -> PyErr {
    if !err.is_instance_of::<PyTypeError>(py) {
        return err;
    }
    let message = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    PyTypeError::new_err(format!("argument {}: {message}", index + 1))
}

/// Pack a call's arguments (a tuple's items, or a vectorcall's array).
pub fn pack_call<'py, A>(
    py: Python<'py>,
    spec: &CallSpec,
    shapes: &[Option<Py<PyAny>>],
    args: impl ExactSizeIterator<Item = A>,
) -> PyResult<ArgBuffer>
where
    A: std::ops::Deref<Target = Bound<'py, PyAny>>,
{
    if args.len() != spec.args.len() {
        return Err(PyTypeError::new_err(format!(
            "this function takes {} argument{} ({} given)",
            spec.args.len(),
            if spec.args.len() == 1 { "" } else { "s" },
            args.len()
        )));
    }
    let mut buffer = spec.buffer();
    for (index, (arg, ty)) in args.zip(&spec.args).enumerate() {
        let arg: &Bound<'py, PyAny> = &arg;
        let offset = spec.offsets[index];
        match ty {
            ValueSpec::Prim(prim) => {
                let value = encode(*prim, arg).map_err(|e| at_argument(py, index, e))?;
                buffer.put(offset, *prim, value);
            }
            ValueSpec::Aggregate(aggregate) => {
                let size = aggregate.layout.size as usize;
                let bytes = if let Ok(b) = arg.cast::<PyBytes>() {
                    b.as_bytes().to_vec()
                } else {
                    let shape = shapes.get(index).and_then(Option::as_ref);
                    // By value means an instance (or its bytes), never a bare address.
                    let address = match arg.getattr("buffer") {
                        Ok(buffer) if !arg.is_instance_of::<PyInt>() => {
                            address_of(&buffer)?.filter(|&a| a != 0)
                        }
                        Ok(_) => None,
                        // A freed instance says so; only "no such attribute" means "not an instance".
                        Err(e) if e.is_instance_of::<PyAttributeError>(py) => None,
                        Err(e) => return Err(e),
                    }
                    .ok_or_else(|| {
                        PyTypeError::new_err(format!(
                            "argument {}: expected a {} instance, not {}",
                            index + 1,
                            shape.map_or("struct".to_owned(), |s| type_name(s.bind(py))),
                            type_name(arg)
                        ))
                    })?;
                    memory::read(py, address, size)?
                };
                if bytes.len() != size {
                    return Err(PyTypeError::new_err(format!(
                        "argument {}: a {size}-byte struct, not {} bytes",
                        index + 1,
                        bytes.len()
                    )));
                }
                buffer.put_bytes(offset, &bytes);
            }
        }
    }
    Ok(buffer)
}

pub fn unpack_result<'py>(
    py: Python<'py>,
    spec: &CallSpec,
    shape: Option<&Py<PyAny>>,
    returned: Returned,
) -> PyResult<Bound<'py, PyAny>> {
    match &spec.ret {
        None => Ok(py.None().into_bound(py)),
        Some(ValueSpec::Prim(prim)) if prim.kind == Kind::LongDouble => {
            decode_bytes(py, *prim, returned.bytes.as_deref().unwrap_or_default())
        }
        Some(ValueSpec::Prim(prim)) => decode_bits(py, *prim, returned.value),
        Some(ValueSpec::Aggregate(_)) => {
            let bytes = PyBytes::new(py, &returned.bytes.unwrap_or_default());
            match shape {
                Some(shape) => shape.bind(py).call_method1("_from_bytes", (bytes,)),
                None => Ok(bytes.into_any()),
            }
        }
    }
}
