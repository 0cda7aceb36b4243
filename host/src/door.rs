//! The hot crossings of the door, `call.invoke` and `call.resume`, linked by
//! hand over the ones `bindgen!` generates (same WIT types, checked against
//! the component when it is linked).
//!
//! What `bindgen!` does per crossing and this avoids:
//! * the argument buffer is lifted into a fresh `Vec` and then copied again
//!   to be staged: here it is read in place (`WasmList`) and copied once,
//!   onto the stack when the call passes no scratch and cannot call back;
//! * a scalar result is lowered field by field, each write looking the
//!   guest's memory up again: here the common `done` result (no bytes) is
//!   written in one go.
//!
//! Everything else (errors, struct results, callback requests,
//! --isolate-native) goes through the generated types' own lowering.

use std::mem::MaybeUninit;
use std::sync::LazyLock;

use wasmtime::component::__internal::{
    CanonicalAbiInfo, ComponentVariant, InstanceType, InterfaceType, LowerContext,
};
use wasmtime::component::{ComponentType, Lift, Linker, Lower, Resource, WasmList};
use wasmtime::StoreContextMut;

use crate::bindings::wasmffi::ffi::call::{CallArgs, CallDone, CallStep, Host};
use crate::bindings::FfiError;
use crate::call::{Function, Staging, STACK_WORDS};
use crate::state::HostState;

/// `call-args` as it sits in guest memory.
#[derive(ComponentType, Lift)]
#[component(record)]
struct RawCallArgs {
    #[component(name = "data")]
    data: WasmList<u8>,
    #[component(name = "relocations")]
    relocations: WasmList<u32>,
    #[component(name = "errno")]
    errno: Option<i32>,
}

/// What `invoke` and `resume` return: `result<call-step, ffi-error>`.
struct Answer(Result<CallStep, FfiError>);

type Generic = Result<CallStep, FfiError>;

/// Where the fields of `ok(done({value, bytes: none, errno}))` sit, from the
/// start of the result.
struct DoneLayout {
    size: usize,
    step: usize,
    value: usize,
    bytes: usize,
    errno: usize,
}

static DONE: LazyLock<DoneLayout> = LazyLock::new(|| {
    let step = <Generic as ComponentVariant>::PAYLOAD_OFFSET32;
    let done = step + <CallStep as ComponentVariant>::PAYLOAD_OFFSET32;
    let mut offset = 0usize;
    let value = <u64 as ComponentType>::ABI.next_field32_size(&mut offset);
    let bytes = <Option<Vec<u8>> as ComponentType>::ABI.next_field32_size(&mut offset);
    let errno = <i32 as ComponentType>::ABI.next_field32_size(&mut offset);
    DoneLayout {
        size: <Generic as ComponentType>::ABI.size32 as usize,
        step,
        value: done + value,
        bytes: done + bytes,
        errno: done + errno,
    }
});

// SAFETY: the same canonical ABI type as `Generic`, whose ABI, flat
// representation and type check it uses.
unsafe impl ComponentType for Answer {
    type Lower = <Generic as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <Generic as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <Generic as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: writes exactly what `Generic`'s lowering writes for the same value.
unsafe impl Lower for Answer {
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        self.0.linear_lower_to_flat(cx, ty, dst)
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        let Ok(CallStep::Done(CallDone {
            value,
            bytes: None,
            errno,
        })) = &self.0
        else {
            return self.0.linear_lower_to_memory(cx, ty, offset);
        };
        let layout = &*DONE;
        // The caller checked that the result fits at `offset`.
        let Some(out) = cx
            .as_slice_mut()
            .get_mut(offset..)
            .and_then(|m| m.get_mut(..layout.size))
        else {
            wasmtime::bail!("result pointer out of bounds");
        };
        out[0] = 0; // ok
        out[layout.step] = 0; // done
        out[layout.value..layout.value + 8].copy_from_slice(&value.to_le_bytes());
        out[layout.bytes] = 0; // none
        out[layout.errno..layout.errno + 4].copy_from_slice(&errno.to_le_bytes());
        Ok(())
    }
}

const INTERFACE: &str = "wasmffi:ffi/call@0.1.0";

/// Link `invoke` and `resume` over the generated ones.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut call = linker.instance(INTERFACE)?;
    call.func_wrap("invoke", invoke)?;
    call.func_wrap("resume", resume)?;
    linker.allow_shadowing(false);
    Ok(())
}

fn invoke(
    mut store: StoreContextMut<'_, HostState>,
    (f, args): (Resource<Function>, RawCallArgs),
) -> wasmtime::Result<(Answer,)> {
    let state = store.data();
    if state.isolated.is_some() {
        let args = CallArgs {
            data: args.data.as_le_slice(&store).to_vec(),
            relocations: args.relocations.as_le_slice(&store).to_vec(),
            errno: args.errno,
        };
        return Ok((Answer(Host::invoke(store.data_mut(), f, args)),));
    }
    let data = args.data.as_le_slice(&store);
    let mut stack = [MaybeUninit::<u128>::uninit(); STACK_WORDS];
    let on_stack = args.relocations.is_empty()
        && state.callbacks.live() == 0
        && data.len() <= STACK_WORDS * 16;
    let staging = if on_stack {
        // SAFETY: `data.len()` bytes of the stack buffer, written before
        // they are read; u128 storage keeps the slots 16-byte aligned.
        let bytes = unsafe {
            let at = stack.as_mut_ptr().cast::<u8>();
            std::ptr::copy_nonoverlapping(data.as_ptr(), at, data.len());
            std::slice::from_raw_parts_mut(at, data.len())
        };
        Staging::Borrowed(bytes)
    } else {
        Staging::owned(data)
    };
    let relocations = match args.relocations.len() {
        0 => Vec::new(),
        _ => args.relocations.as_le_slice(&store).to_vec(),
    };
    let state = store.data_mut();
    Ok((Answer(state.invoke_staged(
        &f,
        staging,
        &relocations,
        args.errno,
    )),))
}

fn resume(
    mut store: StoreContextMut<'_, HostState>,
    (reply,): (WasmList<u8>,),
) -> wasmtime::Result<(Answer,)> {
    let reply = reply.as_le_slice(&store).to_vec();
    Ok((Answer(Host::resume(store.data_mut(), reply)),))
}

/// `WasmList` has `len` only.
trait ListLen {
    fn is_empty(&self) -> bool;
}

impl<T: Lift> ListLen for WasmList<T> {
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
