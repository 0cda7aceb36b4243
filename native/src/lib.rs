//! wasmffi's native side: everything that touches native code, without
//! wasmtime, so that a helper for another architecture cross-builds on its
//! own (`cargo build -p wasmffi-native --target <triple>`).
//!
//! Three layers, each usable alone (as libffi-rs has `low`/`middle`/`high`):
//!
//! * [`low`]: raw native memory (the runtime's blocks, their quarantine,
//!   copies under the fault handlers), fault containment (`fault.c`'s
//!   sigsetjmp around calls and copies), dlopen/dlsym;
//! * [`middle`]: type layouts from libffi, prepared signatures and the calls
//!   through them, argument staging, closures and the coroutines that let a
//!   callback suspend a native call;
//! * [`high`]: the executor that serves a host over the helper protocol, the
//!   protocol itself, the host's client of a helper process, and the
//!   platform facts of the architecture it runs on.
//!
//! The binary `wasmffi-native` is that executor on its own: what
//! `--native-arch` runs under qemu-user.

mod error;
pub mod high;
pub mod low;
pub mod middle;

pub use error::{Crash, Error};
pub use middle::types::{Scalar, Ty};

pub type Result<T, E = Error> = std::result::Result<T, E>;
