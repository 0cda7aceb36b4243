//! Type descriptions and argument/result conversion for `_rawffi`.

use rustpython_vm::builtins::{PyBytes, PyStr};
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};

use super::_rawffi::StructLayoutObj;
use crate::ffi::call::{check_usable, ArgBuffer, CallSpec, Returned, ValueSpec};
use crate::ffi::errors::utf8;
use crate::ffi::memory;
use crate::ffi::prim::{address_of, decode_bits, decode_bytes, encode, prim_from_str, Kind};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SpecSource {
    Argument,
    Result,
    Field,
}

/// A type as `_rawffi` accepts it: a type code, a `StructLayout`, or a
/// shape (anything with a `_layout` attribute, such as `_rawffi.Structure`).
/// Returns the shape too, to convert struct values by value.
pub fn parse_spec(
    vm: &VirtualMachine,
    tp: &PyObjectRef,
    source: SpecSource,
) -> PyResult<(ValueSpec, Option<PyObjectRef>)> {
    if let Some(code) = tp.downcast_ref::<PyStr>() {
        let prim = prim_from_str(vm, utf8(vm, code)?)?;
        check_usable(vm, prim, source == SpecSource::Result)?;
        return Ok((ValueSpec::Prim(prim), None));
    }
    if let Some(layout) = tp.downcast_ref::<StructLayoutObj>() {
        return Ok((ValueSpec::Aggregate(layout.aggregate.clone()), None));
    }
    if let Ok(layout) = tp.get_attr("_layout", vm) {
        if let Some(layout) = layout.downcast_ref::<StructLayoutObj>() {
            return Ok((
                ValueSpec::Aggregate(layout.aggregate.clone()),
                Some(tp.clone()),
            ));
        }
    }
    Err(vm.new_type_error(format!(
        "expected a type code, a StructLayout or a shape, not {}",
        tp.class().name()
    )))
}

/// Prefix an argument's conversion error with its position, as ctypes does.
fn at_argument(
    vm: &VirtualMachine,
    index: usize,
    err: rustpython_vm::builtins::PyBaseExceptionRef,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    if !err.fast_isinstance(vm.ctx.exceptions.type_error) {
        return err;
    }
    let message = err
        .as_object()
        .str(vm)
        .map(|s| s.as_wtf8().to_string())
        .unwrap_or_default();
    vm.new_type_error(format!("argument {}: {message}", index + 1))
}

pub fn pack_call(
    vm: &VirtualMachine,
    spec: &CallSpec,
    shapes: &[Option<PyObjectRef>],
    args: &[PyObjectRef],
) -> PyResult<ArgBuffer> {
    if args.len() != spec.args.len() {
        return Err(vm.new_type_error(format!(
            "this function takes {} argument{} ({} given)",
            spec.args.len(),
            if spec.args.len() == 1 { "" } else { "s" },
            args.len()
        )));
    }
    let mut buffer = spec.buffer();
    for (index, (arg, ty)) in args.iter().zip(&spec.args).enumerate() {
        let offset = spec.offsets[index];
        match ty {
            ValueSpec::Prim(prim) => {
                let value = encode(vm, *prim, arg).map_err(|e| at_argument(vm, index, e))?;
                buffer.put(offset, *prim, value);
            }
            ValueSpec::Aggregate(aggregate) => {
                let size = aggregate.layout.size as usize;
                let bytes = if let Some(b) = arg.downcast_ref::<PyBytes>() {
                    b.as_bytes().to_vec()
                } else {
                    let shape = shapes[index].as_ref();
                    // By value means an instance (or its bytes), never a bare address.
                    let address = match arg.get_attr("buffer", vm) {
                        Ok(buffer) if !arg.class().fast_issubclass(vm.ctx.types.int_type) => {
                            address_of(vm, &buffer)?.filter(|&a| a != 0)
                        }
                        Ok(_) => None,
                        // A freed instance says so; only "no such attribute" means "not an instance".
                        Err(e) if e.fast_isinstance(vm.ctx.exceptions.attribute_error) => None,
                        Err(e) => return Err(e),
                    }
                    .ok_or_else(|| {
                        vm.new_type_error(format!(
                            "argument {}: expected a {} instance, not {}",
                            index + 1,
                            shape.map_or("struct".to_owned(), |s| s.class().name().to_string()),
                            arg.class().name()
                        ))
                    })?;
                    memory::read(vm, address, size)?
                };
                if bytes.len() != size {
                    return Err(vm.new_type_error(format!(
                        "argument {}: a {size}-byte struct, not {} bytes",
                        index + 1,
                        bytes.len()
                    )));
                }
                buffer.put_bytes(offset, &bytes);
            }
        }
    }
    Ok(buffer)
}

pub fn unpack_result(
    vm: &VirtualMachine,
    spec: &CallSpec,
    shape: Option<&PyObjectRef>,
    returned: Returned,
) -> PyResult {
    match &spec.ret {
        None => Ok(vm.ctx.none()),
        Some(ValueSpec::Prim(prim)) if prim.kind == Kind::LongDouble => {
            decode_bytes(vm, *prim, returned.bytes.as_deref().unwrap_or_default())
        }
        Some(ValueSpec::Prim(prim)) => decode_bits(vm, *prim, returned.value),
        Some(ValueSpec::Aggregate(_)) => {
            let bytes = vm.ctx.new_bytes(returned.bytes.unwrap_or_default());
            match shape {
                Some(shape) => vm.call_method(shape, "_from_bytes", (bytes,)),
                None => Ok(bytes.into()),
            }
        }
    }
}
