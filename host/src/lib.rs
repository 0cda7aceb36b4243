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

mod bindings;
mod cache;
mod checked;
pub mod csig;
mod door;
#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod mixed;
mod native_helper;
mod platform;
pub mod policy;
pub mod policy_file;
mod probe;
mod runtime;
mod sqlite;
mod sqlite_budget;
mod sqlite_guard;
mod sqlite_vfs;
mod state;
mod zlib;

// The door's resources under the names `bindings.rs` maps them from, and the
// native side's fault handling under the name the runtime installs it by.
use door::{call, callback, library, types};
use wasmffi_native::low::fault;

pub use policy::Policy;

/// The argument that makes the `wasmffi` executable an --isolate-native
/// helper; an embedder that enables isolation must dispatch it to
/// [`native_worker_main`] first thing in `main`.
pub use native_helper::WORKER_ARG as NATIVE_WORKER_ARG;

/// Serve as the --isolate-native helper process (never returns).
pub fn native_worker_main(args: &[String]) -> ! {
    wasmffi_native::high::executor::serve_helper_fds(args)
}
/// Where the compiled guest and its standard library are cached:
/// `$WASMFFI_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmffi`, else `~/.cache/wasmffi`.
pub fn cache_dir() -> std::path::PathBuf {
    cache::default_dir()
}

pub use runtime::{parse_preopen, Outcome, Preopen, Program, RunOptions, Runtime, Stdio};
