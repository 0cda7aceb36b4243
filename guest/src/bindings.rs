//! Guest-side bindings of `wit/`: the only door to the host.

wit_bindgen::generate!({
    path: "../wit",
    world: "ffi",
});

pub use wasmffi::ffi::{mixed, probe, process, sqlite, types, zlib};
