//! `wasmffi:ffi/process`: carries the guest's exit status out.

use crate::bindings::wasmffi::ffi::process::Host;
use crate::state::HostState;

impl Host for HostState {
    fn exit(&mut self, status: u8) -> wasmtime::Result<()> {
        // wasmtime-wasi's own exit uses the same error type; the runtime turns
        // it into the run's exit status.
        Err(wasmtime_wasi::I32Exit(i32::from(status)).into())
    }
}
