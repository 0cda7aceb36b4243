//! `_Pointer` and its metaclass `PyCPointerType`: a pointer instance owns
//! pointer-sized host memory holding the address it points at (so
//! `byref(p)` is a `T **`); `.contents`, indexing and slicing read through it.

use rustpython_vm::builtins::{PySlice, PyType, PyTypeRef};
use rustpython_vm::function::{FuncArgs, OptionalArg, PySetterValue};
use rustpython_vm::protocol::{PyMappingMethods, PyNumberMethods};
use rustpython_vm::types::{AsMapping, AsNumber, Constructor, Initializer};
use rustpython_vm::{
    pyclass, AsObject, Py, PyObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
};

use super::cdata::{cdata, get_at, instantiate, set_at, CData};
use super::info::{
    pointer_prim, pointer_size, set_stginfo, stginfo, stginfo_of_type, Shape, StgInfo,
};
use crate::bindings::memory;
use crate::ffi::errors::OrRaise;
use crate::ffi::prim::Kind;

const OWN_POINTER_TYPE: &str = "_ctypes_pointer_type_";

/// `T.__pointer_type__`: the cached `POINTER(T)`, per class (not inherited).
pub fn pointer_type_get(zelf: &PyType, vm: &VirtualMachine) -> PyResult {
    zelf.attributes
        .read()
        .get(vm.ctx.intern_str(OWN_POINTER_TYPE))
        .cloned()
        .ok_or_else(|| vm.new_attribute_error(format!("{} has no __pointer_type__", zelf.name())))
}

pub fn pointer_type_set(zelf: &PyType, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
    let key = vm.ctx.intern_str(OWN_POINTER_TYPE);
    match value {
        PySetterValue::Assign(v) => {
            zelf.set_attr(key, v);
        }
        PySetterValue::Delete => {
            zelf.modified();
            zelf.attributes.write().shift_remove(key);
        }
    }
    Ok(())
}

fn pointer_info(vm: &VirtualMachine, target: Option<PyTypeRef>) -> PyResult<StgInfo> {
    let format = match &target {
        Some(t) => {
            let info = stginfo(vm, t.as_object())?;
            let item = if info.format.is_empty() {
                "B"
            } else {
                &info.format
            };
            // a pointer to an array names its shape: "&(2,3)<h"
            let shape = if info.dims.is_empty() {
                String::new()
            } else {
                let dims: Vec<String> = info.dims.iter().map(usize::to_string).collect();
                format!("({})", dims.join(","))
            };
            format!("&{shape}{item}")
        }
        None => "&B".to_owned(),
    };
    let size = pointer_size();
    Ok(StgInfo::new(
        size,
        pointer_prim().align as usize,
        Shape::Pointer(std::cell::RefCell::new(target)),
        format,
    ))
}

#[pyclass(name = "PyCPointerType", base = PyType, module = "_ctypes")]
#[derive(Debug)]
#[repr(transparent)]
pub struct PointerType(PyType);

impl Initializer for PointerType {
    type Args = FuncArgs;

    fn init(zelf: PyRef<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let cls: PyTypeRef = zelf
            .as_object()
            .to_owned()
            .downcast()
            .map_err(|_| vm.new_type_error("expected a type"))?;
        let own = cls
            .attributes
            .read()
            .get(vm.ctx.intern_str("_type_"))
            .cloned();
        let target = match own {
            Some(t) => {
                let t: PyTypeRef = t
                    .downcast()
                    .map_err(|_| vm.new_type_error("_type_ must be a type"))?;
                if stginfo(vm, t.as_object()).is_err() {
                    return Err(vm.new_type_error("_type_ must have storage info"));
                }
                Some(t)
            }
            None => None,
        };
        let info = pointer_info(vm, target.clone())?;
        set_stginfo(vm, &cls, info);
        if let Some(t) = target {
            pointer_type_set(&t, PySetterValue::Assign(cls.clone().into()), vm)?;
        }
        Ok(())
    }
}

array_type_by_multiplying!(PointerType);

#[pyclass(flags(BASETYPE), with(Initializer, AsNumber))]
impl PointerType {
    /// Complete an incomplete pointer type (`SetPointerType`).
    #[pymethod]
    fn set_type(zelf: PyRef<Self>, target: PyTypeRef, vm: &VirtualMachine) -> PyResult<()> {
        let cls: PyTypeRef = zelf
            .as_object()
            .to_owned()
            .downcast()
            .map_err(|_| vm.new_type_error("expected a type"))?;
        stginfo(vm, target.as_object())?;
        // Complete the layout in place: fields and arrays declared with the
        // incomplete type hold this very StgInfo.
        match stginfo_of_type(vm, cls.as_object())
            .as_deref()
            .map(|i| &i.shape)
        {
            Some(Shape::Pointer(slot)) => *slot.borrow_mut() = Some(target.clone()),
            _ => {
                set_stginfo(vm, &cls, pointer_info(vm, Some(target.clone()))?);
            }
        }
        cls.as_object().set_attr("_type_", target.clone(), vm)?;
        pointer_type_set(&target, PySetterValue::Assign(cls.into()), vm)
    }
}

#[pyclass(
    name = "_Pointer",
    base = CData,
    metaclass = "PointerType",
    module = "_ctypes",
    traverse = "manual"
)]
#[derive(Debug)]
#[repr(transparent)]
pub struct Pointer(pub CData);
super::cdata::traverse_as_cdata!(Pointer);

impl Pointer {
    fn target(&self, vm: &VirtualMachine) -> PyResult<(PyTypeRef, PyRef<StgInfo>)> {
        let target = match &self.0.info.shape {
            Shape::Pointer(t) => t.borrow().clone(),
            _ => None,
        };
        let target =
            target.ok_or_else(|| vm.new_type_error("Cannot create instance: has no _type_"))?;
        let info = stginfo(vm, target.as_object())?;
        Ok((target, info))
    }

    pub fn value(&self, vm: &VirtualMachine) -> PyResult<u64> {
        memory::load(self.0.addr(), pointer_prim().scalar).or_raise(vm)
    }

    fn store_contents(zelf: &Py<Self>, value: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let (target, _) = zelf.target(vm)?;
        let src = cdata(&value)
            .filter(|_| value.class().fast_issubclass(&target))
            .ok_or_else(|| {
                vm.new_type_error(format!(
                    "expected {} instead of {}",
                    target.name(),
                    value.class().name()
                ))
            })?;
        memory::store(zelf.0.addr(), pointer_prim().scalar, src.addr()).or_raise(vm)?;
        // As CPython: the target under "1", what the target keeps under "0".
        let kept = super::cdata::kept_objects(&value, vm);
        super::cdata::keep(zelf.as_object(), 1, value, vm);
        if let Some(kept) = kept {
            super::cdata::keep(zelf.as_object(), 0, kept, vm);
        }
        Ok(())
    }

    fn item(zelf: &Py<Self>, index: isize, vm: &VirtualMachine) -> PyResult {
        let (target, info) = zelf.target(vm)?;
        let ptr = zelf.value(vm)?;
        if ptr == 0 {
            return Err(vm.new_value_error("NULL pointer access"));
        }
        let addr = ptr.wrapping_add((index as i64 * info.size as i64) as u64);
        get_at(vm, &target, &info, addr, zelf.as_object(), index)
    }

    fn subscript(zelf: &Py<Self>, needle: &PyObject, vm: &VirtualMachine) -> PyResult {
        if let Some(slice) = needle.downcast_ref::<PySlice>() {
            let start = opt_isize(vm, &slice.start)?.unwrap_or(0);
            let stop = opt_isize(vm, &Some(slice.stop.clone()))?
                .ok_or_else(|| vm.new_value_error("slice stop is required"))?;
            let step = opt_isize(vm, &slice.step)?.unwrap_or(1);
            if step == 0 {
                return Err(vm.new_value_error("slice step cannot be zero"));
            }
            let no_start = slice.start.as_ref().is_none_or(|s| vm.is_none(s));
            if step < 0 && no_start {
                return Err(vm.new_value_error("slice start is required for step < 0"));
            }
            let mut indices = Vec::new();
            let mut i = start;
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                indices.push(i);
                i += step;
            }
            let (_, info) = zelf.target(vm)?;
            let items: Vec<PyObjectRef> = indices
                .into_iter()
                .map(|i| Pointer::item(zelf, i, vm))
                .collect::<PyResult<_>>()?;
            return Ok(match info.simple().map(|s| s.prim.kind) {
                Some(Kind::Char) => {
                    let bytes: Vec<u8> = items
                        .iter()
                        .filter_map(|b| b.downcast_ref::<rustpython_vm::builtins::PyBytes>())
                        .flat_map(|b| b.as_bytes().to_vec())
                        .collect();
                    vm.ctx.new_bytes(bytes).into()
                }
                Some(Kind::WChar) => {
                    let mut s = String::new();
                    for item in &items {
                        s.push_str(&item.str(vm)?.to_string());
                    }
                    vm.ctx.new_str(s).into()
                }
                _ => vm.ctx.new_list(items).into(),
            });
        }
        let index = needle.to_owned().try_index(vm)?;
        let index: isize = index.try_to_primitive(vm)?;
        Pointer::item(zelf, index, vm)
    }

    fn ass_subscript(
        zelf: &Py<Self>,
        needle: &PyObject,
        value: Option<PyObjectRef>,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let value =
            value.ok_or_else(|| vm.new_type_error("Pointer does not support item deletion"))?;
        let index: isize = needle.to_owned().try_index(vm)?.try_to_primitive(vm)?;
        let (target, info) = zelf.target(vm)?;
        let ptr = zelf.value(vm)?;
        if ptr == 0 {
            return Err(vm.new_value_error("NULL pointer access"));
        }
        let addr = ptr.wrapping_add((index as i64 * info.size as i64) as u64);
        set_at(vm, &target, &info, addr, value, zelf.as_object(), index)
    }
}

fn opt_isize(vm: &VirtualMachine, v: &Option<PyObjectRef>) -> PyResult<Option<isize>> {
    match v {
        Some(o) if !vm.is_none(o) => Ok(Some(o.to_owned().try_index(vm)?.try_to_primitive(vm)?)),
        _ => Ok(None),
    }
}

impl Constructor for Pointer {
    type Args = FuncArgs;

    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, cls.as_object())?;
        if let Shape::Pointer(t) = &info.shape {
            if t.borrow().is_none() {
                return Err(vm.new_type_error("Cannot create instance: has no _type_"));
            }
        }
        instantiate(vm, cls, CData::alloc(vm, info)?)
    }

    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        Err(vm.new_type_error("use slot_new"))
    }
}

impl Initializer for Pointer {
    type Args = OptionalArg<PyObjectRef>;

    fn init(zelf: PyRef<Self>, value: Self::Args, vm: &VirtualMachine) -> PyResult<()> {
        if let OptionalArg::Present(value) = value {
            Pointer::store_contents(&zelf, value, vm)?;
        }
        Ok(())
    }
}

impl AsNumber for Pointer {
    fn as_number() -> &'static PyNumberMethods {
        static AS_NUMBER: PyNumberMethods = PyNumberMethods {
            boolean: Some(|number, vm| {
                let zelf = number
                    .obj
                    .downcast_ref::<Pointer>()
                    .ok_or_else(|| vm.new_type_error("expected a pointer"))?;
                Ok(zelf.value(vm)? != 0)
            }),
            ..PyNumberMethods::NOT_IMPLEMENTED
        };
        &AS_NUMBER
    }
}

impl AsMapping for Pointer {
    fn as_mapping() -> &'static PyMappingMethods {
        static AS_MAPPING: PyMappingMethods = PyMappingMethods {
            length: None,
            subscript: Some(|mapping, needle, vm| {
                Pointer::subscript(Pointer::mapping_downcast(mapping), needle, vm)
            }),
            ass_subscript: Some(|mapping, needle, value, vm| {
                Pointer::ass_subscript(Pointer::mapping_downcast(mapping), needle, value, vm)
            }),
        };
        &AS_MAPPING
    }
}

#[pyclass(flags(BASETYPE), with(Constructor, Initializer, AsNumber, AsMapping))]
impl Pointer {
    #[pygetset]
    fn contents(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        let (target, info) = zelf.target(vm)?;
        let ptr = zelf.value(vm)?;
        if ptr == 0 {
            return Err(vm.new_value_error("NULL pointer access"));
        }
        instantiate(vm, target, CData::view(info, ptr, Some(zelf.into())))
    }

    #[pygetset(setter)]
    fn set_contents(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        match value {
            PySetterValue::Assign(v) => Pointer::store_contents(&zelf, v, vm),
            PySetterValue::Delete => {
                Err(vm.new_type_error("Pointer does not support item deletion"))
            }
        }
    }

    #[pyclassmethod]
    fn from_param(cls: PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        if vm.is_none(&value) || value.class().fast_issubclass(&cls) {
            return Ok(value);
        }
        let info = stginfo(vm, cls.as_object())?;
        let target = match &info.shape {
            Shape::Pointer(t) => t.borrow().clone(),
            _ => None,
        };
        if let Some(target) = target {
            if value.class().fast_issubclass(&target) {
                return Ok(super::carg::byref_obj(vm, value, 0)?.into());
            }
            if let Some(cd) = cdata(&value) {
                if let Shape::Array { elem, .. } = &cd.info.shape {
                    if elem.fast_issubclass(&target) {
                        return Ok(value);
                    }
                }
            }
            if let Some(arg) = value.downcast_ref::<super::carg::CArgObject>() {
                if arg.obj.class().fast_issubclass(&target) {
                    return Ok(value);
                }
            }
        }
        if let Ok(param) = value.get_attr("_as_parameter_", vm) {
            return Self::from_param(cls, param, vm);
        }
        Err(vm.new_type_error(format!(
            "expected {} instance instead of {}",
            cls.name(),
            value.class().name()
        )))
    }
}
