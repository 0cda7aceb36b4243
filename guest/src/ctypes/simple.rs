//! `_SimpleCData` and its metaclass `PyCSimpleType`: the fundamental
//! scalar types (`c_int`, `c_char_p`, ...), their byte-swapped twins
//! (`__ctype_be__`/`__ctype_le__`), `.value` and `from_param`.

#[allow(unused_imports)]
use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::builtins::{PyBytes, PyStr, PyTuple, PyType, PyTypeRef};
use rustpython_vm::function::{FuncArgs, OptionalArg, PySetterValue};
use rustpython_vm::protocol::PyNumberMethods;
use rustpython_vm::types::{AsNumber, Constructor, Initializer, Representable};
use rustpython_vm::{pyclass, AsObject, Py, PyObjectRef, PyRef, PyResult, VirtualMachine};

use super::carg::{CArgKind, CArgObject};
use super::cdata::{cdata, instantiate, CData};
use super::info::{
    encode_simple, is_direct_simple, load_simple, set_stginfo, simple_format, stginfo, Shape,
    SimpleCode, StgInfo,
};
use crate::ffi::platform::facts;
use crate::ffi::prim::{self, Kind};

/// Type codes `_type_` may name (`O` is `py_object`).
pub const SIMPLE_CODES: &str = "cbBhHiIlLqQnN?fdgPzZuOv";
/// Codes that get a byte-swapped twin.
const SWAPPABLE: &str = "hHiIlLqQnNfd?";

#[pyclass(name = "PyCSimpleType", base = PyType, module = "_ctypes")]
#[derive(Debug)]
#[repr(transparent)]
pub struct SimpleType(PyType);

impl Initializer for SimpleType {
    type Args = FuncArgs;

    fn init(zelf: PyRef<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let cls: PyTypeRef = zelf
            .as_object()
            .to_owned()
            .downcast()
            .map_err(|_| vm.new_type_error("expected a type"))?;
        let type_attr = cls
            .as_object()
            .get_attr("_type_", vm)
            .map_err(|_| vm.new_attribute_error("class must define a '_type_' attribute"))?;
        let bad = || {
            vm.new_attribute_error(format!(
                "class must define a '_type_' attribute which must be\na single character string containing one of '{SIMPLE_CODES}'."
            ))
        };
        let code = type_attr
            .downcast_ref::<PyStr>()
            .ok_or_else(|| vm.new_type_error("class must define a '_type_' string attribute"))?;
        let mut chars = code.as_wtf8().code_points();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => c.to_char().ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !SIMPLE_CODES.contains(code) {
            return Err(bad());
        }
        let prim = if code == 'O' {
            super::info::pointer_prim()
        } else if code == 'v' {
            // VARIANT_BOOL: a short holding 0 or -1 (VARIANT_TRUE), read as a bool.
            let short = prim::prim('h').ok_or_else(bad)?;
            prim::Prim {
                kind: Kind::Bool,
                ..short
            }
        } else {
            prim::prim(code).ok_or_else(bad)?
        };
        let swapped = cls
            .attributes
            .read()
            .contains_key(vm.ctx.intern_str("_swappedbytes_"));
        let sc = SimpleCode {
            code,
            prim,
            swapped,
        };
        let info = StgInfo::new(
            prim.size as usize,
            prim.align as usize,
            Shape::Simple(sc),
            simple_format(sc),
        );
        set_stginfo(vm, &cls, info);
        if !swapped && SWAPPABLE.contains(code) {
            // The twin with the other byte order.
            let dict = vm.ctx.new_dict();
            dict.set_item("_type_", type_attr.clone(), vm)?;
            dict.set_item("_swappedbytes_", vm.ctx.none(), vm)?;
            if let Some(module) = cls.attributes.read().get(vm.ctx.intern_str("__module__")) {
                dict.set_item("__module__", module.clone(), vm)?;
            }
            let bases: Vec<PyObjectRef> =
                cls.bases.read().iter().map(|b| b.clone().into()).collect();
            let twin = cls.class().as_object().call(
                (
                    vm.ctx.new_str(cls.name().to_string()),
                    vm.ctx.new_tuple(bases),
                    dict,
                ),
                vm,
            )?;
            let (native, other) = if facts().raw.big_endian {
                ("__ctype_be__", "__ctype_le__")
            } else {
                ("__ctype_le__", "__ctype_be__")
            };
            cls.as_object().set_attr(native, cls.clone(), vm)?;
            cls.as_object().set_attr(other, twin.clone(), vm)?;
            twin.set_attr(native, cls.clone(), vm)?;
            twin.set_attr(other, twin.clone(), vm)?;
        }
        Ok(())
    }
}

array_type_by_multiplying!(SimpleType);

#[pyclass(flags(BASETYPE), with(Initializer, AsNumber))]
impl SimpleType {}

#[pyclass(
    name = "_SimpleCData",
    base = CData,
    metaclass = "SimpleType",
    module = "_ctypes",
    traverse = "manual"
)]
#[derive(Debug)]
#[repr(transparent)]
pub struct Simple(pub CData);
super::cdata::traverse_as_cdata!(Simple);

impl Simple {
    fn code(&self) -> PyResult<SimpleCode> {
        Ok(self.0.info.simple().expect("simple types have simple info"))
    }

    pub fn get_value(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        super::shadow::coherent(vm, zelf.as_object(), || Self::get_value_unsynced(zelf, vm))
    }

    pub fn store_value(zelf: &Py<Self>, value: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        super::shadow::coherent(vm, zelf.as_object(), || {
            Self::store_value_unsynced(zelf, value, vm)
        })
    }

    fn get_value_unsynced(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        let sc = zelf.code()?;
        if sc.code == 'O' {
            return match super::cdata::kept_at(zelf.as_object(), 0, vm) {
                Some(obj) => Ok(obj),
                None => Err(vm.new_value_error("PyObject is NULL")),
            };
        }
        load_simple(vm, sc, zelf.0.addr())
    }

    fn store_value_unsynced(
        zelf: &Py<Self>,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let sc = zelf.code()?;
        let addr = zelf.0.addr();
        if sc.code == 'O' {
            let id = value.get_id() as u64;
            crate::bindings::memory::store(addr, sc.prim.scalar, id)
                .map_err(|e| crate::ffi::errors::to_py(vm, e))?;
            super::cdata::keep(zelf.as_object(), 0, value, vm);
            return Ok(());
        }
        let stored = encode_simple(vm, sc, &value)?;
        super::info::store(vm, sc, addr, &stored)?;
        if let Some(kept) = stored.keep {
            super::cdata::keep(zelf.as_object(), 0, kept, vm);
        }
        Ok(())
    }
}

impl Constructor for Simple {
    type Args = FuncArgs;

    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, cls.as_object())?;
        instantiate(vm, cls, CData::alloc(vm, info)?)
    }

    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        Err(vm.new_type_error("use slot_new"))
    }
}

impl Initializer for Simple {
    type Args = OptionalArg<PyObjectRef>;

    fn init(zelf: PyRef<Self>, value: Self::Args, vm: &VirtualMachine) -> PyResult<()> {
        if let OptionalArg::Present(value) = value {
            Simple::store_value(&zelf, value, vm)?;
        }
        Ok(())
    }
}

impl Representable for Simple {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let cls = zelf.class();
        if is_direct_simple(cls, super::cdata::simple_base()) {
            let value = Simple::get_value(zelf, vm)?;
            Ok(format!("{}({})", cls.name(), value.repr(vm)?.as_wtf8()))
        } else {
            Ok(format!("<{} object at {:#x}>", cls.name(), zelf.get_id()))
        }
    }
}

impl AsNumber for Simple {
    fn as_number() -> &'static PyNumberMethods {
        static AS_NUMBER: PyNumberMethods = PyNumberMethods {
            boolean: Some(|number, vm| {
                let zelf = number
                    .obj
                    .downcast_ref::<Simple>()
                    .ok_or_else(|| vm.new_type_error("expected a simple ctypes instance"))?;
                let bytes = zelf.0.read_all(vm)?;
                Ok(bytes.iter().any(|&b| b != 0))
            }),
            ..PyNumberMethods::NOT_IMPLEMENTED
        };
        &AS_NUMBER
    }
}

#[pyclass(
    flags(BASETYPE),
    with(Constructor, Initializer, Representable, AsNumber)
)]
impl Simple {
    #[pygetset]
    fn value(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        Simple::get_value(&zelf, vm)
    }

    #[pygetset(setter)]
    fn set_value(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        match value {
            PySetterValue::Assign(v) => Simple::store_value(&zelf, v, vm),
            PySetterValue::Delete => Err(vm.new_type_error("can't delete attribute")),
        }
    }

    #[pymethod]
    fn __ctypes_from_outparam__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        if is_direct_simple(zelf.class(), super::cdata::simple_base()) {
            Simple::get_value(&zelf, vm)
        } else {
            Ok(zelf.into())
        }
    }

    /// Convert `value` to something a foreign function taking this type
    /// accepts (CPython's `PyCSimpleType_from_param` and the `c_char_p`,
    /// `c_wchar_p` and `c_void_p` variants): an instance of the type as it
    /// is, else a `CArgObject` holding the converted value.
    #[pyclassmethod]
    fn from_param(cls: PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        if value.class().fast_issubclass(&cls) {
            return Ok(value);
        }
        let info = stginfo(vm, cls.as_object())?;
        let sc = info
            .simple()
            .ok_or_else(|| vm.new_type_error("abstract class"))?;
        let converted = match sc.prim.kind {
            Kind::CharP | Kind::WCharP | Kind::Pointer if vm.is_none(&value) => {
                return Ok(value);
            }
            Kind::CharP | Kind::WCharP => {
                // byref() of the right character type only, as CPython checks.
                let char_code = if sc.prim.kind == Kind::CharP {
                    'c'
                } else {
                    'u'
                };
                let byref_chars = value
                    .downcast_ref::<CArgObject>()
                    .filter(|arg| matches!(arg.kind, CArgKind::ByRef { .. }))
                    .and_then(|arg| cdata(&arg.obj).and_then(|c| c.info.simple()))
                    .is_some_and(|inner| inner.code == char_code);
                if cdata(&value).is_some_and(|c| c.info.is_pointerish()) || byref_chars {
                    // arrays of and pointers to characters: passed as they are
                    return Ok(value);
                }
                let is_string = if sc.prim.kind == Kind::CharP {
                    value.downcast_ref::<PyBytes>().is_some()
                } else {
                    value.downcast_ref::<PyStr>().is_some()
                };
                // As CPython: an int is an address only for c_void_p.
                if is_string {
                    Some(encode_simple(vm, sc, &value))
                } else {
                    None
                }
            }
            Kind::Pointer => {
                let is_cdata_pointer = cdata(&value).is_some_and(|c| c.info.is_pointerish());
                if is_cdata_pointer || value.downcast_ref::<CArgObject>().is_some() {
                    return Ok(value);
                }
                let string_code = if value.downcast_ref::<PyBytes>().is_some() {
                    Some('z')
                } else if value.downcast_ref::<PyStr>().is_some() {
                    Some('Z')
                } else {
                    None
                };
                match string_code {
                    // bytes and str are passed as `char *` and `wchar_t *`
                    Some(code) => {
                        let string = SimpleCode {
                            code,
                            prim: prim::prim(code).expect("z and Z are primitive codes"),
                            swapped: false,
                        };
                        let stored = encode_simple(vm, string, &value)?;
                        return Ok(CArgObject::value(vm, string, value, stored).into());
                    }
                    None if value
                        .downcast_ref::<rustpython_vm::builtins::PyInt>()
                        .is_some() =>
                    {
                        Some(encode_simple(vm, sc, &value))
                    }
                    None => None,
                }
            }
            // py_object: any object is its own value.
            _ if sc.code == 'O' => return cls.as_object().call((value,), vm),
            _ => Some(encode_simple(vm, sc, &value)),
        };
        let failure = match converted {
            Some(Ok(stored)) => return Ok(CArgObject::value(vm, sc, value, stored).into()),
            Some(Err(e)) => Some(e),
            None => None,
        };
        if let Ok(param) = value.get_attr("_as_parameter_", vm) {
            // `a._as_parameter_ = a` must raise RecursionError, not overflow the stack
            return vm.with_recursion(" while converting _as_parameter_", || {
                Self::from_param(cls, param, vm)
            });
        }
        Err(failure.unwrap_or_else(|| {
            vm.new_type_error(format!(
                "wrong type: {} cannot be converted to {}",
                value.class().name(),
                cls.name()
            ))
        }))
    }
}

/// `_ctypes._calcsize`: `struct.calcsize` for single native type codes,
/// with the *host's* sizes (the guest's own `struct` is wasm32's).
pub fn calcsize(vm: &VirtualMachine, fmt: &str) -> PyResult<usize> {
    let code = fmt.trim_start_matches('@');
    let mut chars = code.chars();
    match (chars.next(), chars.next()) {
        (Some('O' | 'P'), None) => Ok(super::info::pointer_size()),
        (Some(c), None) if c != 'v' => prim::prim(c)
            .map(|p| p.size as usize)
            .ok_or_else(|| vm.new_value_error(format!("bad char in struct format: {c}"))),
        _ => Err(vm.new_value_error(format!("unsupported format for _calcsize: {fmt:?}"))),
    }
}

/// A tuple `(format, ndim, shape)` for `_layout.py` (`buffer_info`).
pub fn buffer_info(vm: &VirtualMachine, ty: &PyObjectRef) -> PyResult<PyRef<PyTuple>> {
    let target = if ty.downcast_ref::<PyType>().is_some() {
        ty.clone()
    } else {
        ty.class().to_owned().into()
    };
    let info = stginfo(vm, &target)?;
    let shape: Vec<PyObjectRef> = info
        .dims
        .iter()
        .map(|&d| vm.ctx.new_int(d).into())
        .collect();
    let fmt: PyObjectRef = if info.format.is_empty() {
        vm.ctx.none()
    } else {
        vm.ctx.new_str(info.format.clone()).into()
    };
    Ok(vm.ctx.new_tuple(vec![
        fmt,
        vm.ctx.new_int(info.dims.len()).into(),
        vm.ctx.new_tuple(shape).into(),
    ]))
}
