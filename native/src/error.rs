//! Why the native side refused or failed a request: the same cases as the
//! door's `ffi-error` (the host maps one onto the other), and serialisable,
//! so a helper's errors cross the protocol unchanged.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Error {
    NotPermitted(String),
    LoadFailed(String),
    NoSuchSymbol(String),
    InvalidArgument(String),
    BadPointer(String),
    LimitExceeded(String),
    Unsupported(String),
    Crashed(Crash),
    SignatureMismatch(String),
}

/// A fatal signal raised by native code during a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crash {
    pub signal: i32,
    pub signal_name: String,
    /// The function that was running and its library.
    pub function: String,
    /// Whether the runtime survived it (native code ran in a helper process).
    pub recoverable: bool,
}
