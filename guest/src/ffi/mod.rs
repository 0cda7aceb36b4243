//! The guest's FFI core, shared by `_rawffi` and `_ctypes`: platform facts,
//! primitive C types and their conversions, native memory, prepared calls.
//! Everything here talks to the host through `crate::bindings` only.

pub mod arena;
pub mod call;
pub mod callback;
pub mod errors;
pub mod longdouble;
pub mod memory;
pub mod platform;
pub mod prim;

use std::cell::Cell;

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
