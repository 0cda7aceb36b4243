//! `wasmffi:ffi/call`: prepared call descriptors and native calls.
//!
//! A call crosses the boundary once: the guest packs every argument into one
//! buffer at offsets fixed when the signature was prepared, the host points
//! libffi at those slots, calls, and reads errno before anything else can
//! touch it.

use std::ffi::c_void;
use std::sync::Arc;

use libffi::middle::{Cif, Type};
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::call::{
    CallArgs, CallDone, CallStep, CallbackRequest, Host, HostFunction, HostSignature,
};
use crate::bindings::wasmffi::ffi::types::NativeCrash;
use crate::bindings::{FfiError, Scalar, ValueType};
use crate::isolate::{scalar_code, SigShape, Ty};
use crate::library::{library, Library};
use crate::limits::Handle;
use crate::memory::scalar_bits;
use crate::state::HostState;
use crate::types::resolve;

pub(crate) use crate::staging::{relocate, stage, ArgView, RetWords, Staged, Staging};

/// Argument count past which a signature is refused (libffi and sanity).
const MAX_ARGS: usize = 1024;
/// Argument buffers up to this many 16-byte words are staged on the stack.
pub(crate) const STACK_WORDS: usize = 32;
/// Argument pointer arrays and result buffers up to these sizes live on the stack.
const STACK_ARGS: usize = 16;
pub(crate) const STACK_RESULT_WORDS: usize = 4;

pub struct Signature(pub Arc<Prepared>);

/// A libffi CIF with everything the host needs to call through it.
pub struct Prepared {
    cif: FfiCif,
    /// Where each argument's slot starts in the guest's buffer.
    pub(crate) arg_offsets: Vec<u32>,
    /// Total size of the slot area; scratch space follows it.
    pub(crate) slots_size: u32,
    pub(crate) ret: Return,
    /// What each argument is (checked mode and pinned signatures).
    pub(crate) kinds: Vec<ArgKind>,
    pub(crate) fixed_args: Option<u32>,
    pub(crate) ret_long_double: bool,
    /// The types again, as the --isolate-native helper receives them.
    pub(crate) shape: SigShape,
    /// Set when the call needs no libffi (see [`direct_words`]): each
    /// argument's slot offset and type.
    direct: Option<Box<[(u32, Scalar)]>>,
}

/// Whether a call can skip libffi: not variadic, at most six arguments,
/// each an integer or a pointer, and an integer, pointer or void result.
/// These pass in the first integer registers on the targets this is
/// compiled for, however the function is declared.
fn direct_words(
    kinds: &[ArgKind],
    offsets: &[u32],
    ret: Return,
    variadic: bool,
) -> Option<Box<[(u32, Scalar)]>> {
    let word = |s: Scalar| {
        !matches!(
            s,
            Scalar::Void | Scalar::Float32 | Scalar::Float64 | Scalar::LongDouble
        )
    };
    let ret_ok = match ret {
        Return::Void => true,
        Return::Scalar(s, _) => word(s),
        Return::Bytes(_) => false,
    };
    if variadic
        || !ret_ok
        || kinds.len() > 6
        || !cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
    {
        return None;
    }
    kinds
        .iter()
        .zip(offsets)
        .map(|(kind, &offset)| match kind {
            ArgKind::Scalar(s) if word(*s) => Some((offset, *s)),
            _ => None,
        })
        .collect()
}

/// An argument as checked mode sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ArgKind {
    Scalar(Scalar),
    /// Offsets of the pointers inside (None: a union holding pointers).
    Struct {
        size: u32,
        pointers: Option<Vec<u32>>,
    },
}

impl Prepared {
    pub(crate) fn cif_ptr(&self) -> *mut libffi::low::ffi_cif {
        self.cif.0.as_raw_ptr()
    }

    /// Sizes of the arguments' C types (the slots may be larger).
    pub(crate) fn arg_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        // SAFETY: the CIF's argument type array has `nargs` valid entries.
        unsafe {
            let cif = &*self.cif_ptr();
            (0..cif.nargs as usize).map(move |i| (**cif.arg_types.add(i)).size)
        }
    }
}

/// What the result buffer holds after a call.
#[derive(Clone, Copy)]
pub(crate) enum Return {
    Void,
    Scalar(Scalar, usize),
    /// Struct, union or long double: returned as bytes.
    Bytes(usize),
}

impl Return {
    pub(crate) fn buffer_size(self) -> usize {
        match self {
            Return::Void => 8,
            // libffi widens small integer results to a full `ffi_arg`.
            Return::Scalar(_, size) => size.max(8),
            Return::Bytes(size) => size.max(8),
        }
    }
}

/// See [`crate::types::FfiType`]: libffi's CIFs are plain data without thread affinity.
struct FfiCif(Cif);
unsafe impl Send for FfiCif {}
unsafe impl Sync for FfiCif {}

pub struct Function {
    pub address: u64,
    pub sig: Arc<Prepared>,
    /// "symbol in /path/lib.so", for crash reports.
    pub name: Arc<str>,
    /// Keeps the library loaded while the function lives.
    _library: Option<Arc<crate::library::LoadedLibrary>>,
    /// Set when the function's library is in checked memory mode.
    pub(crate) guard: Option<Arc<crate::checked::Guard>>,
    /// Library and symbol, for the --isolate-native helper to resolve in
    /// its own address space (`None`: call `address` as it is).
    pub(crate) remote: Option<(crate::isolate::LibKey, String)>,
}

/// One argument or result, resolved for libffi.
pub(crate) struct Resolved {
    pub(crate) ty: Type,
    pub(crate) size: usize,
    pub(crate) align: usize,
    pub(crate) kind: ArgKind,
    pub(crate) tree: Ty,
}

fn resolve_value(state: &HostState, value: &ValueType) -> Result<Resolved, FfiError> {
    let (ty, size, align) = resolve(state, value)?;
    let (kind, tree) = match value {
        ValueType::Scalar(s) => (ArgKind::Scalar(*s), Ty::Scalar(scalar_code(*s))),
        ValueType::Structure(h) => {
            let aggregate = crate::types::aggregate(state, h)?;
            let kind = ArgKind::Struct {
                size: size as u32,
                pointers: aggregate.pointers.clone(),
            };
            (kind, aggregate.tree.clone())
        }
    };
    Ok(Resolved {
        ty,
        size,
        align,
        kind,
        tree,
    })
}

fn prepare(
    state: &HostState,
    args: &[ValueType],
    ret: &ValueType,
    fixed_args: Option<u32>,
) -> Result<Prepared, FfiError> {
    if args.len() > MAX_ARGS {
        return Err(FfiError::LimitExceeded(format!(
            "{} arguments (at most {MAX_ARGS})",
            args.len()
        )));
    }
    let mut resolved = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        if matches!(arg, ValueType::Scalar(Scalar::Void)) {
            return Err(FfiError::InvalidArgument(format!(
                "argument {index} cannot be void"
            )));
        }
        resolved.push(resolve_value(state, arg)?);
    }
    assemble(resolved, resolve_value(state, ret)?, fixed_args)
}

/// Build the CIF and the slot layout from resolved types (the host's own
/// signatures, and the --isolate-native helper's copies of them).
pub(crate) fn assemble(
    args: Vec<Resolved>,
    ret: Resolved,
    fixed_args: Option<u32>,
) -> Result<Prepared, FfiError> {
    let mut arg_types: Vec<Type> = Vec::with_capacity(args.len());
    let mut arg_offsets = Vec::with_capacity(args.len());
    let mut kinds = Vec::with_capacity(args.len());
    let mut trees = Vec::with_capacity(args.len());
    let mut cursor = 0usize;
    let count = args.len();
    for arg in args {
        let offset = cursor.next_multiple_of(arg.align.max(8));
        arg_offsets.push(offset as u32);
        cursor = offset + arg.size.next_multiple_of(8);
        arg_types.push(arg.ty);
        kinds.push(arg.kind);
        trees.push(arg.tree);
    }
    let ret_kind = match ret.kind {
        ArgKind::Scalar(Scalar::Void) => Return::Void,
        ArgKind::Scalar(Scalar::LongDouble) => Return::Bytes(ret.size),
        ArgKind::Scalar(kind) => Return::Scalar(kind, ret.size),
        ArgKind::Struct { .. } => Return::Bytes(ret.size),
    };
    let ret_long_double = ret.kind == ArgKind::Scalar(Scalar::LongDouble);
    let cif = match fixed_args {
        None => Cif::try_new(arg_types, ret.ty),
        Some(fixed) => {
            if fixed as usize > count {
                return Err(FfiError::InvalidArgument(format!(
                    "{fixed} fixed arguments but only {count} arguments"
                )));
            }
            Cif::try_new_variadic(arg_types, fixed as usize, ret.ty)
        }
    }
    .map_err(|e| {
        FfiError::InvalidArgument(format!("libffi cannot prepare this signature: {e:?}"))
    })?;
    let direct = direct_words(&kinds, &arg_offsets, ret_kind, fixed_args.is_some());
    Ok(Prepared {
        direct,
        cif: FfiCif(cif),
        arg_offsets,
        slots_size: cursor as u32,
        ret: ret_kind,
        kinds,
        fixed_args,
        ret_long_double,
        shape: SigShape {
            args: trees,
            ret: ret.tree,
            fixed_args,
        },
    })
}

impl HostSignature for HostState {
    fn prepare(
        &mut self,
        args: Vec<ValueType>,
        ret: ValueType,
        fixed_args: Option<u32>,
    ) -> Result<(Resource<Signature>, Vec<u32>), FfiError> {
        let prepared = prepare(self, &args, &ret, fixed_args)?;
        let mut offsets = prepared.arg_offsets.clone();
        offsets.push(prepared.slots_size);
        self.counts.acquire(Handle::Signature)?;
        let handle = self
            .table
            .push(Signature(Arc::new(prepared)))
            .map_err(|e| FfiError::LimitExceeded(format!("signatures: {e}")))?;
        Ok((handle, offsets))
    }

    fn drop(&mut self, rep: Resource<Signature>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts.release(Handle::Signature);
        Ok(())
    }
}

fn signature(state: &HostState, sig: &Resource<Signature>) -> Result<Arc<Prepared>, FfiError> {
    state
        .table
        .get(sig)
        .map(|s| s.0.clone())
        .map_err(|e| FfiError::InvalidArgument(format!("signature handle: {e}")))
}

impl HostFunction for HostState {
    fn bind(
        &mut self,
        lib: Resource<Library>,
        symbol: String,
        sig: Resource<Signature>,
    ) -> Result<Resource<Function>, FfiError> {
        let lib = library(self, &lib)?;
        let sig = signature(self, &sig)?;
        // Policy first: the symbol, then its pinned signature.
        lib.settings.check_symbol(&lib.requested, &symbol)?;
        let pinned = lib.settings.pinned(&symbol);
        if let Some((text, pinned)) = pinned {
            crate::checked::matches_pinned(&sig, pinned).map_err(|why| {
                FfiError::SignatureMismatch(format!(
                    "{}: {symbol} is pinned by the policy as `{text}`: {why}",
                    lib.requested
                ))
            })?;
        }
        let address = lib.symbol(&symbol)?;
        let guard = (lib.settings.memory == crate::policy::MemoryMode::Checked).then(|| {
            Arc::new(crate::checked::Guard {
                name: format!("{}:{symbol}", lib.requested),
                pinned: pinned.map(|(_, p)| p.clone()),
            })
        });
        self.counts.acquire(Handle::Function)?;
        let function = Function {
            address,
            sig,
            name: format!("{symbol} in {}", lib.path).into(),
            remote: Some((lib.key.clone(), symbol.clone())),
            _library: Some(lib),
            guard,
        };
        self.table
            .push(function)
            .map_err(|e| FfiError::LimitExceeded(format!("functions: {e}")))
    }

    fn from_address(
        &mut self,
        address: u64,
        sig: Resource<Signature>,
    ) -> Result<Resource<Function>, FfiError> {
        let sig = signature(self, &sig)?;
        if self.memory.is_confined() {
            // Only what the runtime handed out may be called: a live callback,
            // through its own signature (another would let the closure read
            // or write through arguments the caller never passed).
            match self.counts.callback_addresses.get(&address) {
                Some(shape) if *shape == sig.shape => {}
                Some(_) => {
                    return Err(FfiError::NotPermitted(format!(
                    "calling the callback at {address:#x} through another signature than its own"
                )))
                }
                None => {
                    let why = self.policy.raw_memory().refusal();
                    return Err(FfiError::NotPermitted(format!(
                        "calling the address {address:#x}: it is not a live callback of this run, and {why}"
                    )));
                }
            }
        }
        if address < 4096 {
            return Err(FfiError::BadPointer(format!(
                "function pointer {address:#x} is NULL"
            )));
        }
        self.counts.acquire(Handle::Function)?;
        let function = Function {
            address,
            sig,
            name: crate::fault::describe_address(address).into(),
            _library: None,
            guard: None,
            remote: None,
        };
        self.table
            .push(function)
            .map_err(|e| FfiError::LimitExceeded(format!("functions: {e}")))
    }

    fn address(&mut self, f: Resource<Function>) -> u64 {
        let Ok(function) = self.table.get(&f) else {
            return 0;
        };
        match (self.isolated.as_mut(), &function.remote) {
            (Some(isolated), Some((key, symbol))) => isolated.symbol(key, symbol).unwrap_or(0),
            _ => function.address,
        }
    }

    fn drop(&mut self, rep: Resource<Function>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts.release(Handle::Function);
        Ok(())
    }
}

/// Run the native call: errno set just before, read right after, on this
/// thread. `staged` holds the argument slots; `ret` receives the result.
/// Returns errno, or the signal that ended the call if native code crashed.
///
/// # Safety
/// `staged` must hold the slots `sig` describes and `ret` must be at least
/// `sig.ret.buffer_size()` bytes, 16-byte aligned.
pub(crate) unsafe fn call_native(
    sig: &Prepared,
    address: u64,
    staged: *mut u8,
    ret: *mut u128,
    errno: Option<i32>,
) -> Result<i32, i32> {
    let code: unsafe extern "C" fn() = std::mem::transmute(address as usize);
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    if let Some(direct) = &sig.direct {
        let mut words = [0u64; 6];
        for (word, &(offset, kind)) in words.iter_mut().zip(direct.iter()) {
            let slot = std::slice::from_raw_parts(
                staged.add(offset as usize),
                crate::types::scalar_size(kind),
            );
            // Widened as libffi widens: sign- or zero-extended.
            *word = scalar_bits(kind, slot);
        }
        let errno_slot = libc::__errno_location();
        if let Some(value) = errno {
            *errno_slot = value;
        }
        let value = crate::fault::guarded_words_call(code, &words)?;
        // As libffi leaves it: a full register (`finish` keeps the C width).
        ret.cast::<u64>().write(value);
        return Ok(*errno_slot);
    }
    let mut stack_ptrs = [std::ptr::null_mut::<c_void>(); STACK_ARGS];
    let mut heap_ptrs = Vec::new();
    let arg_ptrs: &mut [*mut c_void] = if sig.arg_offsets.len() <= STACK_ARGS {
        &mut stack_ptrs[..sig.arg_offsets.len()]
    } else {
        heap_ptrs.resize(sig.arg_offsets.len(), std::ptr::null_mut());
        &mut heap_ptrs
    };
    for (ptr, &offset) in arg_ptrs.iter_mut().zip(&sig.arg_offsets) {
        *ptr = staged.add(offset as usize).cast();
    }
    let errno_slot = libc::__errno_location();
    if let Some(value) = errno {
        *errno_slot = value;
    }
    // The function's address and signature are the guest's claim (ctypes
    // semantics under the trusted memory mode).
    crate::fault::guarded_call(sig.cif_ptr(), code, ret.cast(), arg_ptrs.as_mut_ptr())?;
    Ok(*errno_slot)
}

thread_local! {
    /// The argument buffer of the latest call that passed strings by value.
    static RETAINED_SCRATCH: std::cell::RefCell<Vec<u128>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keep a finished call's argument buffer until the next such call ends: a
/// `char *` result may point into a string passed by value (`strchr(b"abc",
/// ...)`), and the guest reads it right after the call, as CPython does
/// while the argument object is still alive.
pub(crate) fn retain_scratch(staged: Vec<u128>) {
    RETAINED_SCRATCH.with(|r| *r.borrow_mut() = staged);
}

/// How a native call's crossing ends: as `call-step`, with a callback's
/// arguments kept inline.
pub(crate) enum Step {
    Done(CallDone),
    Callback {
        id: u32,
        args: crate::callback::Bytes,
    },
}

impl From<Step> for CallStep {
    fn from(step: Step) -> CallStep {
        match step {
            Step::Done(done) => CallStep::Done(done),
            Step::Callback { id, args } => CallStep::Callback(CallbackRequest {
                id,
                args: args.into_vec(),
            }),
        }
    }
}

/// What the guest hears when native code crashed in-process.
pub(crate) fn crash_report(function: &str, signal: i32) -> NativeCrash {
    NativeCrash {
        signal,
        signal_name: crate::fault::signal_name(signal),
        function: function.to_owned(),
        recoverable: false,
    }
}

/// Turn a finished call's result buffer into what the guest gets.
pub(crate) fn finish(sig: &Prepared, ret: &[u128], errno: i32) -> CallDone {
    // SAFETY: plain bytes of the result buffer.
    let ret_bytes =
        unsafe { std::slice::from_raw_parts(ret.as_ptr().cast::<u8>(), ret.len() * 16) };
    match sig.ret {
        Return::Void => CallDone {
            value: 0,
            bytes: None,
            errno,
        },
        Return::Scalar(kind, size) => {
            let word = u64::from_ne_bytes(ret_bytes[..8].try_into().expect("8 bytes"));
            let value = match kind {
                Scalar::Float32 | Scalar::Float64 | Scalar::Pointer => {
                    scalar_bits(kind, &ret_bytes[..size])
                }
                // Integers come back widened to ffi_arg; keep the C width.
                _ => scalar_bits(kind, &word.to_ne_bytes()[..size]),
            };
            CallDone {
                value,
                bytes: None,
                errno,
            }
        }
        Return::Bytes(size) => CallDone {
            value: 0,
            bytes: Some(ret_bytes[..size].to_vec()),
            errno,
        },
    }
}

impl Host for HostState {
    fn invoke(&mut self, f: Resource<Function>, args: CallArgs) -> Result<CallStep, FfiError> {
        if let Some(isolated) = self.isolated.as_mut() {
            if let Some(crash) = &self.native_crash {
                return Err(FfiError::Crashed(crash.clone()));
            }
            let function = self
                .table
                .get(&f)
                .map_err(|e| FfiError::InvalidArgument(format!("function handle: {e}")))?;
            return isolated.invoke(function, args);
        }
        self.invoke_staged(
            &f,
            Staging::owned(&args.data),
            &args.relocations,
            args.errno,
        )
        .map(CallStep::from)
    }

    fn resume(&mut self, reply: Vec<u8>) -> Result<CallStep, FfiError> {
        if let Some(isolated) = self.isolated.as_mut() {
            return isolated.resume(reply);
        }
        self.resume_in_process(crate::callback::Bytes::Heap(reply))
            .map(CallStep::from)
    }
}

impl HostState {
    /// Continue the innermost suspended native call with a callback's result
    /// (not under --isolate-native).
    pub(crate) fn resume_in_process(
        &mut self,
        reply: crate::callback::Bytes,
    ) -> Result<Step, FfiError> {
        let step = self.callbacks.resume(reply);
        self.memory.hold_freed(self.callbacks.in_flight());
        self.note_crash(step)
    }

    /// Call `f` in this process (not under --isolate-native) with the
    /// guest's argument bytes, staged but not yet relocated.
    pub(crate) fn invoke_staged(
        &mut self,
        f: &Resource<Function>,
        mut staging: Staging<'_>,
        relocations: &[u32],
        errno: Option<i32>,
    ) -> Result<Step, FfiError> {
        debug_assert!(self.isolated.is_none());
        if let Some(crash) = &self.native_crash {
            // Native state may be corrupt: nothing more runs in this process.
            return Err(FfiError::Crashed(crash.clone()));
        }
        let function = self
            .table
            .get(f)
            .map_err(|e| FfiError::InvalidArgument(format!("function handle: {e}")))?;
        let sig = &*function.sig;
        if !relocations.is_empty() && matches!(staging, Staging::Borrowed(_)) {
            // The scratch must outlive the call (see `retain_scratch`).
            staging = Staging::owned(staging.bytes());
        }
        // Checked memory mode: refuse before any native code runs, and keep
        // the arguments as the guest gave them for `after_call` (native code
        // may write into the buffer through a pointer to its scratch).
        let original = match &function.guard {
            Some(guard) => {
                let data = staging.bytes();
                if data.len() >= sig.slots_size as usize {
                    crate::checked::check_call(
                        &self.memory,
                        &self.counts,
                        guard,
                        sig,
                        ArgView { data, relocations },
                    )?;
                }
                data.to_vec()
            }
            None => Vec::new(),
        };
        relocate(sig, staging.bytes_mut(), relocations)?;
        if self.callbacks.live() > 0 {
            // Native code might call back into the guest: run it where it can
            // be suspended.
            let (sig, address, name, guard) = (
                function.sig.clone(),
                function.address,
                function.name.clone(),
                function.guard.clone(),
            );
            let staged = staging.into_staged(!relocations.is_empty());
            let step = self
                .callbacks
                .start(sig.clone(), address, name, staged, errno);
            self.memory.hold_freed(self.callbacks.in_flight());
            if let (Some(guard), Ok(Step::Done(done))) = (&guard, &step) {
                let args = ArgView {
                    data: &original,
                    relocations,
                };
                crate::checked::after_call(&mut self.memory, guard, args, &sig, done);
            }
            return self.note_crash(step);
        }
        let mut ret = RetWords::new(sig);
        // SAFETY: `relocate` checked the buffer against the signature; `ret`
        // is sized for its result.
        let outcome = unsafe {
            call_native(
                sig,
                function.address,
                staging.bytes_mut().as_mut_ptr(),
                ret.as_mut_ptr(),
                errno,
            )
        };
        let ret = ret.as_slice();
        if let Staging::Owned(words, _) = staging {
            if !relocations.is_empty() {
                // Strings passed by value: a result may point into them.
                retain_scratch(words);
            }
        }
        match outcome {
            Ok(errno) => {
                let done = finish(sig, ret, errno);
                if let Some(guard) = &function.guard {
                    let args = ArgView {
                        data: &original,
                        relocations,
                    };
                    crate::checked::after_call(&mut self.memory, guard, args, sig, &done);
                }
                Ok(Step::Done(done))
            }
            Err(signal) => {
                let crash = crash_report(&function.name, signal);
                self.note_crash(Err(FfiError::Crashed(crash)))
            }
        }
    }

    /// Remember an in-process crash so that no native code runs after it.
    fn note_crash<S>(&mut self, step: Result<S, FfiError>) -> Result<S, FfiError> {
        if let Err(FfiError::Crashed(crash)) = &step {
            if !crash.recoverable {
                tracing::debug!(function = %crash.function, signal = %crash.signal_name, "native code crashed");
                self.native_crash = Some(crash.clone());
            }
        }
        step
    }
}
