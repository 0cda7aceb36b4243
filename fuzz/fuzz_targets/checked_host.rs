//! Arbitrary call sequences under a checked-mode policy (the `libc-math`
//! preset plus a pinned `getenv`): errors, never a crash, and nothing
//! reaches memory the runtime did not hand out (see driver.rs).
#![no_main]

mod driver;

use libfuzzer_sys::fuzz_target;
use wasmffi::Policy;

fn policy() -> Policy {
    let mut policy = Policy::preset("libc-math")
        .expect("preset")
        .pin_signature("libc.so.6", "getenv", "const char *getenv(const char *)")
        .expect("pin");
    policy.limits.native_memory = 64 << 20;
    policy
}

fuzz_target!(|ops: Vec<driver::Op>| {
    // Parsing the preset's pinned signatures took most of each run.
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    let policy = POLICY.get_or_init(policy).clone();
    driver::Driver::new(policy, true).run(&ops);
});
