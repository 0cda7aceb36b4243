//! `Structure`/`Union`, their metaclasses, and `CField` descriptors.
//! Layout (packing, `_align_`, bit fields in GCC or MSVC mode, the PEP 3118
//! format) is computed by CPython 3.14's own `ctypes/_layout.py`, called
//! from here exactly as CPython's C core calls it; sizes and alignments come
//! from the host's facts through `sizeof`/`alignment`.

use std::cell::OnceCell;

use rustpython_vm::builtins::{PyStr, PyStrRef, PyType, PyTypeRef};
use rustpython_vm::function::{FuncArgs, PySetterValue};
use rustpython_vm::types::{
    AsNumber, Constructor, GetDescriptor, Initializer, Representable, SetAttr,
};
use rustpython_vm::{
    pyclass, AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
};

use super::cdata::{cdata, get_at, instantiate, set_at, CData};
use super::info::{set_stginfo, stginfo, stginfo_of_type, Shape, StgInfo, StructInfo, STGINFO};
use crate::bindings::memory;
use crate::ffi::errors::OrRaise;
use crate::ffi::prim::Kind;

/// A field of a Structure or Union: a descriptor reading and writing host
/// memory at its offset (bit fields read-modify-write their storage unit).
#[pyclass(name = "CField", module = "_ctypes")]
#[derive(Debug, PyPayload)]
pub struct CField {
    pub name: PyStrRef,
    pub ty: PyTypeRef,
    pub info: PyRef<StgInfo>,
    pub offset: usize,
    pub byte_size: usize,
    pub bit_size: Option<u32>,
    pub bit_offset: u32,
    pub index: usize,
    pub anonymous: bool,
}

#[derive(rustpython_vm::FromArgs)]
pub struct CFieldArgs {
    #[pyarg(named)]
    name: PyStrRef,
    #[pyarg(named, name = "type")]
    ty: PyTypeRef,
    #[pyarg(named)]
    byte_size: usize,
    #[pyarg(named)]
    byte_offset: usize,
    #[pyarg(named, optional)]
    bit_size: Option<Option<u32>>,
    #[pyarg(named, optional)]
    bit_offset: Option<Option<u32>>,
    #[pyarg(named, default = 0)]
    index: usize,
    #[pyarg(named, name = "_internal_use", default = false)]
    internal_use: bool,
}

impl Constructor for CField {
    type Args = CFieldArgs;

    fn py_new(_cls: &Py<PyType>, args: CFieldArgs, vm: &VirtualMachine) -> PyResult<Self> {
        if !args.internal_use {
            return Err(vm.new_type_error("CField is not intended to be used directly"));
        }
        let info = stginfo(vm, args.ty.as_object()).map_err(|_| {
            vm.new_type_error(format!(
                "type of field {:?} must be a C type",
                args.name.as_wtf8().to_string()
            ))
        })?;
        Ok(CField {
            name: args.name,
            ty: args.ty,
            info,
            offset: args.byte_offset,
            byte_size: args.byte_size,
            bit_size: args.bit_size.flatten(),
            bit_offset: args.bit_offset.flatten().unwrap_or(0),
            index: args.index,
            anonymous: false,
        })
    }
}

impl CField {
    fn moved(&self, extra: usize) -> CField {
        CField {
            name: self.name.clone(),
            ty: self.ty.clone(),
            info: self.info.clone(),
            offset: self.offset + extra,
            byte_size: self.byte_size,
            bit_size: self.bit_size,
            bit_offset: self.bit_offset,
            index: self.index,
            anonymous: false,
        }
    }

    fn owner_cdata<'a>(&self, obj: &'a PyObject, vm: &VirtualMachine) -> PyResult<&'a Py<CData>> {
        cdata(obj).ok_or_else(|| {
            vm.new_type_error(format!(
                "descriptor works only on Structure or Union instances, not {}",
                obj.class().name()
            ))
        })
    }

    pub fn get(&self, obj: &PyObject, vm: &VirtualMachine) -> PyResult {
        super::shadow::coherent(vm, obj, || self.get_unsynced(obj, vm))
    }

    pub fn set(&self, obj: &PyObject, value: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        super::shadow::coherent(vm, obj, || self.set_unsynced(obj, value, vm))
    }

    fn get_unsynced(&self, obj: &PyObject, vm: &VirtualMachine) -> PyResult {
        let cd = self.owner_cdata(obj, vm)?;
        let addr = cd.addr() + self.offset as u64;
        if let Some(bits) = self.bit_size {
            let sc = self
                .info
                .simple()
                .ok_or_else(|| vm.new_type_error("bit fields need an integer type"))?;
            let raw =
                memory::load(addr, super::info::unsigned_scalar(sc.prim.size)).or_raise(vm)?;
            let raw = if sc.swapped {
                super::info::swap_bits(raw, sc.prim.size)
            } else {
                raw
            };
            let mask = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let mut v = (raw >> self.bit_offset) & mask;
            return Ok(match sc.prim.kind {
                Kind::Int { signed: true } if bits < 64 && v >> (bits - 1) & 1 == 1 => {
                    vm.ctx.new_int((v | !mask) as i64).into()
                }
                Kind::Int { signed: true } => vm.ctx.new_int(v as i64).into(),
                Kind::Bool => vm.ctx.new_bool(v != 0).into(),
                _ => {
                    v &= mask;
                    vm.ctx.new_int(v).into()
                }
            });
        }
        get_at(vm, &self.ty, &self.info, addr, obj, self.index as isize)
    }

    fn set_unsynced(
        &self,
        obj: &PyObject,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let cd = self.owner_cdata(obj, vm)?;
        let addr = cd.addr() + self.offset as u64;
        if let Some(bits) = self.bit_size {
            let sc = self
                .info
                .simple()
                .ok_or_else(|| vm.new_type_error("bit fields need an integer type"))?;
            let v = if sc.prim.kind == Kind::Bool {
                u64::from(value.try_to_bool(vm)?)
            } else {
                super::info::int_of(vm, &value)?
            };
            let scalar = super::info::unsigned_scalar(sc.prim.size);
            let raw = memory::load(addr, scalar).or_raise(vm)?;
            let raw = if sc.swapped {
                super::info::swap_bits(raw, sc.prim.size)
            } else {
                raw
            };
            let mask = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let new = (raw & !(mask << self.bit_offset)) | ((v & mask) << self.bit_offset);
            let new = if sc.swapped {
                super::info::swap_bits(new, sc.prim.size)
            } else {
                new
            };
            return memory::store(addr, scalar, new).or_raise(vm);
        }
        set_at(
            vm,
            &self.ty,
            &self.info,
            addr,
            value,
            obj,
            self.index as isize,
        )
    }
}

impl GetDescriptor for CField {
    fn descr_get(
        zelf: PyObjectRef,
        obj: Option<PyObjectRef>,
        _cls: Option<PyObjectRef>,
        vm: &VirtualMachine,
    ) -> PyResult {
        let field = zelf
            .downcast_ref::<CField>()
            .ok_or_else(|| vm.new_type_error("expected a CField"))?;
        match obj {
            Some(obj) if !vm.is_none(&obj) => field.get(&obj, vm),
            _ => Ok(zelf),
        }
    }
}

impl Representable for CField {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let name = zelf.name.as_wtf8().to_string();
        Ok(match zelf.bit_size {
            Some(bits) => format!(
                "<CField {name:?} type={}, ofs={}, bit_size={bits}, bit_offset={}>",
                zelf.ty.name(),
                zelf.offset,
                zelf.bit_offset
            ),
            None => format!(
                "<CField {name:?} type={}, ofs={}, size={}>",
                zelf.ty.name(),
                zelf.offset,
                zelf.byte_size
            ),
        })
    }
}

#[pyclass(with(Constructor, GetDescriptor, Representable))]
impl CField {
    #[pyslot]
    fn descr_set(
        zelf: &PyObject,
        obj: PyObjectRef,
        value: PySetterValue<PyObjectRef>,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let field = zelf
            .downcast_ref::<CField>()
            .ok_or_else(|| vm.new_type_error("expected a CField"))?;
        match value {
            PySetterValue::Assign(v) => field.set(&obj, v, vm),
            PySetterValue::Delete => Err(vm.new_type_error("cannot delete field attribute")),
        }
    }

    #[pygetset]
    fn name(&self) -> PyStrRef {
        self.name.clone()
    }
    #[pygetset(name = "type")]
    fn type_(&self) -> PyTypeRef {
        self.ty.clone()
    }
    #[pygetset]
    fn offset(&self) -> usize {
        self.offset
    }
    #[pygetset]
    fn byte_offset(&self) -> usize {
        self.offset
    }
    #[pygetset]
    fn byte_size(&self) -> usize {
        self.byte_size
    }
    #[pygetset]
    fn size(&self) -> usize {
        match self.bit_size {
            Some(bits) => ((bits as usize) << 16) | self.bit_offset as usize,
            None => self.byte_size,
        }
    }
    #[pygetset]
    fn bit_size(&self) -> u32 {
        self.bit_size.unwrap_or(self.byte_size as u32 * 8)
    }
    #[pygetset]
    fn bit_offset(&self) -> u32 {
        self.bit_offset
    }
    #[pygetset]
    fn is_bitfield(&self) -> bool {
        self.bit_size.is_some()
    }
    #[pygetset]
    fn is_anonymous(&self) -> bool {
        self.anonymous
    }
}

fn empty_info(is_union: bool) -> StgInfo {
    StgInfo::new(
        0,
        1,
        Shape::Struct(StructInfo {
            is_union,
            fields: Vec::new(),
            has_bitfield: false,
            aggregate: OnceCell::new(),
        }),
        "B".to_owned(),
    )
}

fn own_info(vm: &VirtualMachine, cls: &PyType) -> Option<PyRef<StgInfo>> {
    cls.attributes
        .read()
        .get(vm.ctx.intern_str(STGINFO))
        .and_then(|o| o.clone().downcast::<StgInfo>().ok())
}

/// What the Structure/Union metaclasses do when a class is created.
fn init_class(cls: PyTypeRef, is_union: bool, vm: &VirtualMachine) -> PyResult<()> {
    if let Some(base) = cls.base.as_ref() {
        if let Some(info) = stginfo_of_type(vm, base.as_object()) {
            info.final_.set(true);
        }
    }
    let fields = cls
        .attributes
        .read()
        .get(vm.ctx.intern_str("_fields_"))
        .cloned();
    // As CPython: a class with `_abstract_` gets no layout, so
    // instantiating it raises TypeError("abstract class").
    let abstract_ = cls
        .attributes
        .read()
        .contains_key(vm.ctx.intern_str("_abstract_"));
    // As CPython 3.12+, every class gets a layout of its own, its base's to
    // start with; having one marks the class as set up (see meta_setattr).
    if !abstract_ && own_info(vm, &cls).is_none() {
        let inherited = stginfo_of_type(vm, cls.as_object())
            .and_then(|base| inherited_info(&base))
            .unwrap_or_else(|| empty_info(is_union));
        set_stginfo(vm, &cls, inherited);
    }
    if let Some(fields) = fields {
        // through setattr, so that metaclass subclasses (_endian) see it
        cls.as_object().set_attr("_fields_", fields, vm)?;
    }
    Ok(())
}

/// A subclass's own copy of its base's layout, until it sets `_fields_`.
fn inherited_info(base: &StgInfo) -> Option<StgInfo> {
    let Shape::Struct(st) = &base.shape else {
        return None;
    };
    let shape = Shape::Struct(StructInfo {
        is_union: st.is_union,
        fields: st.fields.clone(),
        has_bitfield: st.has_bitfield,
        aggregate: OnceCell::new(),
    });
    let mut info = StgInfo::new(base.size, base.align, shape, base.format.clone());
    info.dims = base.dims.clone();
    Some(info)
}

fn set_fields(
    cls: &PyTypeRef,
    fields: PyObjectRef,
    is_union: bool,
    vm: &VirtualMachine,
) -> PyResult<()> {
    if let Some(info) = own_info(vm, cls) {
        if info.final_.get() {
            return Err(vm.new_attribute_error("_fields_ is final"));
        }
    }
    let list: Vec<PyObjectRef> = fields
        .try_to_value(vm)
        .map_err(|_| vm.new_type_error("'_fields_' must be a sequence of pairs"))?;
    let base = cls
        .base
        .as_ref()
        .filter(|b| {
            stginfo_of_type(vm, b.as_object()).is_some_and(|i| matches!(i.shape, Shape::Struct(_)))
        })
        .cloned();
    let base_fields: Vec<PyRef<CField>> = match &base {
        Some(b) => match &stginfo(vm, b.as_object())?.shape {
            Shape::Struct(st) => st.fields.clone(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    // As CPython: only integer types (not c_char/c_wchar) have bit fields;
    // checked before the layout, which would first judge the bit count.
    for item in &list {
        if let Some(t) = item.downcast_ref::<rustpython_vm::builtins::PyTuple>() {
            if t.len() >= 2 && t[1].is(cls.as_object()) {
                return Err(vm.new_attribute_error("Structure or union cannot contain itself"));
            }
            if t.len() == 3 {
                if let Some(info) = stginfo_of_type(vm, &t[1]) {
                    if !bitfield_capable(&info) {
                        let name = t[1]
                            .downcast_ref::<PyType>()
                            .map_or_else(|| "?".to_owned(), |ty| ty.name().to_string());
                        return Err(
                            vm.new_type_error(format!("bit fields not allowed for type {name}"))
                        );
                    }
                }
            }
        }
    }
    vm.import("ctypes._layout", 0)?;
    let layout_mod = vm
        .sys_module
        .get_attr("modules", vm)?
        .get_item("ctypes._layout", vm)?;
    let get_layout = layout_mod.get_attr("get_layout", vm)?;
    let layout = get_layout.call(
        (
            cls.clone(),
            vm.ctx.new_list(list),
            vm.ctx.new_bool(!is_union),
            base.map_or_else(|| vm.ctx.none(), Into::into),
        ),
        vm,
    )?;
    let size: usize = layout.get_attr("size", vm)?.try_to_value(vm)?;
    let align: usize = layout.get_attr("align", vm)?.try_to_value(vm)?;
    let format: String = layout.get_attr("format_spec", vm)?.str(vm)?.to_string();
    let new_fields: Vec<PyObjectRef> = layout.get_attr("fields", vm)?.try_to_value(vm)?;
    let mut all = base_fields;
    let mut has_bitfield = false;
    for f in new_fields {
        let field: PyRef<CField> = f
            .downcast()
            .map_err(|_| vm.new_type_error("get_layout returned a non-CField"))?;
        // As CPython: a type used as a field's type is final from now on.
        field.info.final_.set(true);
        has_bitfield |= field.bit_size.is_some();
        if let Shape::Struct(st) = &field.info.shape {
            has_bitfield |= st.has_bitfield;
        }
        cls.set_attr(
            vm.ctx.intern_str(field.name.as_wtf8().to_string()),
            field.clone().into(),
        );
        all.push(field);
    }
    let info = StgInfo::new(
        size,
        align,
        Shape::Struct(StructInfo {
            is_union,
            fields: all.clone(),
            has_bitfield,
            aggregate: OnceCell::new(),
        }),
        format,
    );
    // As CPython: once `_fields_` is set, the layout is final.
    info.final_.set(true);
    set_stginfo(vm, cls, info);
    cls.set_attr(vm.ctx.intern_str("_fields_"), fields);
    // _anonymous_: promote the fields of anonymous members
    let anon = cls
        .attributes
        .read()
        .get(vm.ctx.intern_str("_anonymous_"))
        .cloned();
    if let Some(anon) = anon {
        let names: Vec<PyStrRef> = anon.try_to_value(vm)?;
        for name in names {
            let field = all
                .iter()
                .find(|f| f.name.as_wtf8() == name.as_wtf8())
                .ok_or_else(|| {
                    vm.new_attribute_error(format!(
                        "'{}' is specified in _anonymous_ but not in _fields_",
                        name.as_wtf8()
                    ))
                })?;
            if !matches!(field.info.shape, Shape::Struct(_)) {
                return Err(vm.new_type_error(format!(
                    "anonymous field {:?} must be a Structure or Union",
                    name.as_wtf8().to_string()
                )));
            }
            let mut marked = field.moved(0);
            marked.anonymous = true;
            cls.set_attr(
                vm.ctx.intern_str(name.as_wtf8().to_string()),
                marked.into_ref(&vm.ctx).into(),
            );
            promote_anonymous(vm, cls, field, field.offset);
        }
    }
    Ok(())
}

/// Make the fields of the anonymous member `member` (at `offset` in `cls`)
/// fields of `cls`, and those of its own anonymous members, recursively
/// (CPython's MakeFields).
fn promote_anonymous(vm: &VirtualMachine, cls: &PyType, member: &CField, offset: usize) {
    let Shape::Struct(sub) = &member.info.shape else {
        return;
    };
    for inner in &sub.fields {
        let name = vm.ctx.intern_str(inner.name.as_wtf8().to_string());
        let nested_anonymous = member
            .ty
            .get_attr(name)
            .and_then(|d| d.downcast_ref::<CField>().map(|f| f.anonymous))
            .unwrap_or(false);
        if nested_anonymous {
            promote_anonymous(vm, cls, inner, offset + inner.offset);
        } else {
            cls.set_attr(name, inner.moved(offset).into_ref(&vm.ctx).into());
        }
    }
}

fn bitfield_capable(info: &StgInfo) -> bool {
    info.simple()
        .is_some_and(|sc| "bBhHiIlLqQnN?".contains(sc.code))
}

fn meta_setattr(
    zelf: &Py<PyType>,
    name: &Py<PyStr>,
    value: PySetterValue,
    is_union: bool,
    vm: &VirtualMachine,
) -> PyResult<()> {
    if name.as_wtf8() == "_fields_" {
        let cls: PyTypeRef = zelf.to_owned();
        return match value {
            // As CPython 3.12+ (gh-99275): `_fields_` set before the metaclass
            // has set the class up (from `__init_subclass__`) is an error.
            PySetterValue::Assign(_) if own_info(vm, &cls).is_none() => {
                Err(vm.new_type_error("ctypes state is not initialized"))
            }
            PySetterValue::Assign(v) => set_fields(&cls, v, is_union, vm),
            PySetterValue::Delete => Err(vm.new_attribute_error("cannot delete _fields_")),
        };
    }
    <PyType as SetAttr>::setattro(zelf, name, value, vm)
}

macro_rules! aggregate_metaclass {
    ($meta:ident, $name:literal, $is_union:expr) => {
        #[pyclass(name = $name, base = PyType, module = "_ctypes")]
        #[derive(Debug)]
        #[repr(transparent)]
        pub struct $meta(PyType);

        impl Initializer for $meta {
            type Args = FuncArgs;

            fn init(zelf: PyRef<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
                let cls: PyTypeRef = zelf
                    .as_object()
                    .to_owned()
                    .downcast()
                    .map_err(|_| vm.new_type_error("expected a type"))?;
                init_class(cls, $is_union, vm)
            }
        }

        impl SetAttr for $meta {
            fn setattro(
                zelf: &Py<Self>,
                name: &Py<PyStr>,
                value: PySetterValue,
                vm: &VirtualMachine,
            ) -> PyResult<()> {
                meta_setattr(zelf.to_base(), name, value, $is_union, vm)
            }
        }

        array_type_by_multiplying!($meta);

        #[pyclass(flags(BASETYPE), with(Initializer, SetAttr, AsNumber))]
        impl $meta {}
    };
}

aggregate_metaclass!(StructType, "PyCStructType", false);
aggregate_metaclass!(UnionType, "UnionType", true);

fn new_aggregate(cls: PyTypeRef, vm: &VirtualMachine) -> PyResult {
    let info = stginfo(vm, cls.as_object())?;
    instantiate(vm, cls, CData::alloc(vm, info)?)
}

fn init_aggregate(zelf: &PyObject, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    let cd = cdata(zelf).ok_or_else(|| vm.new_type_error("expected a ctypes instance"))?;
    let fields = match &cd.info.shape {
        Shape::Struct(st) => st.fields.clone(),
        _ => Vec::new(),
    };
    if args.args.len() > fields.len() {
        return Err(vm.new_type_error("too many initializers"));
    }
    for (field, value) in fields.iter().zip(args.args) {
        if args
            .kwargs
            .contains_key(field.name.as_wtf8().to_string().as_str())
        {
            return Err(vm.new_type_error(format!(
                "duplicate values for field {:?}",
                field.name.as_wtf8().to_string()
            )));
        }
        zelf.set_attr(&field.name, value, vm)?;
    }
    for (name, value) in args.kwargs {
        zelf.set_attr(vm.ctx.intern_str(name.as_str()), value, vm)?;
    }
    Ok(())
}

fn aggregate_from_param(cls: &PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
    if value.class().fast_issubclass(cls) {
        return Ok(value);
    }
    if let Ok(param) = value.get_attr("_as_parameter_", vm) {
        return aggregate_from_param(cls, param, vm);
    }
    Err(vm.new_type_error(format!(
        "expected {} instance instead of {}",
        cls.name(),
        value.class().name()
    )))
}

macro_rules! aggregate_class {
    ($ty:ident, $name:literal, $meta:literal) => {
        #[pyclass(name = $name, base = CData, metaclass = $meta, module = "_ctypes", traverse = "manual")]
        #[derive(Debug)]
        #[repr(transparent)]
        pub struct $ty(pub CData);
        super::cdata::traverse_as_cdata!($ty);

        impl Constructor for $ty {
            type Args = FuncArgs;

            fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
                new_aggregate(cls, vm)
            }

            fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
                Err(vm.new_type_error("use slot_new"))
            }
        }

        impl Initializer for $ty {
            type Args = FuncArgs;

            fn init(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
                init_aggregate(zelf.as_object(), args, vm)
            }
        }

        #[pyclass(flags(BASETYPE), with(Constructor, Initializer))]
        impl $ty {
            #[pyclassmethod]
            fn from_param(cls: PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
                aggregate_from_param(&cls, value, vm)
            }
        }
    };
}

aggregate_class!(Structure, "Structure", "StructType");
aggregate_class!(Union, "Union", "UnionType");
