//! The host's ABI facts, fetched once.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::wit::platform::{self, CTypeInfo};

pub struct Facts {
    pub raw: platform::PlatformFacts,
    by_name: HashMap<String, CTypeInfo>,
}

impl Facts {
    /// A C type the host described; the host lists every type we ask for.
    pub fn c_type(&self, name: &str) -> &CTypeInfo {
        self.by_name
            .get(name)
            .unwrap_or_else(|| panic!("host platform facts lack C type {name:?}"))
    }

    pub fn dlopen_flag(&self, name: &str) -> i32 {
        self.raw
            .dlopen_flags
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }

    pub fn wchar_size(&self) -> u32 {
        self.c_type("wchar_t").size
    }

    /// Whether native code stores numbers most significant byte first
    /// (s390x, natively or under `--native-arch`): the order of every
    /// value the guest reads or writes in native memory as bytes. Not the
    /// guest's own (`sys.byteorder`, wasm32's little-endian).
    pub fn big_endian(&self) -> bool {
        self.raw.big_endian
    }
}

/// One scalar's bytes between the wire's order (the guest packs call slots,
/// results and callback arguments little-endian; the host swaps scalar slots
/// itself) and native memory's: reversed when native code is big-endian,
/// the same swap both ways.
pub fn wire_to_native(bytes: &mut [u8]) {
    if facts().big_endian() {
        bytes.reverse();
    }
}

pub fn facts() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(|| {
        let raw = platform::facts();
        let by_name = raw
            .c_types
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect();
        Facts { raw, by_name }
    })
}
