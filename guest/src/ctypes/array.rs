//! `Array` and its metaclass `PyCArrayType`: `T * n`, indexing and
//! slicing element by element in host memory, `.value`/`.raw` of char
//! arrays.

use std::cell::RefCell;
use std::collections::HashMap;

use rustpython_vm::builtins::{PyBytes, PyInt, PySlice, PyStr, PyType, PyTypeRef};
use rustpython_vm::class::StaticType;
use rustpython_vm::function::{FuncArgs, PySetterValue};
use rustpython_vm::protocol::{PyMappingMethods, PySequenceMethods};
use rustpython_vm::types::{AsMapping, AsNumber, AsSequence, Constructor, Initializer};
use rustpython_vm::{
    pyclass, AsObject, Py, PyObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
};

use super::cdata::{get_at, instantiate, set_at, wide_value, write_chars, CData};
use super::info::{set_stginfo, stginfo, Shape, StgInfo};
use crate::ffi::memory as mem;
use crate::ffi::prim::{encode_wide, Kind};

thread_local! {
    static ARRAY_TYPES: RefCell<HashMap<(usize, usize), PyTypeRef>> = RefCell::new(HashMap::new());
}

/// `T * n` for any ctypes type `T` (the metaclasses' `__mul__`).
pub fn type_times(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    let Some(elem) = a.downcast_ref::<PyType>() else {
        return Ok(vm.ctx.not_implemented());
    };
    let Some(n) = b.downcast_ref::<PyInt>() else {
        return Ok(vm.ctx.not_implemented());
    };
    let n: isize = n.try_to_primitive(vm)?;
    if n < 0 {
        return Err(vm.new_value_error(format!("Array length must be >= 0, not {n}")));
    }
    Ok(array_type(vm, elem.to_owned(), n as usize)?.into())
}

pub fn array_type(vm: &VirtualMachine, elem: PyTypeRef, n: usize) -> PyResult<PyTypeRef> {
    let key = (elem.get_id(), n);
    if let Some(t) = ARRAY_TYPES.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(t);
    }
    let dict = vm.ctx.new_dict();
    dict.set_item("_length_", vm.ctx.new_int(n).into(), vm)?;
    dict.set_item("_type_", elem.clone().into(), vm)?;
    let name = format!("{}_Array_{}", elem.name(), n);
    let base: PyObjectRef = Array::static_type().to_owned().into();
    let made = ArrayType::static_type().as_object().call(
        (vm.ctx.new_str(name), vm.ctx.new_tuple(vec![base]), dict),
        vm,
    )?;
    let made: PyTypeRef = made
        .downcast()
        .map_err(|_| vm.new_type_error("array type creation failed"))?;
    ARRAY_TYPES.with(|c| c.borrow_mut().insert(key, made.clone()));
    Ok(made)
}

#[pyclass(name = "PyCArrayType", base = PyType, module = "_ctypes")]
#[derive(Debug)]
#[repr(transparent)]
pub struct ArrayType(PyType);

impl Initializer for ArrayType {
    type Args = FuncArgs;

    fn init(zelf: PyRef<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let cls: PyTypeRef = zelf
            .as_object()
            .to_owned()
            .downcast()
            .map_err(|_| vm.new_type_error("expected a type"))?;
        let length = cls
            .as_object()
            .get_attr("_length_", vm)
            .map_err(|_| vm.new_attribute_error("class must define a '_length_' attribute"))?;
        let length = length
            .downcast_ref::<PyInt>()
            .ok_or_else(|| vm.new_type_error("The '_length_' attribute must be an integer"))?;
        if length.as_bigint().sign() == malachite_bigint::Sign::Minus {
            return Err(vm.new_value_error("The '_length_' attribute must not be negative"));
        }
        let length: isize = length
            .try_to_primitive(vm)
            .map_err(|_| vm.new_overflow_error("The '_length_' attribute is too large"))?;
        if length < 0 {
            return Err(vm.new_value_error("The '_length_' attribute must not be negative"));
        }
        let length = length as usize;
        let elem = cls
            .as_object()
            .get_attr("_type_", vm)
            .map_err(|_| vm.new_attribute_error("class must define a '_type_' attribute"))?;
        let elem: PyTypeRef = elem
            .downcast()
            .map_err(|_| vm.new_type_error("_type_ must have storage info"))?;
        let elem_info = stginfo(vm, elem.as_object())
            .map_err(|_| vm.new_type_error("_type_ must have storage info"))?;
        let size = elem_info
            .size
            .checked_mul(length)
            .filter(|&s| s <= isize::MAX as usize)
            .ok_or_else(|| vm.new_overflow_error("array too large"))?;
        let mut dims = vec![length];
        dims.extend(elem_info.dims.iter().copied());
        let format = if elem_info.format.is_empty() {
            "B".to_owned()
        } else {
            elem_info.format.clone()
        };
        let mut info = StgInfo::new(
            size,
            elem_info.align,
            Shape::Array {
                elem,
                elem_info: elem_info.clone(),
                length,
            },
            format,
        );
        info.dims = dims;
        set_stginfo(vm, &cls, info);
        Ok(())
    }
}

array_type_by_multiplying!(ArrayType);

#[pyclass(flags(BASETYPE), with(Initializer, AsNumber))]
impl ArrayType {}

#[pyclass(
    name = "Array",
    base = CData,
    metaclass = "ArrayType",
    module = "_ctypes",
    traverse = "manual"
)]
#[derive(Debug)]
#[repr(transparent)]
pub struct Array(pub CData);
super::cdata::traverse_as_cdata!(Array);

impl Array {
    fn parts(&self) -> (PyTypeRef, PyRef<StgInfo>, usize) {
        match &self.0.info.shape {
            Shape::Array {
                elem,
                elem_info,
                length,
            } => (elem.clone(), elem_info.clone(), *length),
            _ => unreachable!("array instances have array info"),
        }
    }

    pub fn length(&self) -> usize {
        self.parts().2
    }

    fn char_kind(&self) -> Option<Kind> {
        let (elem, info, _) = self.parts();
        if !super::info::is_direct_simple(&elem, super::cdata::simple_base()) {
            return None;
        }
        info.simple()
            .map(|s| s.prim.kind)
            .filter(|k| matches!(k, Kind::Char | Kind::WChar))
    }

    fn item(zelf: &Py<Self>, index: isize, vm: &VirtualMachine) -> PyResult {
        super::shadow::coherent(vm, zelf.as_object(), || {
            Self::item_unsynced(zelf, index, vm)
        })
    }

    fn set_item(
        zelf: &Py<Self>,
        index: isize,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        super::shadow::coherent(vm, zelf.as_object(), || {
            Self::set_item_unsynced(zelf, index, value, vm)
        })
    }

    fn item_unsynced(zelf: &Py<Self>, index: isize, vm: &VirtualMachine) -> PyResult {
        let (elem, info, length) = zelf.parts();
        let i = if index < 0 {
            index + length as isize
        } else {
            index
        };
        if i < 0 || i as usize >= length {
            return Err(vm.new_index_error("invalid index"));
        }
        let addr = zelf.0.addr() + (i as usize * info.size) as u64;
        get_at(vm, &elem, &info, addr, zelf.as_object(), i)
    }

    fn set_item_unsynced(
        zelf: &Py<Self>,
        index: isize,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let (elem, info, length) = zelf.parts();
        let i = if index < 0 {
            index + length as isize
        } else {
            index
        };
        if i < 0 || i as usize >= length {
            return Err(vm.new_index_error("invalid index"));
        }
        let addr = zelf.0.addr() + (i as usize * info.size) as u64;
        set_at(vm, &elem, &info, addr, value, zelf.as_object(), i)
    }

    fn subscript(zelf: &Py<Self>, needle: &PyObject, vm: &VirtualMachine) -> PyResult {
        if let Some(slice) = needle.downcast_ref::<PySlice>() {
            let length = zelf.length();
            let indices = slice_indices(vm, slice, length)?;
            let items: Vec<PyObjectRef> = indices
                .into_iter()
                .map(|i| Array::item(zelf, i as isize, vm))
                .collect::<PyResult<_>>()?;
            return Ok(match zelf.char_kind() {
                Some(Kind::Char) => {
                    let bytes: Vec<u8> = items
                        .iter()
                        .filter_map(|b| b.downcast_ref::<PyBytes>())
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
        let index: isize = needle.to_owned().try_index(vm)?.try_to_primitive(vm)?;
        Array::item(zelf, index, vm)
    }

    fn ass_subscript(
        zelf: &Py<Self>,
        needle: &PyObject,
        value: Option<PyObjectRef>,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let value =
            value.ok_or_else(|| vm.new_type_error("Array does not support item deletion"))?;
        if let Some(slice) = needle.downcast_ref::<PySlice>() {
            let indices = slice_indices(vm, slice, zelf.length())?;
            let values: Vec<PyObjectRef> = if let Some(b) = value.downcast_ref::<PyBytes>() {
                b.as_bytes()
                    .iter()
                    .map(|&c| vm.ctx.new_bytes(vec![c]).into())
                    .collect()
            } else if let Some(s) = value.downcast_ref::<PyStr>() {
                s.as_wtf8()
                    .code_points()
                    .map(|c| vm.ctx.new_str(c.to_string()).into())
                    .collect()
            } else {
                value.try_to_value::<Vec<PyObjectRef>>(vm)?
            };
            if values.len() != indices.len() {
                return Err(vm.new_value_error("Can only assign sequence of same size"));
            }
            for (i, v) in indices.into_iter().zip(values) {
                Array::set_item(zelf, i as isize, v, vm)?;
            }
            return Ok(());
        }
        let index: isize = needle.to_owned().try_index(vm)?.try_to_primitive(vm)?;
        Array::set_item(zelf, index, value, vm)
    }
}

fn slice_indices(vm: &VirtualMachine, slice: &PySlice, length: usize) -> PyResult<Vec<usize>> {
    Ok(slice.to_saturated(vm)?.iter(length).collect())
}

impl Constructor for Array {
    type Args = FuncArgs;

    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, cls.as_object())?;
        instantiate(vm, cls, CData::alloc(vm, info)?)
    }

    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        Err(vm.new_type_error("use slot_new"))
    }
}

impl Initializer for Array {
    type Args = FuncArgs;

    fn init(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        for (i, v) in args.args.into_iter().enumerate() {
            Array::set_item(&zelf, i as isize, v, vm)?;
        }
        Ok(())
    }
}

impl AsSequence for Array {
    fn as_sequence() -> &'static PySequenceMethods {
        static AS_SEQUENCE: PySequenceMethods = PySequenceMethods {
            length: Some(|seq, _vm| Ok(Array::sequence_downcast(seq).length())),
            item: Some(|seq, i, vm| Array::item(Array::sequence_downcast(seq), i, vm)),
            ass_item: Some(|seq, i, value, vm| match value {
                Some(v) => Array::set_item(Array::sequence_downcast(seq), i, v, vm),
                None => Err(vm.new_type_error("Array does not support item deletion")),
            }),
            ..PySequenceMethods::NOT_IMPLEMENTED
        };
        &AS_SEQUENCE
    }
}

impl AsMapping for Array {
    fn as_mapping() -> &'static PyMappingMethods {
        static AS_MAPPING: PyMappingMethods = PyMappingMethods {
            length: Some(|m, _vm| Ok(Array::mapping_downcast(m).length())),
            subscript: Some(|m, needle, vm| {
                Array::subscript(Array::mapping_downcast(m), needle, vm)
            }),
            ass_subscript: Some(|m, needle, value, vm| {
                Array::ass_subscript(Array::mapping_downcast(m), needle, value, vm)
            }),
        };
        &AS_MAPPING
    }
}

#[pyclass(flags(BASETYPE), with(Constructor, Initializer, AsSequence, AsMapping))]
impl Array {
    /// `.value` of char arrays: bytes up to the first NUL; of wchar arrays: str.
    #[pygetset]
    fn value(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        super::shadow::coherent(vm, zelf.as_object(), || Self::value_unsynced(&zelf, vm))
    }

    #[pygetset(setter)]
    fn set_value(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let PySetterValue::Assign(value) = value else {
            return Err(vm.new_type_error("can't delete attribute"));
        };
        super::shadow::coherent(vm, zelf.as_object(), || {
            Self::set_value_unsynced(&zelf, value, vm)
        })
    }

    fn value_unsynced(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        match zelf.char_kind() {
            Some(Kind::Char) => {
                let mut bytes = mem::read(vm, zelf.0.addr(), zelf.0.size())?;
                if let Some(nul) = bytes.iter().position(|&b| b == 0) {
                    bytes.truncate(nul);
                }
                Ok(vm.ctx.new_bytes(bytes).into())
            }
            Some(Kind::WChar) => {
                let unit = zelf.parts().1.size as u32;
                Ok(vm
                    .ctx
                    .new_str(wide_value(vm, zelf.0.addr(), zelf.0.size(), unit)?)
                    .into())
            }
            _ => Err(vm.new_attribute_error(format!(
                "'{}' object has no attribute 'value'",
                zelf.class().name()
            ))),
        }
    }

    fn set_value_unsynced(
        zelf: &Py<Self>,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        match zelf.char_kind() {
            Some(Kind::Char) => {
                let b = value.downcast_ref::<PyBytes>().ok_or_else(|| {
                    vm.new_type_error(format!(
                        "bytes expected instead of {} instance",
                        value.class().name()
                    ))
                })?;
                write_chars(vm, zelf.0.addr(), zelf.0.size(), b.as_bytes(), 1)
            }
            Some(Kind::WChar) => {
                let s = value.downcast_ref::<PyStr>().ok_or_else(|| {
                    vm.new_type_error(format!(
                        "unicode string expected instead of {} instance",
                        value.class().name()
                    ))
                })?;
                let data = encode_wide(vm, s)?;
                if data.len() > zelf.0.size() {
                    return Err(vm.new_value_error("string too long"));
                }
                let unit = zelf.parts().1.size;
                write_chars(vm, zelf.0.addr(), zelf.0.size(), &data, unit)
            }
            _ => Err(vm.new_attribute_error("this array has no 'value' attribute")),
        }
    }

    /// `.raw` of char arrays: all the bytes.
    #[pygetset]
    fn raw(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        match zelf.char_kind() {
            Some(Kind::Char) => Ok(vm.ctx.new_bytes(zelf.0.read_all(vm)?).into()),
            _ => Err(vm.new_attribute_error("this array has no 'raw' attribute")),
        }
    }

    #[pygetset(setter)]
    fn set_raw(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let PySetterValue::Assign(value) = value else {
            return Err(vm.new_attribute_error("cannot delete attribute"));
        };
        if zelf.char_kind() != Some(Kind::Char) {
            return Err(vm.new_attribute_error("this array has no 'raw' attribute"));
        }
        let data = rustpython_vm::function::ArgBytesLike::try_from_object(vm, value)?;
        let bytes = data.borrow_buf().to_vec();
        if bytes.len() > zelf.0.size() {
            return Err(vm.new_value_error("byte string too long"));
        }
        super::shadow::coherent(vm, zelf.as_object(), || {
            mem::write(vm, zelf.0.addr(), &bytes)
        })
    }

    #[pyclassmethod]
    fn from_param(cls: PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        if value.class().fast_issubclass(&cls) {
            return Ok(value);
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

use rustpython_vm::TryFromObject;
