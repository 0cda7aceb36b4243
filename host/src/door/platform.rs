//! `wasmffi:ffi/platform`: ABI facts of where native code runs, so the guest
//! hard-codes none. The native executor knows them
//! (`wasmffi_native::high::facts`); this hands them to the guest.

use wasmffi_native::high::facts::PlatformFacts;

use crate::bindings::wasmffi::ffi::platform::{CTypeInfo, Host, PlatformFacts as Facts};
use crate::state::HostState;

/// The facts of this process (native code running in it).
pub fn facts() -> Facts {
    door_facts(wasmffi_native::high::facts::facts())
}

/// The native executor's facts as the door's record.
pub fn door_facts(facts: PlatformFacts) -> Facts {
    Facts {
        pointer_width: facts.pointer_width,
        big_endian: facts.big_endian,
        os: facts.os,
        arch: facts.arch,
        libc: facts.libc,
        libc_soname: facts.libc_soname,
        libm_soname: facts.libm_soname,
        c_types: facts
            .c_types
            .into_iter()
            .map(|t| CTypeInfo {
                name: t.name,
                size: t.size,
                alignment: t.alignment,
                is_signed: t.is_signed,
            })
            .collect(),
        errno_codes: facts.errno_codes,
        dlopen_flags: facts.dlopen_flags,
    }
}

impl Host for HostState {
    fn facts(&mut self) -> Facts {
        if self.native_facts.is_none() {
            // Under --native-arch the helper's architecture is the guest's
            // platform; a helper that cannot start has said why already.
            self.native_facts = self.foreign_helper().and_then(|h| h.facts().ok());
        }
        match &self.native_facts {
            Some(native) => door_facts(native.clone()),
            None => facts(),
        }
    }
}
