//! Native code under another architecture's ABI (`--native-arch`), and the
//! native memory access every architecture relies on: raw reads and writes
//! copied under the fault handlers, in-process and in a helper process alike
//! (the kernel's process_vm_readv/writev are ENOSYS under qemu-user).

mod common;

use common::run_py_ok;

/// A write to a read-only page or a read of an unmapped one is a
/// SegfaultException that leaves the page as it was, wherever native code runs.
#[test]
fn raw_memory_respects_page_protection_in_process_and_isolated() {
    run_py_ok("native_memory_protection", &[]);
    run_py_ok("native_memory_protection", &["--isolate-native"]);
}
