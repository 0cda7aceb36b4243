//! The hot crossings of the door, `call.invoke` and `call.resume`, linked by
//! hand over the ones `bindgen!` generates (same WIT types, checked against
//! the component when it is linked).
//!
//! What `bindgen!` does per crossing and this avoids:
//! * the argument buffer is lifted into a fresh `Vec` and then copied again
//!   to be staged: here it is read in place (`WasmList`) and copied once,
//!   onto the stack when the call passes no scratch and cannot call back;
//! * a result is lowered field by field, each write looking the guest's
//!   memory up again: here the common ones, `done` with a scalar and a
//!   callback request, are written in one go (a callback's arguments
//!   stay inline on the host until then: no allocation per callback).
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

use wasmffi_native::middle::closure::{Bytes, Step};
use wasmffi_native::middle::signature::{Done, STACK_WORDS};
use wasmffi_native::middle::staging::Staging;

use crate::bindings::wasmffi::ffi::call::{CallArgs, CallDone, CallStep, CallbackRequest, Host};
use crate::bindings::wasmffi::ffi::memory::Host as MemoryHost;
use crate::bindings::{FfiError, Scalar};
use crate::door::call::Function;
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
enum Answer {
    /// `ok(done({value, bytes: none, errno}))`, written in one go.
    Done { value: u64, errno: i32 },
    /// `ok(callback({id, args}))`: one allocation in the guest, then one write.
    Callback { id: u32, args: Bytes },
    /// Anything else, lowered by the generated types.
    Generic(Generic),
}

type Generic = Result<CallStep, FfiError>;

impl Answer {
    fn new(step: Result<Step, FfiError>) -> Answer {
        match step {
            Ok(Step::Done(Done {
                value,
                bytes: None,
                errno,
            })) => Answer::Done { value, errno },
            Ok(Step::Callback { id, args }) => Answer::Callback { id, args },
            other => Answer::Generic(other.map(crate::door::call_step)),
        }
    }

    fn generic(&self) -> Generic {
        match self {
            Answer::Done { value, errno } => Ok(CallStep::Done(CallDone {
                value: *value,
                bytes: None,
                errno: *errno,
            })),
            Answer::Callback { id, args } => Ok(CallStep::Callback(CallbackRequest {
                id: *id,
                args: args.as_slice().to_vec(),
            })),
            Answer::Generic(g) => g.clone(),
        }
    }
}

/// Where the fields of `ok(done(...))` and `ok(callback(...))` sit, from the
/// start of the result.
struct Layout {
    size: usize,
    step: usize,
    done_value: usize,
    done_bytes: usize,
    done_errno: usize,
    callback_id: usize,
    callback_args: usize,
}

static LAYOUT: LazyLock<Layout> = LazyLock::new(|| {
    let step = <Generic as ComponentVariant>::PAYLOAD_OFFSET32;
    let payload = step + <CallStep as ComponentVariant>::PAYLOAD_OFFSET32;
    let mut offset = 0usize;
    let value = <u64 as ComponentType>::ABI.next_field32_size(&mut offset);
    let bytes = <Option<Vec<u8>> as ComponentType>::ABI.next_field32_size(&mut offset);
    let errno = <i32 as ComponentType>::ABI.next_field32_size(&mut offset);
    let mut offset = 0usize;
    let id = <u32 as ComponentType>::ABI.next_field32_size(&mut offset);
    let args = <Vec<u8> as ComponentType>::ABI.next_field32_size(&mut offset);
    Layout {
        size: <Generic as ComponentType>::ABI.size32 as usize,
        step,
        done_value: payload + value,
        done_bytes: payload + bytes,
        done_errno: payload + errno,
        callback_id: payload + id,
        callback_args: payload + args,
    }
});

/// `len` bytes of guest memory at `offset`, or an error (never a panic).
fn guest_bytes<'a, T>(
    cx: &'a mut LowerContext<'_, T>,
    offset: usize,
    len: usize,
) -> wasmtime::Result<&'a mut [u8]> {
    match cx
        .as_slice_mut()
        .get_mut(offset..)
        .and_then(|m| m.get_mut(..len))
    {
        Some(bytes) => Ok(bytes),
        None => wasmtime::bail!("pointer out of bounds of the guest's memory"),
    }
}

/// Implement `ComponentType` and `Lower` for `$ty` as the canonical ABI type
/// of `$generic`, given `$ty::generic` (the same value as a `$generic`) and
/// `$ty::lower_to_memory` (which writes what `$generic`'s lowering writes).
macro_rules! lowered_as {
    ($ty:ty, $generic:ty) => {
        // SAFETY: the same canonical ABI type as `$generic`, whose ABI, flat
        // representation and type check it uses.
        unsafe impl ComponentType for $ty {
            type Lower = <$generic as ComponentType>::Lower;
            const ABI: CanonicalAbiInfo = <$generic as ComponentType>::ABI;

            fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
                <$generic as ComponentType>::typecheck(ty, types)
            }
        }

        // SAFETY: `lower_to_memory` writes what `$generic`'s lowering writes
        // for the same value, and the flat form is `$generic`'s.
        unsafe impl Lower for $ty {
            fn linear_lower_to_flat<T>(
                &self,
                cx: &mut LowerContext<'_, T>,
                ty: InterfaceType,
                dst: &mut MaybeUninit<Self::Lower>,
            ) -> wasmtime::Result<()> {
                self.generic().linear_lower_to_flat(cx, ty, dst)
            }

            fn linear_lower_to_memory<T>(
                &self,
                cx: &mut LowerContext<'_, T>,
                ty: InterfaceType,
                offset: usize,
            ) -> wasmtime::Result<()> {
                self.lower_to_memory(cx, ty, offset)
            }
        }
    };
}

lowered_as!(Answer, Generic);
lowered_as!(Loaded, LoadResult);

impl Answer {
    fn lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        let layout = &*LAYOUT;
        match self {
            Answer::Done { value, errno } => {
                let out = guest_bytes(cx, offset, layout.size)?;
                out[0] = 0; // ok
                out[layout.step] = 0; // done
                out[layout.done_value..][..8].copy_from_slice(&value.to_le_bytes());
                out[layout.done_bytes] = 0; // none
                out[layout.done_errno..][..4].copy_from_slice(&errno.to_le_bytes());
                Ok(())
            }
            Answer::Callback { id, args } => {
                let args = args.as_slice();
                // The guest's allocator may move its memory: look it up after.
                let at = cx.realloc(0, 0, 1, args.len())?;
                guest_bytes(cx, at, args.len())?.copy_from_slice(args);
                let out = guest_bytes(cx, offset, layout.size)?;
                out[0] = 0; // ok
                out[layout.step] = 1; // callback
                out[layout.callback_id..][..4].copy_from_slice(&id.to_le_bytes());
                let list = &mut out[layout.callback_args..][..8];
                list[..4].copy_from_slice(&(at as u32).to_le_bytes());
                list[4..].copy_from_slice(&(args.len() as u32).to_le_bytes());
                Ok(())
            }
            Answer::Generic(generic) => generic.linear_lower_to_memory(cx, ty, offset),
        }
    }
}

/// What `memory.load` returns: `result<u64, ffi-error>`, a value written in
/// one go (a callback that reads its pointer arguments makes two per call).
struct Loaded(Result<u64, FfiError>);

type LoadResult = Result<u64, FfiError>;

impl Loaded {
    fn generic(&self) -> LoadResult {
        self.0.clone()
    }

    fn lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        let Ok(value) = self.0 else {
            return self.0.linear_lower_to_memory(cx, ty, offset);
        };
        let at = <LoadResult as ComponentVariant>::PAYLOAD_OFFSET32;
        let out = guest_bytes(cx, offset, <LoadResult as ComponentType>::SIZE32)?;
        out[0] = 0; // ok
        out[at..][..8].copy_from_slice(&value.to_le_bytes());
        Ok(())
    }
}

fn load(
    mut store: StoreContextMut<'_, HostState>,
    (address, kind): (u64, Scalar),
) -> wasmtime::Result<(Loaded,)> {
    let loaded = MemoryHost::load(store.data_mut(), address, kind);
    Ok((Loaded(loaded),))
}

const CALL: &str = "wasmffi:ffi/call@0.1.0";
const MEMORY: &str = "wasmffi:ffi/memory@0.1.0";

/// Link `call.invoke`, `call.resume` and `memory.load` over the generated ones.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut call = linker.instance(CALL)?;
    call.func_wrap("invoke", invoke)?;
    call.func_wrap("resume", resume)?;
    let mut memory = linker.instance(MEMORY)?;
    memory.func_wrap("load", load)?;
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
        return Ok((Answer::Generic(Host::invoke(store.data_mut(), f, args)),));
    }
    let data = args.data.as_le_slice(&store);
    let mut stack = [MaybeUninit::<u128>::uninit(); STACK_WORDS];
    // A call that may call back moves this onto its coroutine (no pointer
    // into it exists without relocations).
    let on_stack = args.relocations.is_empty() && data.len() <= STACK_WORDS * 16;
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
    let step = state.invoke_staged(&f, staging, &relocations, args.errno);
    Ok((Answer::new(step),))
}

fn resume(
    mut store: StoreContextMut<'_, HostState>,
    (reply,): (WasmList<u8>,),
) -> wasmtime::Result<(Answer,)> {
    let bytes = reply.as_le_slice(&store);
    if store.data().isolated.is_some() {
        let reply = bytes.to_vec();
        return Ok((Answer::Generic(Host::resume(store.data_mut(), reply)),));
    }
    let reply = Bytes::from_slice(bytes);
    Ok((Answer::new(store.data_mut().resume_in_process(reply)),))
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
