pub const PATH: &str = concat!(env!("OUT_DIR"), "/libwasmffi_test.so");

/// Stand-ins for the CPython C-API symbols `_ctypes_test.so` references
/// (tests/cpython_ctypes/pystub.c); load it with RTLD_GLOBAL first.
pub const PYSTUB_PATH: &str = concat!(env!("OUT_DIR"), "/libwasmffi_pystub.so");
