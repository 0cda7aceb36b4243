//! A testing door for the fuzz harness (`fuzz/`) and regression tests: the
//! host side of the FFI interfaces driven directly, exactly as the guest's
//! imports would call them, on a [`HostState`] built from a policy. Not a
//! stable API.

use std::sync::Arc;

use wasmtime::component::Resource;
use wasmtime_wasi::WasiCtxBuilder;

use crate::bindings::wasmffi::ffi::call::{
    CallArgs, CallStep, Host as CallHost, HostFunction, HostSignature,
};
use crate::bindings::wasmffi::ffi::library::HostLibrary;
use crate::bindings::wasmffi::ffi::memory::Host as MemoryHost;
use crate::bindings::wasmffi::ffi::types::HostStructType;
pub use crate::bindings::{FfiError, Scalar, ValueType};
use crate::policy::Policy;
use crate::state::HostState;

/// What a value type names: a scalar or the n-th struct type created.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Scalar(Scalar),
    Struct(usize),
}

/// One run's host state plus the handles the driver has made.
pub struct Session {
    state: HostState,
    libraries: Vec<u32>,
    structs: Vec<u32>,
    signatures: Vec<(u32, Vec<u32>)>,
    functions: Vec<u32>,
    /// Addresses `alloc` returned (freed ones stay listed: the driver
    /// should try them again).
    pub blocks: Vec<(u64, u64)>,
}

/// All scalars, for drivers that pick one by index.
pub const SCALARS: [Scalar; 13] = [
    Scalar::Void,
    Scalar::Uint8,
    Scalar::Sint8,
    Scalar::Uint16,
    Scalar::Sint16,
    Scalar::Uint32,
    Scalar::Sint32,
    Scalar::Uint64,
    Scalar::Sint64,
    Scalar::Float32,
    Scalar::Float64,
    Scalar::LongDouble,
    Scalar::Pointer,
];

impl Session {
    pub fn new(policy: Policy) -> Session {
        let wasi = WasiCtxBuilder::new().build();
        Session {
            state: HostState::new(wasi, Arc::new(policy)),
            libraries: Vec::new(),
            structs: Vec::new(),
            signatures: Vec::new(),
            functions: Vec::new(),
            blocks: Vec::new(),
        }
    }

    pub fn open(&mut self, name: Option<&str>) -> Result<usize, FfiError> {
        let r = HostLibrary::open(&mut self.state, name.map(str::to_owned), libc::RTLD_NOW)?;
        self.libraries.push(r.rep());
        Ok(self.libraries.len() - 1)
    }

    pub fn symbol(&mut self, lib: usize, name: &str) -> Result<u64, FfiError> {
        let rep = *self.libraries.get(lib).ok_or(bad("library"))?;
        HostLibrary::symbol(&mut self.state, Resource::new_borrow(rep), name.to_owned())
    }

    fn value_types(&self, tys: &[Ty]) -> Result<Vec<ValueType>, FfiError> {
        tys.iter()
            .map(|t| match t {
                Ty::Scalar(s) => Ok(ValueType::Scalar(*s)),
                Ty::Struct(i) => self
                    .structs
                    .get(*i)
                    .map(|rep| ValueType::Structure(Resource::new_borrow(*rep)))
                    .ok_or(bad("struct type")),
            })
            .collect()
    }

    pub fn struct_new(&mut self, fields: &[Ty], is_union: bool) -> Result<(usize, u32), FfiError> {
        let fields = self.value_types(fields)?;
        let (r, layout) = HostStructType::new(&mut self.state, fields, is_union)?;
        self.structs.push(r.rep());
        Ok((self.structs.len() - 1, layout.size))
    }

    /// Returns the signature's index and its slot offsets (then the slot area size).
    pub fn prepare(
        &mut self,
        args: &[Ty],
        ret: Ty,
        fixed: Option<u32>,
    ) -> Result<(usize, Vec<u32>), FfiError> {
        let args = self.value_types(args)?;
        let ret = self.value_types(&[ret])?.pop().expect("one");
        let (r, offsets) = HostSignature::prepare(&mut self.state, args, ret, fixed)?;
        self.signatures.push((r.rep(), offsets.clone()));
        Ok((self.signatures.len() - 1, offsets))
    }

    pub fn bind(&mut self, lib: usize, symbol: &str, sig: usize) -> Result<usize, FfiError> {
        let lib = *self.libraries.get(lib).ok_or(bad("library"))?;
        let sig = self.signatures.get(sig).ok_or(bad("signature"))?.0;
        let r = HostFunction::bind(
            &mut self.state,
            Resource::new_borrow(lib),
            symbol.to_owned(),
            Resource::new_borrow(sig),
        )?;
        self.functions.push(r.rep());
        Ok(self.functions.len() - 1)
    }

    pub fn from_address(&mut self, address: u64, sig: usize) -> Result<usize, FfiError> {
        let sig = self.signatures.get(sig).ok_or(bad("signature"))?.0;
        let r = HostFunction::from_address(&mut self.state, address, Resource::new_borrow(sig))?;
        self.functions.push(r.rep());
        Ok(self.functions.len() - 1)
    }

    /// Call; a native crash the runtime contained is returned as `Crashed`.
    pub fn invoke(
        &mut self,
        f: usize,
        data: Vec<u8>,
        relocations: Vec<u32>,
    ) -> Result<(u64, Option<Vec<u8>>), FfiError> {
        let rep = *self.functions.get(f).ok_or(bad("function"))?;
        let step = CallHost::invoke(
            &mut self.state,
            Resource::new_borrow(rep),
            CallArgs {
                data,
                relocations,
                errno: Some(0),
            },
        )?;
        match step {
            CallStep::Done(done) => Ok((done.value, done.bytes)),
            CallStep::Callback(_) => Err(FfiError::Unsupported(
                "callbacks are not driven here".into(),
            )),
        }
    }

    pub fn drop_function(&mut self, f: usize) {
        if f < self.functions.len() {
            let rep = self.functions.swap_remove(f);
            let _ = HostFunction::drop(&mut self.state, Resource::new_own(rep));
        }
    }

    pub fn drop_signature(&mut self, s: usize) {
        if s < self.signatures.len() {
            let (rep, _) = self.signatures.swap_remove(s);
            let _ = HostSignature::drop(&mut self.state, Resource::new_own(rep));
        }
    }

    pub fn drop_library(&mut self, l: usize) {
        if l < self.libraries.len() {
            let rep = self.libraries.swap_remove(l);
            let _ = HostLibrary::drop(&mut self.state, Resource::new_own(rep));
        }
    }

    pub fn alloc(&mut self, size: u64, align: u32) -> Result<u64, FfiError> {
        let a = MemoryHost::alloc(&mut self.state, size, align)?;
        self.blocks.push((a, size));
        Ok(a)
    }

    pub fn free(&mut self, address: u64) -> Result<(), FfiError> {
        MemoryHost::free(&mut self.state, address)
    }

    pub fn read(&mut self, address: u64, len: u32) -> Result<Vec<u8>, FfiError> {
        MemoryHost::read(&mut self.state, address, len)
    }

    pub fn write(&mut self, address: u64, data: Vec<u8>) -> Result<(), FfiError> {
        MemoryHost::write(&mut self.state, address, data)
    }

    pub fn load(&mut self, address: u64, kind: Scalar) -> Result<u64, FfiError> {
        MemoryHost::load(&mut self.state, address, kind)
    }

    pub fn store(&mut self, address: u64, kind: Scalar, value: u64) -> Result<(), FfiError> {
        MemoryHost::store(&mut self.state, address, kind, value)
    }

    pub fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), FfiError> {
        MemoryHost::copy(&mut self.state, dst, src, len)
    }

    pub fn fill(&mut self, dst: u64, byte: u8, len: u64) -> Result<(), FfiError> {
        MemoryHost::fill(&mut self.state, dst, byte, len)
    }

    pub fn string_length(&mut self, address: u64, element: u32) -> Result<u64, FfiError> {
        MemoryHost::string_length(&mut self.state, address, element)
    }

    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.libraries.len(),
            self.structs.len(),
            self.signatures.len(),
            self.functions.len(),
        )
    }
}

fn bad(what: &str) -> FfiError {
    FfiError::InvalidArgument(format!("no such {what} in this session"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked() -> Session {
        let policy = Policy::preset("libc-math").expect("preset");
        Session::new(policy)
    }

    /// fuzz/regressions/div-by-zero-sigfpe: the fuzzer bound `div` (then
    /// allowed, unpinned) and called div(-12799, 0), which raises SIGFPE
    /// in native code. The preset no longer allows it.
    #[test]
    fn fuzz_regression_div_by_zero() {
        let mut s = checked();
        let libc = s.open(Some("libc.so.6")).unwrap();
        let (pair, _) = s
            .struct_new(&[Ty::Scalar(Scalar::Sint32); 2], false)
            .unwrap();
        let (sig, offsets) = s
            .prepare(&[Ty::Scalar(Scalar::Sint32); 2], Ty::Struct(pair), None)
            .unwrap();
        assert_eq!(offsets, vec![0, 8, 16]);
        for symbol in ["div", "ldiv", "lldiv", "isalpha"] {
            assert!(
                matches!(s.bind(libc, symbol, sig), Err(FfiError::NotPermitted(_))),
                "{symbol} bound"
            );
        }
    }

    /// fuzz/regressions/relocated-length: memcmp bound with all three slots
    /// relocated into the scratch area. The bound `[$3]` was checked against
    /// the length slot's raw value (an offset), then the host rebased that
    /// slot too and memcmp read an address-sized length: SIGSEGV.
    #[test]
    fn fuzz_regression_relocated_length() {
        let mut s = checked();
        let libc = s.open(Some("libc.so.6")).unwrap();
        let p = Ty::Scalar(Scalar::Pointer);
        let (sig, offsets) = s
            .prepare(
                &[p, p, Ty::Scalar(Scalar::Uint64)],
                Ty::Scalar(Scalar::Sint32),
                None,
            )
            .unwrap();
        let memcmp = s.bind(libc, "memcmp", sig).unwrap();
        let mut data = Vec::new();
        for _ in 0..3 {
            data.extend(24u64.to_ne_bytes());
        }
        data.extend([0xad; 29]);
        let relocs = offsets[..3].to_vec();
        assert!(matches!(
            s.invoke(memcmp, data.clone(), relocs),
            Err(FfiError::InvalidArgument(m)) if m.contains("not a pointer slot")
        ));
        // Only the pointers relocated: fine.
        assert_eq!(s.invoke(memcmp, data, offsets[..2].to_vec()).unwrap().0, 0);
    }

    /// The pointer checks of checked mode, through the same calls the guest makes.
    #[test]
    fn checked_calls_refuse_bad_pointers_before_native_code() {
        let mut s = checked();
        let libc = s.open(Some("libc.so.6")).unwrap();
        let p = Ty::Scalar(Scalar::Pointer);
        let (memset_sig, _) = s
            .prepare(
                &[p, Ty::Scalar(Scalar::Sint32), Ty::Scalar(Scalar::Uint64)],
                p,
                None,
            )
            .unwrap();
        let memset = s.bind(libc, "memset", memset_sig).unwrap();
        let block = s.alloc(16, 8).unwrap();
        let args = |ptr: u64, n: u64| {
            let mut d = Vec::new();
            d.extend(ptr.to_ne_bytes());
            d.extend(0x41u64.to_ne_bytes());
            d.extend(n.to_ne_bytes());
            d
        };
        assert_eq!(s.invoke(memset, args(block, 16), vec![]).unwrap().0, block);
        assert_eq!(s.read(block, 2).unwrap(), b"AA");
        for (ptr, n) in [
            (block, 17),
            (block + 8, 9),
            (block, u64::MAX),
            (0, 1),
            (0x7fff_0000, 1),
        ] {
            assert!(
                matches!(
                    s.invoke(memset, args(ptr, n), vec![]),
                    Err(FfiError::BadPointer(_))
                ),
                "memset({ptr:#x}, 'A', {n}) ran"
            );
        }
        // A relocated (scratch) pointer: the bound must fit in the buffer.
        let mut d = args(24, 4);
        d.extend([0u8; 8]);
        assert!(s.invoke(memset, d.clone(), vec![0]).is_ok());
        d[16..24].copy_from_slice(&9u64.to_ne_bytes());
        assert!(matches!(
            s.invoke(memset, d, vec![0]),
            Err(FfiError::BadPointer(_))
        ));
        s.free(block).unwrap();
        assert!(
            matches!(s.invoke(memset, args(block, 1), vec![]), Err(FfiError::BadPointer(m)) if m.contains("use after free"))
        );
        assert!(matches!(s.free(block), Err(FfiError::BadPointer(m)) if m.contains("double free")));
        // Foreign memory is out of reach of the memory interface.
        let local = [1u8; 8];
        assert!(matches!(
            s.read(local.as_ptr() as u64, 1),
            Err(FfiError::BadPointer(_))
        ));
        assert!(matches!(
            s.from_address(0x1234_5678, memset_sig),
            Err(FfiError::NotPermitted(_))
        ));
        // Wrong signature for a pinned symbol.
        let (bad, _) = s.prepare(&[p], Ty::Scalar(Scalar::Sint32), None).unwrap();
        assert!(matches!(
            s.bind(libc, "strlen", bad),
            Err(FfiError::SignatureMismatch(_))
        ));
    }

    /// Host-side cost of checked mode per call (run with --ignored --nocapture).
    #[test]
    #[ignore]
    fn checked_call_cost() {
        for (mode, policy) in [
            ("trusted", Policy::default().allow_library("libc.so.6")),
            ("checked", Policy::preset("libc-math").unwrap()),
        ] {
            let mut s = Session::new(policy);
            let libc = s.open(Some("libc.so.6")).unwrap();
            let p = Ty::Scalar(Scalar::Pointer);
            let n = Ty::Scalar(Scalar::Uint64);
            let (sig, _) = s.prepare(&[p, p, n], p, None).unwrap();
            let memcpy = s.bind(libc, "memcpy", sig).unwrap();
            let (a, b) = (s.alloc(64, 8).unwrap(), s.alloc(64, 8).unwrap());
            let mut data = Vec::new();
            data.extend(a.to_ne_bytes());
            data.extend(b.to_ne_bytes());
            data.extend(32u64.to_ne_bytes());
            let calls = 1_000_000;
            let mut best = f64::MAX;
            for _ in 0..5 {
                let t = std::time::Instant::now();
                for _ in 0..calls {
                    s.invoke(memcpy, data.clone(), vec![]).unwrap();
                }
                best = best.min(t.elapsed().as_nanos() as f64 / calls as f64);
            }
            println!("{mode}: memcpy(a, b, 32) host side {best:.1} ns/call");
        }
    }
}
