//! Closures: native code calling back into the guest without re-entering
//! it, in the same process.
//!
//! While the guest has live callbacks, every native call runs on a stackful
//! coroutine on the calling OS thread (errno and thread-locals stay put).
//! When native code calls a callback's C function pointer, the libffi
//! closure packs the arguments and suspends the coroutine; the call then
//! returns [`Step::Callback`] to its caller, which runs the guest's function
//! and answers with [`Callbacks::resume`], resuming the coroutine exactly
//! where the closure suspended it. A callback that calls
//! native code again starts a nested coroutine, so the suspended calls form
//! a stack that mirrors the nesting.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use libffi::low::{ffi_cif, CodePtr};

use crate::middle::closure::{pack_args_into, write_result, Bytes, Step};
use crate::middle::signature::{call_native, crash_report, finish, Prepared, SigShape};
use crate::middle::staging::{RetWords, Staged};
use crate::Error as FfiError;

/// Native stacks for calls that may call back. Touched pages only are
/// committed, so generous is cheap.
const NATIVE_STACK_SIZE: usize = 8 << 20;
/// Suspended native calls beyond this nesting depth are refused.
const MAX_NESTING: usize = 512;
/// Idle stacks kept for reuse.
const STACK_POOL: usize = 8;

/// What the coroutine yields: a callback invocation for the guest (its id
/// and packed arguments).
type Request = (u32, Bytes);
/// What the guest answers: the callback's result bytes.
type Reply = Bytes;

/// What a finished native call produces: its result words and errno, or
/// the signal that crashed it.
type Finished = (RetWords, Result<i32, i32>);

type NativeCall = Coroutine<Reply, Request, Finished, DefaultStack>;

/// A callback's closure and what it needs. Never freed, so that a pointer
/// native code kept stays callable (and harmless) forever; when its callback
/// is dropped the slot goes to [`RETIRED`] and serves the next callback of
/// the same signature, so create/drop churn does not grow the host.
pub struct Slot {
    id: AtomicU32,
    sig: Arc<Prepared>,
    code: CodePtr,
    live: AtomicBool,
    /// [`thread_token`] of the run's thread.
    owner: AtomicU64,
}

/// Retired slots by signature. A stale pointer to a reused slot calls the
/// new callback through the very signature it was made for, so native code
/// gets what its type promised; a slot is never given another signature
/// (its closure would then read or write arguments the caller never passed).
static RETIRED: Mutex<Option<HashMap<SigShape, Vec<&'static Slot>>>> = Mutex::new(None);
/// Retired slots kept for reuse at most; past it they simply stay retired.
const MAX_RETIRED: usize = 16384;

/// A number for the calling thread, unique in the process (ThreadId has no
/// stable integer form, and the trampoline compares it atomically).
fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TOKEN.with(|t| *t)
}

fn reuse_slot(sig: &Prepared) -> Option<&'static Slot> {
    let mut retired = RETIRED.lock().unwrap_or_else(|p| p.into_inner());
    retired.as_mut()?.get_mut(&sig.shape)?.pop()
}

fn retire_slot(slot: &'static Slot) {
    let mut retired = RETIRED.lock().unwrap_or_else(|p| p.into_inner());
    let retired = retired.get_or_insert_with(HashMap::new);
    if retired.values().map(Vec::len).sum::<usize>() < MAX_RETIRED {
        retired
            .entry(slot.sig.shape.clone())
            .or_default()
            .push(slot);
    }
}

// SAFETY: `code` is the address of immutable closure code; everything else
// is Sync already. The trampoline itself checks which thread calls it.
unsafe impl Sync for Slot {}
unsafe impl Send for Slot {}

thread_local! {
    /// Yielders of the native calls running on this thread, innermost last.
    static ACTIVE: RefCell<Vec<*const Yielder<Reply, Request>>> = const { RefCell::new(Vec::new()) };
}

/// The per-run callback machinery.
pub struct Callbacks {
    suspended: Vec<(NativeCall, Arc<Prepared>, Arc<str>)>,
    stacks: Vec<DefaultStack>,
    live: usize,
    /// [`thread_token`] of the thread that made the run's store.
    owner: u64,
}

// SAFETY: coroutines are !Send because their stacks hold native frames of
// this thread. A run's store is created, used and dropped on one thread
// (`Runtime::run`), and every entry point checks `owner` before touching
// the coroutines.
unsafe impl Send for Callbacks {}

impl Default for Callbacks {
    fn default() -> Self {
        Callbacks {
            suspended: Vec::new(),
            stacks: Vec::new(),
            live: 0,
            owner: thread_token(),
        }
    }
}

impl Callbacks {
    /// Live (not dropped) callbacks; when zero, calls skip the coroutine.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Whether a native call is suspended while the guest runs a callback.
    pub fn in_flight(&self) -> bool {
        !self.suspended.is_empty()
    }

    fn check_thread(&self) -> Result<(), FfiError> {
        if thread_token() == self.owner {
            Ok(())
        } else {
            Err(FfiError::Unsupported(
                "native calls with callbacks must stay on the thread that started the run".into(),
            ))
        }
    }

    /// Start a native call that may call back into the guest.
    pub fn start(
        &mut self,
        sig: Arc<Prepared>,
        address: u64,
        name: Arc<str>,
        mut staged: Staged,
        errno: Option<i32>,
    ) -> Result<Step, FfiError> {
        self.check_thread()?;
        if self.suspended.len() >= MAX_NESTING {
            return Err(FfiError::LimitExceeded(format!(
                "native calls nested more than {MAX_NESTING} deep through callbacks"
            )));
        }
        let stack = match self.stacks.pop() {
            Some(stack) => stack,
            None => DefaultStack::new(NATIVE_STACK_SIZE).map_err(|e| {
                FfiError::LimitExceeded(format!("cannot allocate a native stack: {e}"))
            })?,
        };
        let call_sig = sig.clone();
        let call =
            Coroutine::with_stack(stack, move |yielder: &Yielder<Reply, Request>, _: Reply| {
                ACTIVE.with(|a| a.borrow_mut().push(yielder as *const _));
                let mut ret = RetWords::new(&call_sig);
                // SAFETY: `staged` was checked against `call_sig` and
                // relocated where it now lies, and `ret` is sized for its result.
                let outcome = unsafe {
                    call_native(
                        &call_sig,
                        address,
                        staged.as_mut_ptr(),
                        ret.as_mut_ptr(),
                        errno,
                    )
                };
                ACTIVE.with(|a| a.borrow_mut().pop());
                staged.finish();
                (ret, outcome)
            });
        self.drive(call, sig, name, Bytes::zeroed(0))
    }

    /// Continue the innermost suspended native call with a callback's result.
    pub fn resume(&mut self, reply: Reply) -> Result<Step, FfiError> {
        self.check_thread()?;
        let (call, sig, name) = self.suspended.pop().ok_or_else(|| {
            FfiError::InvalidArgument("resume: no native call is waiting for a callback".into())
        })?;
        self.drive(call, sig, name, reply)
    }

    fn drive(
        &mut self,
        mut call: NativeCall,
        sig: Arc<Prepared>,
        name: Arc<str>,
        input: Reply,
    ) -> Result<Step, FfiError> {
        match call.resume(input) {
            CoroutineResult::Yield((id, args)) => {
                self.suspended.push((call, sig, name));
                Ok(Step::Callback { id, args })
            }
            CoroutineResult::Return((ret, outcome)) => {
                if self.stacks.len() < STACK_POOL {
                    self.stacks.push(call.into_stack());
                }
                match outcome {
                    Ok(errno) => Ok(Step::Done(finish(&sig, ret.as_slice(), errno))),
                    Err(signal) => Err(FfiError::Crashed(crash_report(&name, signal))),
                }
            }
        }
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        // A run that ends with native calls still suspended (the guest
        // trapped mid-callback): abandon their stacks without unwinding
        // through native frames.
        for (mut call, _, _) in self.suspended.drain(..) {
            // SAFETY: the native frames on this stack are discarded, never
            // resumed; what they allocated leaks.
            unsafe { call.force_reset() };
        }
    }
}

/// The closure behind every callback's C function pointer.
unsafe extern "C" fn trampoline(
    _cif: &ffi_cif,
    result: &mut u8,
    args: *const *const c_void,
    slot: &Slot,
) {
    let result: *mut u8 = result;
    // A Rust panic must never unwind into the native caller.
    let outcome = std::panic::catch_unwind(|| unsafe { deliver(slot, result, args) });
    if outcome.is_err() {
        eprintln!(
            "wasmffi: internal error while delivering callback #{}; it returns 0",
            slot.id.load(Ordering::Relaxed)
        );
    }
}

unsafe fn deliver(slot: &Slot, result: *mut u8, args: *const *const c_void) {
    let sig = &slot.sig;
    std::ptr::write_bytes(result, 0, sig.ret.buffer_size());
    if !slot.live.load(Ordering::Acquire) {
        eprintln!(
            "wasmffi: native code called callback #{} after the guest freed it; it returns 0",
            slot.id.load(Ordering::Relaxed)
        );
        return;
    }
    if thread_token() != slot.owner.load(Ordering::Acquire) {
        eprintln!(
            "wasmffi: callback #{} was called from a thread native code created; \
             only the guest's own thread can run Python, so the call is refused and returns 0",
            slot.id.load(Ordering::Relaxed)
        );
        return;
    }
    let Some(yielder) = ACTIVE.with(|a| a.borrow().last().copied()) else {
        eprintln!(
            "wasmffi: callback #{} was called outside any native call of the guest; it returns 0",
            slot.id.load(Ordering::Relaxed)
        );
        return;
    };
    let mut packed = Bytes::zeroed(sig.slots_size as usize);
    pack_args_into(sig, args, packed.as_mut_slice());
    // SAFETY: the yielder belongs to the innermost native call running on
    // this thread, whose coroutine is executing us right now.
    // The guest runs while the call is suspended: its faults are not ours.
    let reply = crate::low::fault::outside_native(|| {
        (*yielder).suspend((slot.id.load(Ordering::Relaxed), packed))
    });
    write_result(sig, reply.as_slice(), result);
}

/// A fresh closure for `sig`, calling back callback `id` of this thread's run.
fn new_slot(sig: Arc<Prepared>, id: u32) -> Result<&'static Slot, FfiError> {
    let (closure, code) = libffi::low::try_closure_alloc()
        .ok_or_else(|| FfiError::LimitExceeded("libffi cannot allocate a closure".into()))?;
    let slot: &'static Slot = Box::leak(Box::new(Slot {
        id: AtomicU32::new(id),
        sig,
        code,
        live: AtomicBool::new(true),
        owner: AtomicU64::new(thread_token()),
    }));
    // SAFETY: the closure, its CIF (kept by `slot.sig`) and `slot` are
    // never freed, so the code pointer stays valid for native code.
    unsafe {
        let cif = slot.sig.cif_ptr().expect("checked by Callbacks::create");
        libffi::low::prep_closure(closure, cif, trampoline, slot, code)
            .map_err(|e| FfiError::InvalidArgument(format!("libffi closure: {e:?}")))?;
    }
    Ok(slot)
}

impl Slot {
    /// The closure's code address: what native code calls.
    pub fn address(&self) -> u64 {
        self.code.0 as u64
    }

    pub fn signature(&self) -> &Arc<Prepared> {
        &self.sig
    }
}

impl Callbacks {
    /// A closure calling back callback `id` of this thread's run through
    /// `sig`: a retired one of the same signature if there is one.
    pub fn create(&mut self, sig: Arc<Prepared>, id: u32) -> Result<&'static Slot, FfiError> {
        if sig.cif_ptr().is_none() {
            return Err(FfiError::Unsupported(
                "a closure needs a signature prepared in this process".into(),
            ));
        }
        let slot = match reuse_slot(&sig) {
            Some(slot) => {
                slot.id.store(id, Ordering::Relaxed);
                slot.owner.store(thread_token(), Ordering::Relaxed);
                slot.live.store(true, Ordering::Release);
                slot
            }
            None => new_slot(sig, id)?,
        };
        self.live += 1;
        Ok(slot)
    }

    /// The guest dropped the callback: calls through a kept pointer return
    /// 0, and the closure serves the next callback of its signature.
    pub fn retire(&mut self, slot: &'static Slot) {
        slot.live.store(false, Ordering::Release);
        self.live -= 1;
        retire_slot(slot);
    }
}
