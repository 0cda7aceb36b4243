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
