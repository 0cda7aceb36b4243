//! `StgInfo`: what a ctypes *type* knows about its instances (size,
//! alignment, shape, PEP 3118 format), kept in the class dict under
//! `_stginfo_` so subclasses inherit it, and the scalar conversions between
//! Python values and host memory (one crossing per scalar access).

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use num_traits::ToPrimitive;
use rustpython_vm::builtins::{PyByteArray, PyBytes, PyFloat, PyInt, PyStr, PyType, PyTypeRef};
use rustpython_vm::{
    pyclass, AsObject, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
};

use super::structure::CField;
use crate::bindings::memory;
use crate::ffi::call::{Aggregate, ValueSpec};
use crate::ffi::errors::OrRaise;
use crate::ffi::platform::facts;
use crate::ffi::prim::{self, decode_bits, decode_wide, encode_wide, int_bits, Kind, Prim};
use crate::ffi::{longdouble, memory as mem};

pub const STGINFO: &str = "_stginfo_";

/// A simple (`_SimpleCData`) type: its code, the primitive it maps onto
/// (`None` for `py_object`), and whether its bytes are swapped.
#[derive(Clone, Copy, Debug)]
pub struct SimpleCode {
    pub code: char,
    pub prim: Prim,
    pub swapped: bool,
}

#[derive(Debug)]
pub struct StructInfo {
    pub is_union: bool,
    /// Every field in declaration order, the base class's first.
    pub fields: Vec<PyRef<CField>>,
    pub has_bitfield: bool,
    /// The host's libffi type for passing by value, built on first use.
    pub aggregate: OnceCell<Result<Rc<Aggregate>, String>>,
}

#[derive(Debug)]
pub enum Shape {
    Simple(SimpleCode),
    Pointer(RefCell<Option<PyTypeRef>>),
    Array {
        elem: PyTypeRef,
        elem_info: PyRef<StgInfo>,
        length: usize,
    },
    Struct(StructInfo),
    Func,
}

#[pyclass(name = "StgInfo", module = "_ctypes")]
#[derive(Debug, PyPayload)]
pub struct StgInfo {
    pub size: usize,
    pub align: usize,
    pub shape: Shape,
    /// PEP 3118 format of one item, and the array dimensions.
    pub format: String,
    pub dims: Vec<usize>,
    /// Set once instances exist or the type is subclassed: `_fields_` is final.
    pub final_: Cell<bool>,
}

#[pyclass]
impl StgInfo {}

impl StgInfo {
    /// CPython's TYPEFLAG_ISPOINTER | TYPEFLAG_HASPOINTER: whether instances
    /// hold an address (directly or in a field or element). Such objects
    /// cannot be pickled: the address means nothing elsewhere.
    pub fn has_pointer(&self) -> bool {
        match &self.shape {
            Shape::Simple(sc) => matches!(sc.code, 'z' | 'Z' | 'P' | 'O'),
            Shape::Pointer(_) | Shape::Func => true,
            Shape::Array { elem_info, .. } => elem_info.has_pointer(),
            Shape::Struct(s) => s.fields.iter().any(|f| f.info.has_pointer()),
        }
    }

    pub fn new(size: usize, align: usize, shape: Shape, format: String) -> Self {
        StgInfo {
            size,
            align,
            shape,
            format,
            dims: Vec::new(),
            final_: Cell::new(false),
        }
    }

    pub fn simple(&self) -> Option<SimpleCode> {
        match &self.shape {
            Shape::Simple(s) => Some(*s),
            _ => None,
        }
    }

    pub fn is_pointerish(&self) -> bool {
        matches!(
            self.shape,
            Shape::Pointer(_) | Shape::Array { .. } | Shape::Func
        )
    }

    /// How this type travels as an argument or result (arrays decay).
    pub fn value_spec(&self, vm: &VirtualMachine) -> PyResult<ValueSpec> {
        Ok(match &self.shape {
            Shape::Simple(s) => ValueSpec::Prim(s.prim),
            Shape::Struct(st) => ValueSpec::Aggregate(self.aggregate(vm, st)?),
            _ => ValueSpec::Prim(pointer_prim()),
        })
    }

    /// The host's struct type, from the fields' types (inline arrays are
    /// repeated elements, as libffi wants them).
    pub fn aggregate(&self, vm: &VirtualMachine, st: &StructInfo) -> PyResult<Rc<Aggregate>> {
        let built = st.aggregate.get_or_init(|| build_aggregate(vm, self, st));
        built.clone().map_err(|msg| vm.new_type_error(msg))
    }
}

fn flatten(vm: &VirtualMachine, info: &StgInfo, out: &mut Vec<ValueSpec>) -> Result<(), String> {
    match &info.shape {
        Shape::Array {
            elem_info, length, ..
        } => {
            for _ in 0..*length {
                flatten(vm, elem_info, out)?;
            }
        }
        Shape::Struct(st) => {
            let agg = info
                .aggregate(vm, st)
                .map_err(|_| "a nested struct cannot be passed by value".to_owned())?;
            out.push(ValueSpec::Aggregate(agg));
        }
        Shape::Simple(s) => out.push(ValueSpec::Prim(s.prim)),
        _ => out.push(ValueSpec::Prim(pointer_prim())),
    }
    Ok(())
}

fn build_aggregate(
    vm: &VirtualMachine,
    info: &StgInfo,
    st: &StructInfo,
) -> Result<Rc<Aggregate>, String> {
    if st.has_bitfield {
        return Err("structures with bit fields cannot be passed by value".into());
    }
    let mut specs = Vec::new();
    for field in &st.fields {
        flatten(vm, &field.info, &mut specs)?;
    }
    if specs.is_empty() {
        return Err("an empty structure cannot be passed by value".into());
    }
    let agg = Aggregate::new(vm, &specs, st.is_union)
        .map_err(|_| "the host could not lay out this structure".to_owned())?;
    if agg.layout.size as usize != info.size {
        return Err(format!(
            "this structure's layout ({} bytes, _pack_ or _align_) differs from the C ABI's ({} bytes): it cannot be passed by value",
            info.size, agg.layout.size
        ));
    }
    Ok(Rc::new(agg))
}

pub fn pointer_prim() -> Prim {
    prim::prim('P').expect("pointer type code")
}

pub fn pointer_size() -> usize {
    facts().raw.pointer_width as usize / 8
}

/// The StgInfo of a ctypes type (inherited through the MRO).
pub fn stginfo_of_type(vm: &VirtualMachine, ty: &PyObject) -> Option<PyRef<StgInfo>> {
    let ty = ty.downcast_ref::<PyType>()?;
    let name = vm.ctx.intern_str(STGINFO);
    ty.get_attr(name)?.downcast::<StgInfo>().ok()
}

pub fn stginfo(vm: &VirtualMachine, ty: &PyObject) -> PyResult<PyRef<StgInfo>> {
    stginfo_of_type(vm, ty).ok_or_else(|| {
        if ty.downcast_ref::<PyType>().is_some() {
            vm.new_type_error("abstract class")
        } else {
            vm.new_type_error("this type has no size")
        }
    })
}

pub fn set_stginfo(vm: &VirtualMachine, ty: &PyType, info: StgInfo) -> PyRef<StgInfo> {
    let info = info.into_ref(&vm.ctx);
    ty.set_attr(vm.ctx.intern_str(STGINFO), info.clone().into());
    info
}

/// The format character of a simple type for PEP 3118.
pub fn simple_format(sc: SimpleCode) -> String {
    let code = match sc.code {
        'l' if sc.prim.size == 8 => 'q',
        'L' if sc.prim.size == 8 => 'Q',
        'l' => 'i',
        'L' => 'I',
        'v' => 'h',
        'n' => 'q',
        'N' => 'Q',
        other => other,
    };
    let big = facts().raw.big_endian != sc.swapped;
    format!("{}{}", if big { '>' } else { '<' }, code)
}

pub fn swap_bits(bits: u64, size: u32) -> u64 {
    swap(bits, size)
}

pub fn unsigned_scalar(size: u32) -> crate::bindings::types::Scalar {
    prim::int_scalar(size, false)
}

fn swap(bits: u64, size: u32) -> u64 {
    let size = size.min(8);
    if size <= 1 {
        return bits;
    }
    bits.swap_bytes() >> (64 - size * 8)
}

fn sign_extend(bits: u64, size: u32, signed: bool) -> u64 {
    if !signed || size >= 8 {
        return bits;
    }
    let shift = 64 - size * 8;
    (((bits << shift) as i64) >> shift) as u64
}

fn type_name(obj: &PyObject) -> String {
    obj.class().name().to_string()
}

/// An integer from an int or anything with `__index__` (as CPython's setfuncs).
pub fn int_of(vm: &VirtualMachine, obj: &PyObject) -> PyResult<u64> {
    if let Some(i) = obj.downcast_ref::<PyInt>() {
        return Ok(int_bits(i));
    }
    if obj.downcast_ref::<PyFloat>().is_some() {
        return Err(vm.new_type_error("int expected instead of float"));
    }
    let index = obj.to_owned().try_index(vm).map_err(|_| {
        vm.new_type_error(format!(
            "an integer is required (got type {})",
            type_name(obj)
        ))
    })?;
    Ok(int_bits(&index))
}

pub use crate::ffi::prim::float_of;

/// A scalar value ready to store: bits, or bytes (`long double`), plus an
/// object that must stay alive as long as the memory refers to it.
pub struct Stored {
    pub bits: Option<u64>,
    pub bytes: Option<Vec<u8>>,
    pub keep: Option<PyObjectRef>,
}

impl Stored {
    fn bits(bits: u64) -> Self {
        Stored {
            bits: Some(bits),
            bytes: None,
            keep: None,
        }
    }
}

/// Convert `value` for a simple type (CPython's setfunc).
pub fn encode_simple(vm: &VirtualMachine, sc: SimpleCode, value: &PyObject) -> PyResult<Stored> {
    let prim = sc.prim;
    let bits = match prim.kind {
        Kind::Int { .. } => int_of(vm, value)?,
        Kind::Bool if sc.code == 'v' => {
            if value.to_owned().try_to_bool(vm)? {
                0xFFFF
            } else {
                0
            }
        }
        Kind::Bool => u64::from(value.to_owned().try_to_bool(vm)?),
        Kind::Char => {
            if let Some(b) = value.downcast_ref::<PyBytes>() {
                match b.as_bytes() {
                    [c] => u64::from(*c),
                    _ => {
                        return Err(
                            vm.new_type_error("one character bytes, bytearray or integer expected")
                        )
                    }
                }
            } else if let Some(b) = value.downcast_ref::<PyByteArray>() {
                match &b.borrow_buf()[..] {
                    [c] => u64::from(*c),
                    _ => {
                        return Err(
                            vm.new_type_error("one character bytes, bytearray or integer expected")
                        )
                    }
                }
            } else if let Some(i) = value.downcast_ref::<PyInt>() {
                match i.as_bigint().to_u8() {
                    Some(c) => u64::from(c),
                    None => {
                        return Err(
                            vm.new_type_error("one character bytes, bytearray or integer expected")
                        )
                    }
                }
            } else {
                return Err(vm.new_type_error(format!(
                    "one character bytes, bytearray or integer expected, not {}",
                    type_name(value)
                )));
            }
        }
        Kind::WChar => {
            let s = value.downcast_ref::<PyStr>().ok_or_else(|| {
                vm.new_type_error(format!(
                    "unicode string expected instead of {} instance",
                    type_name(value)
                ))
            })?;
            let mut chars = s.as_wtf8().code_points();
            match (chars.next(), chars.next()) {
                (Some(c), None) => u64::from(c.to_u32()),
                _ => return Err(vm.new_type_error("one character unicode string expected")),
            }
        }
        Kind::Float => {
            let v = float_of(vm, value)?;
            if prim.size == 4 {
                u64::from((v as f32).to_bits())
            } else {
                v.to_bits()
            }
        }
        Kind::LongDouble => {
            return Ok(Stored {
                bits: None,
                bytes: Some(longdouble::encode(float_of(vm, value)?)),
                keep: None,
            })
        }
        Kind::Pointer => {
            if vm.is_none(value) {
                0
            } else if let Some(i) = value.downcast_ref::<PyInt>() {
                int_bits(i)
            } else {
                return Err(vm.new_type_error(format!(
                    "cannot be converted to pointer: {}",
                    type_name(value)
                )));
            }
        }
        Kind::CharP | Kind::WCharP => return encode_string_pointer(vm, prim.kind, value),
        Kind::Void => return Err(vm.new_type_error("void has no value")),
    };
    let bits = if sc.swapped {
        swap(bits, prim.size)
    } else {
        bits
    };
    Ok(Stored::bits(bits))
}

fn encode_string_pointer(vm: &VirtualMachine, kind: Kind, value: &PyObject) -> PyResult<Stored> {
    if vm.is_none(value) {
        return Ok(Stored::bits(0));
    }
    if let Some(i) = value.downcast_ref::<PyInt>() {
        return Ok(Stored::bits(int_bits(i)));
    }
    let data = match kind {
        Kind::CharP => match value.downcast_ref::<PyBytes>() {
            Some(b) => {
                let mut d = b.as_bytes().to_vec();
                d.push(0);
                d
            }
            None => {
                return Err(vm.new_type_error(format!(
                    "bytes or integer address expected instead of {} instance",
                    type_name(value)
                )))
            }
        },
        _ => match value.downcast_ref::<PyStr>() {
            Some(s) => {
                let mut d = encode_wide(vm, s)?;
                d.extend(std::iter::repeat_n(0, facts().wchar_size() as usize));
                d
            }
            None => {
                return Err(vm.new_type_error(format!(
                    "unicode string or integer address expected instead of {} instance",
                    type_name(value)
                )))
            }
        },
    };
    let block = HostBlock::with_data(vm, &data)?;
    let addr = block.addr;
    Ok(Stored {
        bits: Some(addr),
        bytes: None,
        keep: Some(kept_string(vm, value, block)?),
    })
}

thread_local! {
    static KEPT_STRING_TYPES: OnceCell<(PyTypeRef, PyTypeRef)> = const { OnceCell::new() };
}

/// What a stored `char *` or `wchar_t *` keeps alive. CPython keeps the
/// `bytes`/`str` object itself (native code reads its buffer); here native
/// code reads a host copy, so the kept object is an equal `bytes`/`str`
/// (`_ctypes._KeptBytes`/`_KeptStr`) that owns that copy: `_objects` reads as
/// in CPython and the copy lives exactly as long as CPython's string would.
fn kept_string(vm: &VirtualMachine, value: &PyObject, block: HostBlock) -> PyResult {
    let (bytes_type, str_type) = KEPT_STRING_TYPES.with(|cell| {
        cell.get_or_init(|| {
            let subclass = |name: &str, base: &PyTypeRef| -> PyTypeRef {
                let namespace = vm.ctx.new_dict();
                let _ = namespace.set_item("__module__", vm.ctx.new_str("_ctypes").into(), vm);
                vm.ctx
                    .types
                    .type_type
                    .as_object()
                    .call((name, (base.clone(),), namespace), vm)
                    .and_then(|t| t.downcast::<PyType>().map_err(|_| vm.new_type_error("")))
                    .expect("subclassing bytes and str")
            };
            (
                subclass("_KeptBytes", &vm.ctx.types.bytes_type.to_owned()),
                subclass("_KeptStr", &vm.ctx.types.str_type.to_owned()),
            )
        })
        .clone()
    });
    let ty = if value.downcast_ref::<PyBytes>().is_some() {
        bytes_type
    } else {
        str_type
    };
    let kept = ty.as_object().call((value.to_owned(),), vm)?;
    kept.set_attr("_b_host_", block.into_ref(&vm.ctx), vm)?;
    Ok(kept)
}

/// Store a converted value at `addr`.
pub fn store(vm: &VirtualMachine, sc: SimpleCode, addr: u64, stored: &Stored) -> PyResult<()> {
    if let Some(bytes) = &stored.bytes {
        return mem::write(vm, addr, bytes);
    }
    memory::store(addr, sc.prim.scalar, stored.bits.unwrap_or(0)).or_raise(vm)
}

/// Python value of the simple type at `addr` (CPython's getfunc).
pub fn load_simple(vm: &VirtualMachine, sc: SimpleCode, addr: u64) -> PyResult {
    let prim = sc.prim;
    if prim.kind == Kind::LongDouble {
        let bytes = mem::read(vm, addr, prim.size as usize)?;
        return Ok(vm.ctx.new_float(longdouble::decode(&bytes)).into());
    }
    let bits = memory::load(addr, prim.scalar).or_raise(vm)?;
    decode_simple(vm, sc, bits)
}

/// Python value of a simple type from its bits as loaded.
pub fn decode_simple(vm: &VirtualMachine, sc: SimpleCode, bits: u64) -> PyResult {
    let prim = sc.prim;
    let bits = if sc.swapped {
        let signed = matches!(prim.kind, Kind::Int { signed: true });
        sign_extend(swap(bits, prim.size), prim.size, signed)
    } else {
        bits
    };
    match prim.kind {
        Kind::Pointer => {
            let mask = if prim.size >= 8 {
                u64::MAX
            } else {
                (1 << (prim.size * 8)) - 1
            };
            Ok(if bits & mask == 0 {
                vm.ctx.none()
            } else {
                vm.ctx.new_int(bits & mask).into()
            })
        }
        Kind::WCharP if bits != 0 => {
            let bytes = mem::read_string(vm, bits, facts().wchar_size(), None)?;
            Ok(vm.ctx.new_str(decode_wide(vm, &bytes)?).into())
        }
        _ => decode_bits(vm, prim, bits),
    }
}

/// A block of host memory owned by a Python object (strings that a
/// `char *` field or argument points at): freed when the object dies.
#[pyclass(name = "_HostBlock", module = "_ctypes")]
#[derive(Debug, PyPayload)]
pub struct HostBlock {
    pub addr: u64,
}

#[pyclass]
impl HostBlock {}

impl HostBlock {
    pub fn with_data(vm: &VirtualMachine, data: &[u8]) -> PyResult<Self> {
        let addr = crate::ffi::arena::alloc_with(vm, data, 16)?;
        Ok(HostBlock { addr })
    }
}

impl Drop for HostBlock {
    fn drop(&mut self) {
        crate::ffi::arena::free(self.addr);
    }
}

/// `True` when `cls` derives directly from a fundamental base
/// (`_SimpleCData`): its values are converted to Python objects instead
/// of being returned as instances.
pub fn is_direct_simple(cls: &PyType, simple_base: &rustpython_vm::Py<PyType>) -> bool {
    cls.base.as_ref().is_some_and(|b| b.is(simple_base))
}
