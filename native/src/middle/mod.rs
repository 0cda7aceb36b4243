//! The middle layer: libffi types and layouts, prepared signatures and
//! calls, argument staging, closures and callback coroutines.

pub mod closure;
#[cfg(feature = "in-process")]
pub mod coroutine;
pub mod signature;
pub mod staging;
pub mod types;
