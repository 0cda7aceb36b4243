//! `_rawffi.CallbackPtr`'s handler: native arguments to Python values, the
//! Python result back to native bytes.

use std::rc::Rc;

use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

use crate::ffi::call::{CallSpec, ValueSpec};
use crate::ffi::callback::Handler;
use crate::ffi::memory;
use crate::ffi::prim::{address_of, decode_bytes, encode, Encoded, Kind};

pub struct RawHandler {
    pub callable: PyObjectRef,
    pub spec: Rc<CallSpec>,
    pub arg_shapes: Vec<Option<PyObjectRef>>,
}

impl Handler for RawHandler {
    fn call(&self, vm: &VirtualMachine, packed: &[u8]) -> PyResult<Vec<u8>> {
        let mut args = Vec::with_capacity(self.spec.args.len());
        for (index, ty) in self.spec.args.iter().enumerate() {
            let offset = self.spec.offsets[index] as usize;
            let bytes = packed
                .get(offset..offset + ty.size() as usize)
                .ok_or_else(|| {
                    vm.new_value_error("callback arguments are shorter than the signature")
                })?;
            args.push(match ty {
                ValueSpec::Prim(prim) => decode_bytes(vm, *prim, bytes)?,
                ValueSpec::Aggregate(_) => {
                    let data = vm.ctx.new_bytes(bytes.to_vec());
                    match &self.arg_shapes[index] {
                        Some(shape) => vm.call_method(shape, "_from_bytes", (data,))?,
                        None => data.into(),
                    }
                }
            });
        }
        let result = self.callable.call(args, vm)?;
        match &self.spec.ret {
            None => Ok(Vec::new()),
            Some(ValueSpec::Prim(prim)) if prim.kind == Kind::Void => Ok(Vec::new()),
            Some(ValueSpec::Prim(prim)) => match encode(vm, *prim, &result)? {
                Encoded::Bits(bits) => Ok(bits.to_le_bytes()[..prim.size as usize].to_vec()),
                Encoded::Bytes(bytes) => Ok(bytes),
                Encoded::Temporary(_) => Err(vm.new_type_error(
                    "a callback cannot return a string by value: return an address that stays valid",
                )),
            },
            Some(ValueSpec::Aggregate(aggregate)) => {
                let size = aggregate.layout.size as usize;
                if let Some(b) = result.downcast_ref::<rustpython_vm::builtins::PyBytes>() {
                    if b.as_bytes().len() == size {
                        return Ok(b.as_bytes().to_vec());
                    }
                }
                let buffer = result.get_attr("buffer", vm)?;
                let address = address_of(vm, &buffer)?
                    .filter(|&a| a != 0)
                    .ok_or_else(|| vm.new_type_error("the callback must return a structure instance"))?;
                memory::read(vm, address, size)
            }
        }
    }

    fn target(&self) -> PyObjectRef {
        self.callable.clone()
    }

    fn context(&self) -> &'static str {
        "on calling _rawffi callback function"
    }
}
