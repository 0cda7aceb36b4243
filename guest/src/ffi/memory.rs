//! Native memory through the host, with Python errors.

use pyo3::exceptions::{PyBufferError, PyOverflowError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::OrRaise;
use super::wit::memory;

pub fn read(py: Python<'_>, address: u64, len: usize) -> PyResult<Vec<u8>> {
    let len = u32::try_from(len).map_err(|_| PyOverflowError::new_err("read too large"))?;
    memory::read(address, len).or_raise(py)
}

pub fn write(py: Python<'_>, address: u64, data: &[u8]) -> PyResult<()> {
    memory::write(address, data).or_raise(py)
}

/// The NUL-terminated string of `element`-byte units at `address`, without
/// its terminator; `max` bounds the units read (like `string_at(addr, n)`).
pub fn read_string(
    py: Python<'_>,
    address: u64,
    element: u32,
    max: Option<u64>,
) -> PyResult<Vec<u8>> {
    let units = match max {
        Some(n) => n,
        None => memory::string_length(address, element).or_raise(py)?,
    };
    let bytes = units
        .checked_mul(u64::from(element))
        .ok_or_else(|| PyOverflowError::new_err("string too long"))?;
    let bytes = usize::try_from(bytes).map_err(|_| PyOverflowError::new_err("read too large"))?;
    read(py, address, bytes)
}

/// The bytes of any contiguous buffer (`bytes`, `bytearray`, `memoryview`,
/// `array.array`, ...), whatever its item format: what goes to the host.
pub fn bytes_like(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let buffer = pyo3::buffer::PyUntypedBuffer::get(data)?;
    if !buffer.is_c_contiguous() {
        return Err(PyBufferError::new_err("a contiguous buffer is required"));
    }
    let len = buffer.len_bytes();
    if len == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: a C-contiguous buffer of `len` bytes, held (and so kept alive
    // and unmoved) by `buffer` while it is copied.
    let bytes = unsafe { std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>(), len) };
    Ok(bytes.to_vec())
}
