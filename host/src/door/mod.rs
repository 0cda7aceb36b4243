//! The FFI door: the host's implementations of the WIT interfaces in
//! `wit/ffi.wit`, one file per interface (`call` keeps its resources'
//! hand-linked hot crossings in `hot.rs`). Each checks the policy, then
//! hands the work to the native executor: the `wasmffi-native` crate in
//! this process, or its helper process (--isolate-native, --native-arch).
//!
//! Imports go one way: door → policy (`policy`, `checked`, `csig`,
//! `limits`) → host-backed modules → `wasmffi_native`.

pub mod call;
pub mod callback;
pub(crate) mod checked;
mod hot;
pub mod library;
pub mod memory;
pub(crate) mod platform;
pub mod process;
pub mod types;

pub use hot::add_to_linker;

use wasmffi_native::middle::closure::Step;
use wasmffi_native::middle::signature::Done;

use crate::bindings::wasmffi::ffi::call::{CallDone, CallStep, CallbackRequest};
use crate::bindings::wasmffi::ffi::types::NativeCrash;
use crate::bindings::FfiError;

/// The native side's scalar for the door's (declared in the same order).
pub fn scalar(kind: crate::bindings::Scalar) -> wasmffi_native::Scalar {
    wasmffi_native::Scalar::ALL[kind as usize]
}

impl From<wasmffi_native::Error> for FfiError {
    fn from(err: wasmffi_native::Error) -> FfiError {
        use wasmffi_native::Error as E;
        match err {
            E::NotPermitted(m) => FfiError::NotPermitted(m),
            E::LoadFailed(m) => FfiError::LoadFailed(m),
            E::NoSuchSymbol(m) => FfiError::NoSuchSymbol(m),
            E::InvalidArgument(m) => FfiError::InvalidArgument(m),
            E::BadPointer(m) => FfiError::BadPointer(m),
            E::LimitExceeded(m) => FfiError::LimitExceeded(m),
            E::Unsupported(m) => FfiError::Unsupported(m),
            E::Crashed(crash) => FfiError::Crashed(crash.into()),
            E::SignatureMismatch(m) => FfiError::SignatureMismatch(m),
        }
    }
}

impl From<wasmffi_native::Crash> for NativeCrash {
    fn from(crash: wasmffi_native::Crash) -> NativeCrash {
        NativeCrash {
            signal: crash.signal,
            signal_name: crash.signal_name,
            function: crash.function,
            recoverable: crash.recoverable,
        }
    }
}

impl From<Done> for CallDone {
    fn from(done: Done) -> CallDone {
        CallDone {
            value: done.value,
            bytes: done.bytes,
            errno: done.errno,
        }
    }
}

/// How a native call's crossing ends, as `call-step`.
pub fn call_step(step: Step) -> CallStep {
    match step {
        Step::Done(done) => CallStep::Done(done.into()),
        Step::Callback { id, args } => CallStep::Callback(CallbackRequest {
            id,
            args: args.into_vec(),
        }),
    }
}
