//! Native memory through the host, with Python errors.

use rustpython_vm::{PyResult, VirtualMachine};

use super::errors::OrRaise;
use crate::bindings::memory;

pub fn read(vm: &VirtualMachine, address: u64, len: usize) -> PyResult<Vec<u8>> {
    let len = u32::try_from(len).map_err(|_| vm.new_overflow_error("read too large"))?;
    memory::read(address, len).or_raise(vm)
}

pub fn write(vm: &VirtualMachine, address: u64, data: &[u8]) -> PyResult<()> {
    memory::write(address, data).or_raise(vm)
}

/// The NUL-terminated string of `element`-byte units at `address`, without
/// its terminator; `max` bounds the units read (like `string_at(addr, n)`).
pub fn read_string(
    vm: &VirtualMachine,
    address: u64,
    element: u32,
    max: Option<u64>,
) -> PyResult<Vec<u8>> {
    let units = match max {
        Some(n) => n,
        None => memory::string_length(address, element).or_raise(vm)?,
    };
    let bytes = units
        .checked_mul(u64::from(element))
        .ok_or_else(|| vm.new_overflow_error("string too long"))?;
    read(vm, address, bytes as usize)
}
