//! Arbitrary call sequences under a policy with a trusted libc whose raw
//! memory is withheld (`raw_memory = false`): the library's functions may be
//! handed any address (that is what trusting it means, so the driver does not
//! call them), but the memory interface and `from-address` stay confined.
#![no_main]

mod driver;

use libfuzzer_sys::fuzz_target;
use wasmffi::Policy;

fuzz_target!(|ops: Vec<driver::Op>| {
    let mut policy = Policy::default()
        .allow_library("libc.so.6")
        .grant_raw_memory(false);
    policy.limits.native_memory = 64 << 20;
    driver::Driver::new(policy, false).run(&ops);
});
