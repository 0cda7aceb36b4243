//! Arbitrary call sequences under the default policy (no library, no raw
//! memory): the memory interface reaches only the session's own blocks and
//! no integer becomes a function (see driver.rs).
#![no_main]

mod driver;

use libfuzzer_sys::fuzz_target;
use wasmffi::Policy;

fuzz_target!(|ops: Vec<driver::Op>| {
    let mut policy = Policy::default();
    policy.limits.native_memory = 64 << 20;
    driver::Driver::new(policy, false).run(&ops);
});
