//! wasmffi: run Python inside wasmtime with policy-controlled access to native
//! libraries.
//!
//! The guest is RustPython compiled to a `wasm32-wasip2` component; the only
//! door between it and native code is the WIT package in `wit/`, implemented
//! here one interface per module. Embed it like this:
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
mod call;
mod callback;
mod checked;
pub mod csig;
mod fault;
mod library;
mod limits;
mod memory;
mod mixed;
mod platform;
pub mod policy;
pub mod policy_file;
mod probe;
mod process;
mod runtime;
mod sqlite;
mod state;
mod types;
mod zlib;

pub use policy::Policy;
pub use runtime::{parse_preopen, Outcome, Preopen, Program, RunOptions, Runtime, Stdio};
