//! `CFUNCTYPE(...)(python_callable)`: a C function pointer that runs Python,
//! built on the FFI core's callbacks (`crate::ffi::callback`). Native
//! arguments arrive packed at the signature's slot offsets; the handler turns
//! them into Python values as CPython does (fundamental simple types become
//! values, anything else an instance), calls the function, and packs the
//! result.

use std::cell::RefCell;
use std::rc::Rc;

use rustpython_vm::builtins::PyTypeRef;
use rustpython_vm::{AsObject, Py, PyObjectRef, PyResult, VirtualMachine};

use super::cdata::{instantiate, CData};
use super::function::CFuncPtr;
use super::info::{decode_simple, encode_simple, is_direct_simple, stginfo, Shape, StgInfo};
use crate::ffi::call::{CallSpec, ValueSpec};
use crate::ffi::callback::{create, Handler};
use crate::ffi::prim::Kind;

struct PyHandler {
    callable: PyObjectRef,
    args: Vec<(PyTypeRef, rustpython_vm::PyRef<StgInfo>)>,
    ret: Option<(PyTypeRef, rustpython_vm::PyRef<StgInfo>)>,
    spec: CallSpec,
    /// What the last result pointed at (a string returned as `char *`).
    last: RefCell<Option<PyObjectRef>>,
}

impl PyHandler {
    fn arg_value(&self, vm: &VirtualMachine, i: usize, data: &[u8]) -> PyResult {
        let (ty, info) = &self.args[i];
        let start = self.spec.offsets[i] as usize;
        let end = (start + info.size).min(data.len());
        let bytes = data.get(start..end).unwrap_or(&[]);
        if let Some(sc) = info.simple() {
            if is_direct_simple(ty, super::cdata::simple_base()) && sc.code != 'O' {
                if sc.prim.kind == Kind::LongDouble {
                    return Ok(vm
                        .ctx
                        .new_float(crate::ffi::longdouble::decode(bytes))
                        .into());
                }
                let mut raw = [0u8; 8];
                let n = bytes.len().min(8);
                raw[..n].copy_from_slice(&bytes[..n]);
                return decode_simple(vm, sc, u64::from_le_bytes(raw));
            }
        }
        let cd = CData::alloc_with(vm, info.clone(), bytes)?;
        instantiate(vm, ty.clone(), cd)
    }
}

impl Handler for PyHandler {
    fn call(&self, vm: &VirtualMachine, data: &[u8]) -> PyResult<Vec<u8>> {
        let mut values = Vec::with_capacity(self.args.len());
        for i in 0..self.args.len() {
            values.push(self.arg_value(vm, i, data)?);
        }
        let result = self.callable.call(values, vm)?;
        // As CPython: a result that cannot be converted is its own report.
        self.convert_result(vm, &result).or_else(|exc| {
            let message = "Exception ignored on converting result of ctypes callback function";
            vm.run_unraisable(exc, Some(message.to_owned()), self.callable.clone());
            Ok(Vec::new())
        })
    }

    fn target(&self) -> PyObjectRef {
        self.callable.clone()
    }

    fn context(&self) -> &'static str {
        "on calling ctypes callback function"
    }

    fn traverse(&self, tracer: &mut rustpython_vm::object::TraverseFn<'_>) {
        use rustpython_vm::object::Traverse;
        self.callable.traverse(tracer);
    }
}

impl PyHandler {
    fn convert_result(&self, vm: &VirtualMachine, result: &PyObjectRef) -> PyResult<Vec<u8>> {
        let Some((ty, info)) = &self.ret else {
            return Ok(Vec::new());
        };
        if let Some(cd) = super::cdata::cdata(result) {
            if result.class().fast_issubclass(ty) {
                return crate::ffi::memory::read(vm, cd.addr(), info.size);
            }
        }
        match &info.shape {
            Shape::Simple(sc) => {
                let stored = encode_simple(vm, *sc, result)?;
                *self.last.borrow_mut() = stored.keep.clone();
                if let Some(bytes) = stored.bytes {
                    return Ok(bytes);
                }
                let bits = stored.bits.unwrap_or(0).to_le_bytes();
                Ok(bits[..(sc.prim.size as usize).min(8)].to_vec())
            }
            _ => {
                let (addr, keep) = super::args::pointer_value(vm, result)?.ok_or_else(|| {
                    vm.new_type_error(format!(
                        "cannot convert {} to the callback's result type {}",
                        result.class().name(),
                        ty.name()
                    ))
                })?;
                *self.last.borrow_mut() = keep;
                Ok(addr.to_le_bytes()[..info.size.min(8)].to_vec())
            }
        }
    }
}

/// Make `zelf` (a fresh CFuncPtr of a CFUNCTYPE class) a C function
/// pointer that calls `callable`.
pub fn make(vm: &VirtualMachine, zelf: &Py<CFuncPtr>, callable: PyObjectRef) -> PyResult<()> {
    let (argtypes, restype, _flags) = CFuncPtr::callback_types(zelf, vm)?;
    let mut args = Vec::new();
    let mut specs = Vec::new();
    for t in argtypes {
        let ty: PyTypeRef = t
            .downcast()
            .map_err(|_| vm.new_type_error("callback argument types must be ctypes types"))?;
        let info = stginfo(vm, ty.as_object())?;
        specs.push(info.value_spec(vm)?);
        args.push((ty, info));
    }
    let ret = if vm.is_none(&restype) {
        None
    } else {
        let ty: PyTypeRef = restype
            .downcast()
            .map_err(|_| vm.new_type_error("callback result type must be a ctypes type or None"))?;
        let info = stginfo(vm, ty.as_object())?;
        // CPython takes only simple result types (POINTER(c_double) is a
        // TypeError); returning structs by value is our extension.
        if matches!(
            info.shape,
            Shape::Pointer(_) | Shape::Array { .. } | Shape::Func
        ) {
            return Err(vm.new_type_error(format!(
                "invalid result type for callback function: {}",
                ty.name()
            )));
        }
        Some((ty, info))
    };
    let ret_spec: Option<ValueSpec> = match &ret {
        Some((_, info)) => Some(info.value_spec(vm)?),
        None => None,
    };
    let spec = CallSpec::new(vm, specs, ret_spec, None)?;
    let handler = Rc::new(PyHandler {
        callable: callable.clone(),
        args,
        ret,
        spec,
        last: RefCell::new(None),
    });
    let callback = create(vm, &handler.spec, handler.clone())?;
    zelf.install_callback(vm, callback, callable)
}
