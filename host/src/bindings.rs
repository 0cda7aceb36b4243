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
        "wasmffi:ffi/call.callback": crate::callback::Callback,
        "wasmffi:ffi/sqlite.connection": crate::mixed::sqlite::Connection,
        "wasmffi:ffi/sqlite.statement": crate::mixed::sqlite::Statement,
        "wasmffi:ffi/sqlite.blob": crate::mixed::sqlite::Blob,
        "wasmffi:ffi/sqlite.backup": crate::mixed::sqlite::Backup,
        "wasmffi:ffi/zlib.compressor": crate::mixed::zlib::Compressor,
        "wasmffi:ffi/zlib.decompressor": crate::mixed::zlib::Decompressor,
    },
    imports: {
        // The only import allowed to trap: ending the guest is a trap by design.
        // No per-call tracing spans elsewhere: `call.invoke` is the hot path.
        "wasmffi:ffi/process.exit": trappable,
    },
});

pub use wasmffi::ffi::types::{FfiError, Scalar, StructLayout, ValueType};
