//! The memory half of `_ctypes`' Rust core: buffers (arena blocks that free
//! themselves), byte and scalar access at host addresses, and C strings.
//! Every ctypes buffer is host memory, so `addressof()` is what native code
//! sees; each object keeps its `Block` (or, for memory it does not own, its
//! base object) alive.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::ffi::arena;
use crate::ffi::errors::OrRaise;
use crate::ffi::memory::{bytes_like, read, read_string, write};
use crate::ffi::platform::{facts, wire_to_native};
use crate::ffi::prim::{decode_bits, decode_bytes, decode_wide, encode, prim, Encoded, Kind, Prim};
use crate::ffi::wit::memory;

/// A zeroed native buffer from the arena, given back when the owner (a
/// ctypes object's `_b_block_`) goes away.
#[pyclass(name = "Block", unsendable, frozen)]
pub struct Block {
    #[pyo3(get)]
    pub(crate) addr: u64,
    #[pyo3(get)]
    size: u64,
}

#[pymethods]
impl Block {
    #[new]
    #[pyo3(signature = (size, align=16))]
    fn new(py: Python<'_>, size: u64, align: u32) -> PyResult<Self> {
        let addr = arena::alloc(py, size, align.max(1))?;
        Ok(Block { addr, size })
    }

    /// A block holding `data` (a string passed by value): one crossing.
    #[staticmethod]
    #[pyo3(signature = (data, align=16))]
    fn holding(py: Python<'_>, data: &Bound<'_, PyAny>, align: u32) -> PyResult<Self> {
        Block::holding_bytes(py, &bytes_like(data)?, align)
    }
}

impl Block {
    pub fn holding_bytes(py: Python<'_>, bytes: &[u8], align: u32) -> PyResult<Self> {
        let addr = arena::alloc_with(py, bytes, align.max(1))?;
        Ok(Block {
            addr,
            size: bytes.len() as u64,
        })
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        arena::free(self.addr);
    }
}

/// The primitive of a one-character type code.
pub fn prim_of(code: &str) -> PyResult<Prim> {
    let mut chars = code.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => prim(c),
        _ => None,
    }
    .ok_or_else(|| PyTypeError::new_err(format!("unknown ctypes type code {code:?}")))
}

/// A scalar as Python sees it in ctypes' raw layer: pointer-like values
/// (`P`, `z`, `Z`) are plain addresses; app.py turns them into strings.
pub fn decode_raw<'py>(py: Python<'py>, p: Prim, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    match p.kind {
        Kind::CharP | Kind::WCharP | Kind::Pointer => {
            let mut raw = [0u8; 8];
            let n = bytes.len().min(8);
            raw[..n].copy_from_slice(&bytes[..n]);
            Ok(u64::from_le_bytes(raw).into_pyobject(py)?.into_any())
        }
        _ => decode_bytes(py, p, bytes),
    }
}

#[pyfunction]
pub fn _read(py: Python<'_>, addr: u64, len: usize) -> PyResult<Bound<'_, PyBytes>> {
    Ok(PyBytes::new(py, &read(py, addr, len)?))
}

#[pyfunction]
pub fn _write(py: Python<'_>, addr: u64, data: &Bound<'_, PyAny>) -> PyResult<()> {
    let bytes = bytes_like(data)?;
    if bytes.is_empty() {
        return Ok(());
    }
    write(py, addr, &bytes)
}

#[pyfunction]
pub fn _copy(py: Python<'_>, dst: u64, src: u64, len: u64) -> PyResult<()> {
    if len == 0 {
        return Ok(());
    }
    memory::copy(dst, src, len).or_raise(py)
}

#[pyfunction]
pub fn _fill(py: Python<'_>, dst: u64, byte: i64, len: u64) -> PyResult<()> {
    if len == 0 {
        return Ok(());
    }
    memory::fill(dst, byte as u8, len).or_raise(py)
}

/// The scalar of type `code` at `addr` (pointer-likes as addresses).
#[pyfunction]
pub fn _load<'py>(py: Python<'py>, addr: u64, code: &str) -> PyResult<Bound<'py, PyAny>> {
    let p = prim_of(code)?;
    match p.kind {
        Kind::LongDouble => {
            let mut bytes = read(py, addr, p.size as usize)?;
            wire_to_native(&mut bytes);
            decode_bytes(py, p, &bytes)
        }
        Kind::CharP | Kind::WCharP => decode_raw(
            py,
            p,
            &memory::load(addr, p.scalar).or_raise(py)?.to_le_bytes(),
        ),
        Kind::Void => Ok(py.None().into_bound(py)),
        _ => decode_bits(py, p, memory::load(addr, p.scalar).or_raise(py)?),
    }
}

/// Store `value` as the scalar of type `code` at `addr`. Strings by value
/// are app.py's business (it allocates them and stores the address).
#[pyfunction]
pub fn _store(py: Python<'_>, addr: u64, code: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let p = prim_of(code)?;
    match encode(p, value)? {
        Encoded::Bits(bits) => memory::store(addr, p.scalar, bits).or_raise(py),
        Encoded::Bytes(mut bytes) => {
            wire_to_native(&mut bytes);
            write(py, addr, &bytes)
        }
        Encoded::Temporary(_) => Err(PyTypeError::new_err(
            "a string by value needs its own buffer",
        )),
    }
}

/// `string_at(addr, size)`: up to the NUL when `size` is negative.
#[pyfunction]
#[pyo3(signature = (addr, size=-1))]
pub fn _string_at(py: Python<'_>, addr: u64, size: i64) -> PyResult<Bound<'_, PyBytes>> {
    let max = u64::try_from(size).ok();
    Ok(PyBytes::new(py, &read_string(py, addr, 1, max)?))
}

#[pyfunction]
#[pyo3(signature = (addr, size=-1))]
pub fn _wstring_at(py: Python<'_>, addr: u64, size: i64) -> PyResult<Bound<'_, PyString>> {
    let max = u64::try_from(size).ok();
    let bytes = read_string(py, addr, facts().wchar_size(), max)?;
    Ok(PyString::new(py, &decode_wide(py, &bytes)?))
}
