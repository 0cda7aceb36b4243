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
    /// The helper process native code runs in under --isolate-native and
    /// --native-arch.
    pub isolated: Option<Helper>,
    /// Set under --native-arch: the helper runs another architecture's
    /// code, so layouts, signatures, symbols and platform facts are its, and
    /// nothing native is loaded in this process.
    pub foreign: bool,
    /// The helper's platform facts (under --native-arch), asked once.
    pub native_facts: Option<wasmffi_native::high::facts::PlatformFacts>,
    /// What the mixed modules' host halves need (preopens, cache directory).
    pub mixed: crate::mixed::MixedState,
    /// Live FFI handles against the policy's limits.
    pub counts: crate::policy::limits::Counters,
    /// The guest's linear-memory cap (installed with `Store::limiter`).
    pub limiter: crate::policy::limits::GuestLimiter,
}

impl HostState {
    pub fn new(wasi: WasiCtx, policy: Arc<Policy>) -> Self {
        let mut memory = NativeMemory::new(policy.limits.native_memory);
        let raw = policy.raw_memory();
        memory.set_confined(!raw.granted(), raw.refusal());
        let foreign = policy.native_arch.is_some();
        let isolated = (policy.isolate_native || foreign).then(|| {
            let command = match &policy.native_arch {
                Some(arch) => crate::policy::native_helper::for_arch(arch),
                None => Ok(crate::policy::native_helper::own_executable()),
            };
            Helper::new(
                command,
                policy.limits.native_memory,
                (!raw.granted()).then(|| raw.refusal()),
            )
        });
        HostState {
            counts: crate::policy::limits::Counters::new(&policy.limits),
            limiter: crate::policy::limits::GuestLimiter::new(&policy.limits),
            wasi,
            table: ResourceTable::new(),
            policy,
            memory,
            callbacks: Callbacks::default(),
            native_crash: None,
            isolated,
            foreign,
            native_facts: None,
            mixed: Default::default(),
        }
    }
}

impl HostState {
    /// A type laid out by the native executor's libffi.
    pub fn lay_out(&mut self, tree: &Ty) -> Result<Layout, FfiError> {
        match self.foreign_helper() {
            Some(helper) => Ok(helper.lay_out(tree)?),
            None => Ok(lay_out(tree)?.layout),
        }
    }

    /// A signature prepared for the native executor.
    pub fn prepare(&mut self, shape: SigShape) -> Result<Prepared, FfiError> {
        match self.foreign_helper() {
            Some(helper) => {
                let (_, layout) = helper.prepare(&shape)?;
                Ok(Prepared::remote((*layout).clone()))
            }
            None => Ok(Prepared::new(shape)?),
        }
    }

    /// The helper of another architecture (--native-arch), if native code
    /// runs in one.
    pub fn foreign_helper(&mut self) -> Option<&mut Helper> {
        if self.foreign {
            self.isolated.as_mut()
        } else {
            None
        }
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
