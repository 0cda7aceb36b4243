pub const PATH: &str = concat!(env!("OUT_DIR"), "/libwasmffi_test.so");
