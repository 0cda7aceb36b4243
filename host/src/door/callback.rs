//! `wasmffi:ffi/call.callback`: C function pointers into the guest. The
//! closures and the coroutines that suspend a native call while the guest
//! runs a callback are the native side's (`wasmffi_native::middle::closure`);
//! this checks the policy and keeps the handles.

use wasmffi_native::middle::closure::Slot;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::call::HostCallback;
use crate::bindings::FfiError;
use crate::door::call::Signature;
use crate::state::HostState;

/// The WIT `callback` resource: a C function pointer into the guest.
pub struct Callback {
    /// `None` when native code runs in a helper process: the closure lives there.
    slot: Option<&'static Slot>,
    address: u64,
}

impl HostCallback for HostState {
    fn create(
        &mut self,
        sig: Resource<Signature>,
        id: u32,
    ) -> Result<Resource<Callback>, FfiError> {
        let sig = self
            .table
            .get(&sig)
            .map(|s| s.0.clone())
            .map_err(|e| FfiError::InvalidArgument(format!("signature handle: {e}")))?;
        // Policy: counted, and in checked mode no pointer results (native
        // code would trust whatever address the guest returned).
        crate::door::checked::check_callback(self.memory.is_confined(), &sig)?;
        self.counts
            .acquire(crate::policy::limits::Handle::Callback)?;
        let (slot, address) = match self.isolated.as_mut() {
            Some(isolated) => (None, isolated.new_callback(&sig.shape, id)?),
            None => {
                let slot = self.callbacks.create(sig.clone(), id)?;
                (Some(slot), slot.address())
            }
        };
        self.counts
            .callback_addresses
            .insert(address, sig.shape.clone());
        self.table
            .push(Callback { slot, address })
            .map_err(|e| FfiError::LimitExceeded(format!("callbacks: {e}")))
    }

    fn address(&mut self, cb: Resource<Callback>) -> u64 {
        self.table.get(&cb).map(|c| c.address).unwrap_or(0)
    }

    fn drop(&mut self, rep: Resource<Callback>) -> wasmtime::Result<()> {
        let callback = self.table.delete(rep)?;
        match callback.slot {
            Some(slot) => self.callbacks.retire(slot),
            None => {
                if let Some(isolated) = self.isolated.as_mut() {
                    isolated.retire_callback(callback.address);
                }
            }
        }
        self.counts.release(crate::policy::limits::Handle::Callback);
        self.counts.callback_addresses.remove(&callback.address);
        Ok(())
    }
}
