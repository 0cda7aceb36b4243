//! Host-side bindings generated from `wit/`: the single source of truth for
//! what crosses between guest and host.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "ffi",
    with: {
        "wasmffi:ffi/types.struct-type": crate::types::StructType,
        "wasmffi:ffi/library.library": crate::library::Library,
        "wasmffi:ffi/call.signature": crate::call::Signature,
        "wasmffi:ffi/call.function": crate::call::Function,
    },
    imports: {
        // The only import allowed to trap: ending the guest is a trap by design.
        "wasmffi:ffi/process.exit": trappable,
        default: tracing,
    },
});

pub use wasmffi::ffi::types::{FfiError, Scalar, StructLayout, ValueType};
