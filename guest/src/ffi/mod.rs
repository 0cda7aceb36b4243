//! The guest's FFI core: platform facts, primitive C types and their
//! conversions, native memory, prepared calls and callbacks, shared by
//! `_rawffi` and `_ctypes`. Everything here talks to the host through the
//! WIT bindings only.

pub mod arena;
pub mod call;
pub mod callback;
pub mod errors;
pub mod longdouble;
pub mod memory;
pub mod platform;
pub mod prim;

use std::cell::Cell;

/// The host interfaces this core speaks.
pub mod wit {
    pub use crate::bindings::wasmffi::ffi::{call, library, memory, platform, types};
}

thread_local! {
    /// The guest's copy of C `errno`: set into the native thread just before
    /// a call and captured right after it (ctypes' `use_errno` model).
    static ERRNO: Cell<i32> = const { Cell::new(0) };
}

pub fn errno() -> i32 {
    ERRNO.with(Cell::get)
}

pub fn set_errno(value: i32) -> i32 {
    ERRNO.with(|e| e.replace(value))
}
