//! Native memory through the host, with Python errors.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

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
