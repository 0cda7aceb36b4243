//! The per-run host state behind every import.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use wasmffi_native::high::client::Helper;
use wasmffi_native::low::memory::NativeMemory;
use wasmffi_native::middle::closure::Callbacks;
use wasmffi_native::middle::signature::{Prepared, SigShape};
use wasmffi_native::middle::types::{lay_out, Layout};
use wasmffi_native::Ty;

use crate::bindings::FfiError;
use crate::policy::Policy;

pub struct HostState {
    pub wasi: WasiCtx,
    /// Handles of WASI resources and of ours (libraries, signatures, ...).
    pub table: ResourceTable,
    pub policy: Arc<Policy>,
    /// Native memory the guest allocated through the runtime.
    pub memory: NativeMemory,
    /// Native calls suspended while the guest runs a callback.
    pub callbacks: Callbacks,
    /// Set once native code crashed in-process: no native call runs after.
    pub native_crash: Option<crate::bindings::wasmffi::ffi::types::NativeCrash>,
    /// The helper process native code runs in under --isolate-native.
    pub isolated: Option<Helper>,
    /// What the mixed modules' host halves need (preopens, cache directory).
    pub mixed: crate::mixed::MixedState,
    /// Live FFI handles against the policy's limits.
    pub counts: crate::limits::Counters,
    /// The guest's linear-memory cap (installed with `Store::limiter`).
    pub limiter: crate::limits::GuestLimiter,
}

impl HostState {
    pub fn new(wasi: WasiCtx, policy: Arc<Policy>) -> Self {
        let mut memory = NativeMemory::new(policy.limits.native_memory);
        let raw = policy.raw_memory();
        memory.set_confined(!raw.granted(), raw.refusal());
        let isolated = policy.isolate_native.then(|| {
            Helper::new(
                crate::native_helper::own_executable(),
                policy.limits.native_memory,
                (!raw.granted()).then(|| raw.refusal()),
            )
        });
        HostState {
            counts: crate::limits::Counters::new(&policy.limits),
            limiter: crate::limits::GuestLimiter::new(&policy.limits),
            wasi,
            table: ResourceTable::new(),
            policy,
            memory,
            callbacks: Callbacks::default(),
            native_crash: None,
            isolated,
            mixed: Default::default(),
        }
    }
}

impl HostState {
    /// A type laid out by the native executor's libffi.
    pub fn lay_out(&mut self, tree: &Ty) -> Result<Layout, FfiError> {
        Ok(lay_out(tree)?.layout)
    }

    /// A signature prepared for the native executor.
    pub fn prepare(&mut self, shape: SigShape) -> Result<Prepared, FfiError> {
        Ok(Prepared::new(shape)?)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
