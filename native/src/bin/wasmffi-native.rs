//! `wasmffi-native [--stdio] NATIVE_MEMORY_LIMIT [CONFINEMENT]`: a native
//! helper on its own, serving wasmffi's helper protocol. The host starts it
//! (under qemu-user for `--native-arch`) with the protocol on fds 3 and 4,
//! so native code keeps the real stdin/stdout/stderr. With `--stdio` it
//! serves on stdin/stdout instead (for trying it by hand or from another
//! program); native code's stdout then goes to stderr.

use std::fs::File;
use std::os::fd::FromRawFd;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("--stdio") {
        wasmffi_native::high::executor::serve_helper_fds(&args);
    }
    args.remove(0);
    // SAFETY: plain descriptor juggling before anything else runs: the
    // protocol moves off 0 and 1, and 1 becomes a copy of 2.
    let (input, output) = unsafe {
        let input = libc::dup(0);
        let output = libc::dup(1);
        if input < 0 || output < 0 || libc::dup2(2, 1) < 0 {
            eprintln!("wasmffi-native: cannot set up the protocol's descriptors");
            std::process::exit(2);
        }
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::close(devnull);
        }
        (File::from_raw_fd(input), File::from_raw_fd(output))
    };
    wasmffi_native::high::executor::serve_pipes(input, output, &args)
}
