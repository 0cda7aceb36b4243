//! wasmffi: run Python inside wasmtime with policy-controlled access to native
//! libraries.
//!
//! The guest is CPython 3.11 compiled to a `wasm32-wasip2` component, with
//! wasmffi's modules (`_rawffi`, `_ctypes`, `zlib`, `_probe`, `_sqlite3`)
//! built in and its standard library served read-only.
//! The only door between it and native code is the WIT package in `wit/`,
//! implemented here one interface per module. Embed it like this:
//!
//! ```no_run
//! use wasmffi::{Policy, Program, RunOptions, Runtime};
//! let runtime = Runtime::new(Policy::default().allow_library("libm.so.6"))?;
//! let outcome = runtime.run(&Program::Code("import _rawffi".into()), &RunOptions::default())?;
//! assert_eq!(outcome.status, 0);
//! # anyhow::Ok(())
//! ```

// Layers, outermost first: the runtime (embedding API, engine,
// compiled-guest cache) builds a store; the door's interfaces and the mixed
// modules' host halves serve the guest on its state (`state.rs`); both ask
// the policy (grants, limits, paths) and hand native work to the native side
// (the wasmffi-native crate). Nothing imports a layer above it.
mod bindings;
mod door;
#[doc(hidden)]
pub mod fuzzing;
mod mixed;
pub mod policy;
mod runtime;
mod state;

pub use policy::{csig, file as policy_file};

// The door's resources under the names `bindings.rs` maps them from, and the
// native side's fault handling under the name the runtime installs it by.
use door::{call, callback, library, types};
use wasmffi_native::low::fault;

pub use policy::Policy;

/// The argument that makes the `wasmffi` executable an --isolate-native
/// helper; an embedder that enables isolation must dispatch it to
/// [`native_worker_main`] first thing in `main`.
pub use policy::native_helper::WORKER_ARG as NATIVE_WORKER_ARG;

/// Serve as the --isolate-native helper process (never returns).
pub fn native_worker_main(args: &[String]) -> ! {
    wasmffi_native::high::executor::serve_helper_fds(args)
}
/// Where the compiled guest and its standard library are cached:
/// `$WASMFFI_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmffi`, else `~/.cache/wasmffi`.
pub fn cache_dir() -> std::path::PathBuf {
    runtime::cache::default_dir()
}

pub use runtime::{parse_preopen, Outcome, Preopen, Program, RunOptions, Runtime, Stdio};
