//! `wasmffi:ffi/call`: prepared call descriptors and native calls.
//!
//! A call crosses the boundary once: the guest packs every argument into one
//! buffer at offsets fixed when the signature was prepared; the native
//! executor (`wasmffi_native`) stages it, calls, and reads errno before
//! anything else can touch it. This side checks the policy first.

use std::sync::Arc;

use wasmffi_native::high::protocol::LibKey;
use wasmffi_native::middle::closure::{Bytes, Step};
use wasmffi_native::middle::signature::{
    call_native, crash_report, finish, retain_scratch, Prepared, SigShape,
};
use wasmffi_native::middle::staging::{relocate, ArgView, RetWords, Staging};
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::call::{CallArgs, CallStep, Host, HostFunction, HostSignature};
use crate::bindings::{FfiError, Scalar, ValueType};
use crate::door::library::{library, Library};
use crate::door::types::tree;
use crate::policy::limits::Handle;
use crate::state::HostState;

pub struct Signature(pub Arc<Prepared>);

pub struct Function {
    pub address: u64,
    pub sig: Arc<Prepared>,
    /// "symbol in /path/lib.so", for crash reports.
    pub name: Arc<str>,
    /// Keeps the library loaded while the function lives.
    _library: Option<Arc<crate::door::library::LoadedLibrary>>,
    /// Set when the function's library is in checked memory mode.
    pub(crate) guard: Option<Arc<crate::door::checked::Guard>>,
    /// Library and symbol, for a helper process to resolve in its own
    /// address space (`None`: call `address` as it is).
    pub(crate) remote: Option<(LibKey, String)>,
}

fn prepare(
    state: &mut HostState,
    args: &[ValueType],
    ret: &ValueType,
    fixed_args: Option<u32>,
) -> Result<Prepared, FfiError> {
    if args.len() > wasmffi_native::middle::signature::MAX_ARGS {
        return Err(FfiError::LimitExceeded(format!(
            "{} arguments (at most {})",
            args.len(),
            wasmffi_native::middle::signature::MAX_ARGS
        )));
    }
    let mut trees = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        if matches!(arg, ValueType::Scalar(Scalar::Void)) {
            return Err(FfiError::InvalidArgument(format!(
                "argument {index} cannot be void"
            )));
        }
        trees.push(tree(state, arg)?);
    }
    let shape = SigShape {
        args: trees,
        ret: tree(state, ret)?,
        fixed_args,
    };
    state.prepare(shape)
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
            crate::door::checked::matches_pinned(&sig, pinned).map_err(|why| {
                FfiError::SignatureMismatch(format!(
                    "{}: {symbol} is pinned by the policy as `{text}`: {why}",
                    lib.requested
                ))
            })?;
        }
        // Resolved again where native code runs when it is called (a helper
        // that crashed is replaced, at other addresses).
        let address = match self.foreign {
            true => self.native_symbol(&lib, &symbol)?,
            false => lib.symbol(&symbol)?,
        };
        let guard = (lib.settings.memory == crate::policy::MemoryMode::Checked).then(|| {
            Arc::new(crate::door::checked::Guard {
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
            let step = isolated.invoke(
                function.address,
                function.remote.as_ref(),
                &function.sig.shape,
                &function.name,
                args.data,
                args.relocations,
                args.errno,
            )?;
            return Ok(crate::door::call_step(step));
        }
        self.invoke_staged(
            &f,
            Staging::owned(&args.data),
            &args.relocations,
            args.errno,
        )
        .map(crate::door::call_step)
    }

    fn resume(&mut self, reply: Vec<u8>) -> Result<CallStep, FfiError> {
        if let Some(isolated) = self.isolated.as_mut() {
            return Ok(crate::door::call_step(isolated.resume(reply)?));
        }
        self.resume_in_process(Bytes::Heap(reply))
            .map(crate::door::call_step)
    }
}

impl HostState {
    /// Continue the innermost suspended native call with a callback's result
    /// (not under --isolate-native).
    pub(crate) fn resume_in_process(&mut self, reply: Bytes) -> Result<Step, FfiError> {
        let step = self.callbacks.resume(reply).map_err(FfiError::from);
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
                    crate::door::checked::check_call(
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
                .start(sig.clone(), address, name, staged, errno)
                .map_err(FfiError::from);
            self.memory.hold_freed(self.callbacks.in_flight());
            if let (Some(guard), Ok(Step::Done(done))) = (&guard, &step) {
                let args = ArgView {
                    data: &original,
                    relocations,
                };
                crate::door::checked::after_call(&mut self.memory, guard, args, &sig, done);
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
                    crate::door::checked::after_call(&mut self.memory, guard, args, sig, &done);
                }
                Ok(Step::Done(done))
            }
            Err(signal) => {
                let crash = crash_report(&function.name, signal);
                self.note_crash(Err(FfiError::Crashed(crash.into())))
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
