//! `wasmffi:ffi/memory`: native memory as the guest sees it. The blocks,
//! their quarantine and the guarded copies are the native side's
//! (`wasmffi_native::low::memory`); this routes each request to where
//! native code runs.

use wasmffi_native::high::protocol::Request;

use crate::bindings::wasmffi::ffi::memory::Host;
use crate::bindings::{FfiError, Scalar};
use crate::door::scalar;
use crate::state::HostState;

impl Host for HostState {
    fn alloc(&mut self, size: u64, alignment: u32) -> Result<u64, FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_value(Request::Alloc { size, alignment })?);
        }
        Ok(self.memory.alloc(size, alignment)?)
    }

    fn free(&mut self, address: u64) -> Result<(), FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_unit(Request::Free { address })?);
        }
        Ok(self.memory.free(address)?)
    }

    fn read(&mut self, address: u64, len: u32) -> Result<Vec<u8>, FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_bytes(Request::Read { address, len })?);
        }
        self.memory.locate_for(address, u64::from(len), false)?;
        let mut buf = vec![0u8; len as usize];
        self.memory.read(address, &mut buf)?;
        Ok(buf)
    }

    fn write(&mut self, address: u64, data: Vec<u8>) -> Result<(), FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_unit(Request::Write { address, data })?);
        }
        Ok(self.memory.write(address, &data)?)
    }

    fn load(&mut self, address: u64, kind: Scalar) -> Result<u64, FfiError> {
        let kind = scalar(kind);
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_value(Request::Load { address, kind })?);
        }
        Ok(self.memory.load(address, kind)?)
    }

    fn store(&mut self, address: u64, kind: Scalar, value: u64) -> Result<(), FfiError> {
        let kind = scalar(kind);
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_unit(Request::Store {
                address,
                kind,
                value,
            })?);
        }
        Ok(self.memory.store(address, kind, value)?)
    }

    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_unit(Request::Copy { dst, src, len })?);
        }
        Ok(self.memory.copy(dst, src, len)?)
    }

    fn fill(&mut self, dst: u64, byte: u8, len: u64) -> Result<(), FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            return Ok(iso.memory_unit(Request::Fill { dst, byte, len })?);
        }
        Ok(self.memory.fill(dst, byte, len)?)
    }

    fn checked(&mut self) -> bool {
        self.policy.memory_checked()
    }

    fn string_length(&mut self, address: u64, element_size: u32) -> Result<u64, FfiError> {
        if let Some(iso) = self.isolated.as_mut() {
            let element = element_size;
            return Ok(iso.memory_value(Request::StringLength { address, element })?);
        }
        Ok(self.memory.string_length(address, element_size)?)
    }
}
