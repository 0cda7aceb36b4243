//! The middle layer: libffi types and layouts, prepared signatures and
//! calls, argument staging, closures and callback coroutines.

pub mod closure;
pub mod signature;
pub mod staging;
pub mod types;
