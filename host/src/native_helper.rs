//! Which program serves as the native helper: for --isolate-native, this
//! very executable started as `wasmffi __native-worker`.

use std::path::PathBuf;

use wasmffi_native::high::client::HelperCommand;

/// The argument that turns the executable into a helper.
pub const WORKER_ARG: &str = "__native-worker";

/// This executable as its own helper (--isolate-native).
pub fn own_executable() -> HelperCommand {
    HelperCommand {
        program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wasmffi")),
        args: vec![WORKER_ARG.into()],
        env: Vec::new(),
    }
}
