//! Argument conversion for foreign calls, in Rust: `from_param` semantics
//! of the fundamental types without calling into Python, `byref()`,
//! `_as_parameter_`, arrays and pointers decaying, strings passed by value
//! through the call's scratch area, C's default promotions for variadic
//! arguments, and `paramflags`.

use rustpython_vm::builtins::{PyBytes, PyFloat, PyInt, PyStr, PyTuple, PyType, PyTypeRef};
use rustpython_vm::class::StaticType;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{AsObject, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine};

use super::carg::{CArgKind, CArgObject};
use super::cdata::{cdata, CData};
use super::info::{encode_simple, pointer_prim, stginfo_of_type, Shape, SimpleCode, StgInfo};
use crate::bindings::memory;
use crate::ffi::call::{ArgBuffer, ValueSpec};
use crate::ffi::errors::OrRaise;
use crate::ffi::platform::facts;
use crate::ffi::prim::{self, encode_wide, int_bits, Encoded, Kind, Prim};

/// The pointer a ctypes object stands for when passed where a pointer is
/// expected: pointers their value, arrays and others their address.
fn cdata_pointer(vm: &VirtualMachine, cd: &CData, obj: &PyObject) -> PyResult<u64> {
    Ok(match &cd.info.shape {
        Shape::Pointer(_) => memory::load(cd.addr(), pointer_prim().scalar).or_raise(vm)?,
        Shape::Func => obj
            .downcast_ref::<super::function::CFuncPtr>()
            .map_or(0, |f| f.address()),
        Shape::Simple(sc) if matches!(sc.prim.kind, Kind::Pointer | Kind::CharP | Kind::WCharP) => {
            memory::load(cd.addr(), sc.prim.scalar).or_raise(vm)?
        }
        _ => cd.addr(),
    })
}

/// A pointer from anything `c_void_p` accepts: None, int, byref(),
/// ctypes instances, bytes/str (copied to host memory, kept by the result).
pub fn pointer_value(
    vm: &VirtualMachine,
    value: &PyObject,
) -> PyResult<Option<(u64, Option<PyObjectRef>)>> {
    if vm.is_none(value) {
        return Ok(Some((0, None)));
    }
    if let Some(i) = value.downcast_ref::<PyInt>() {
        return Ok(Some((int_bits(i), None)));
    }
    if let Some(arg) = value.downcast_ref::<CArgObject>() {
        return Ok(match &arg.kind {
            CArgKind::ByRef { .. } => Some((arg.address(), Some(arg.obj.clone()))),
            CArgKind::Value { prim, bits, .. } if prim.kind.is_pointer() => {
                Some((*bits, Some(value.to_owned())))
            }
            CArgKind::Value { .. } => None,
        });
    }
    if let Some(cd) = cdata(value) {
        return Ok(Some((
            cdata_pointer(vm, cd, value)?,
            Some(value.to_owned()),
        )));
    }
    let data = if let Some(b) = value.downcast_ref::<PyBytes>() {
        let mut d = b.as_bytes().to_vec();
        d.push(0);
        d
    } else if let Some(s) = value.downcast_ref::<PyStr>() {
        let mut d = encode_wide(vm, s)?;
        d.extend(std::iter::repeat_n(0, facts().wchar_size() as usize));
        d
    } else {
        return Ok(None);
    };
    let block = super::info::HostBlock::with_data(vm, &data)?;
    let addr = block.addr;
    Ok(Some((addr, Some(block.into_ref(&vm.ctx).into()))))
}

/// A value `CArgObject` as converted (`None` for anything else, `byref`
/// included): passed with its own type, whatever the declared one.
fn carg_converted(zelf: &PyObject) -> Option<Converted> {
    let carg = zelf.downcast_ref::<CArgObject>()?;
    match &carg.kind {
        CArgKind::ByRef { .. } => None,
        CArgKind::Value {
            prim, bits, bytes, ..
        } => {
            let value = match bytes {
                Some(b) => Value::Bytes(b.clone()),
                None => Value::Bits(*bits),
            };
            Some(Converted::prim(*prim, value, Some(zelf.to_owned())))
        }
    }
}

/// How one declared argument type converts its arguments.
#[derive(Debug, Clone)]
pub enum ArgPlan {
    /// One of ours: converted in Rust.
    Native { ty: PyTypeRef, info: PyRef<StgInfo> },
    /// A type with its own `from_param`: call it, then convert the result.
    FromParam {
        conv: PyObjectRef,
        info: Option<(PyTypeRef, PyRef<StgInfo>)>,
    },
}

impl ArgPlan {
    pub fn ty(&self) -> Option<PyTypeRef> {
        match self {
            ArgPlan::Native { ty, .. } => Some(ty.clone()),
            ArgPlan::FromParam { info, .. } => info.as_ref().map(|(t, _)| t.clone()),
        }
    }
}

fn own_from_param(vm: &VirtualMachine, ty: &PyType) -> bool {
    let key = vm.ctx.intern_str("from_param");
    for cls in ty.mro.read().iter() {
        if cls.attributes.read().contains_key(key) {
            let ours = [
                super::simple::Simple::static_type(),
                super::pointer::Pointer::static_type(),
                super::array::Array::static_type(),
                super::structure::Structure::static_type(),
                super::structure::Union::static_type(),
                super::function::CFuncPtr::static_type(),
            ];
            return ours.iter().any(|o| cls.is(*o));
        }
    }
    true
}

pub fn plan_for(vm: &VirtualMachine, t: &PyObjectRef) -> PyResult<ArgPlan> {
    if t.get_attr("from_param", vm).is_err() {
        return Err(vm.new_type_error("has no from_param method"));
    }
    let info = t
        .downcast_ref::<PyType>()
        .and_then(|ty| stginfo_of_type(vm, ty.as_object()).map(|i| (ty.to_owned(), i)));
    match info {
        Some((ty, info)) if own_from_param(vm, &ty) => Ok(ArgPlan::Native { ty, info }),
        info => Ok(ArgPlan::FromParam {
            conv: t.clone(),
            info,
        }),
    }
}

/// Identity of an argument's native type, for caching call descriptors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    Prim(char),
    Agg(usize),
}

#[derive(Debug)]
enum Value {
    Bits(u64),
    Bytes(Vec<u8>),
    Temp(Vec<u8>),
}

/// One converted argument: its native type and value, and what must stay
/// alive until the call returns.
#[derive(Debug)]
pub struct Converted {
    pub spec: ValueSpec,
    pub tag: Tag,
    value: Value,
    _keep: Option<PyObjectRef>,
}

impl Converted {
    fn prim(prim: Prim, value: Value, keep: Option<PyObjectRef>) -> Self {
        Converted {
            spec: ValueSpec::Prim(prim),
            tag: Tag::Prim(prim.code),
            value,
            _keep: keep,
        }
    }

    fn pointer(addr: u64, keep: Option<PyObjectRef>) -> Self {
        Converted::prim(pointer_prim(), Value::Bits(addr), keep)
    }

    pub fn put(self, buffer: &mut ArgBuffer, offset: u32) {
        match (&self.spec, self.value) {
            (ValueSpec::Prim(p), Value::Bits(b)) => buffer.put(offset, *p, Encoded::Bits(b)),
            (ValueSpec::Prim(p), Value::Bytes(b)) => buffer.put(offset, *p, Encoded::Bytes(b)),
            (ValueSpec::Prim(p), Value::Temp(b)) => buffer.put(offset, *p, Encoded::Temporary(b)),
            (ValueSpec::Aggregate(_), Value::Bytes(b)) => buffer.put_bytes(offset, &b),
            (ValueSpec::Aggregate(_), _) => {}
        }
    }
}

fn wrong(
    vm: &VirtualMachine,
    value: &PyObject,
    ty: &PyType,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    vm.new_type_error(format!(
        "expected {} instance instead of {}",
        ty.name(),
        value.class().name()
    ))
}

fn load_simple_bits(vm: &VirtualMachine, cd: &CData, sc: SimpleCode) -> PyResult<Value> {
    if sc.prim.kind == Kind::LongDouble {
        return Ok(Value::Bytes(crate::ffi::memory::read(
            vm,
            cd.addr(),
            sc.prim.size as usize,
        )?));
    }
    Ok(Value::Bits(
        memory::load(cd.addr(), sc.prim.scalar).or_raise(vm)?,
    ))
}

fn string_temp(vm: &VirtualMachine, kind: Kind, value: &PyObject) -> PyResult<Option<Vec<u8>>> {
    if matches!(kind, Kind::CharP | Kind::Pointer) {
        if let Some(b) = value.downcast_ref::<PyBytes>() {
            let mut d = b.as_bytes().to_vec();
            d.push(0);
            return Ok(Some(d));
        }
    }
    if matches!(kind, Kind::WCharP | Kind::Pointer) {
        if let Some(s) = value.downcast_ref::<PyStr>() {
            let mut d = encode_wide(vm, s)?;
            d.extend(std::iter::repeat_n(0, facts().wchar_size() as usize));
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// Convert for a declared ctypes type (the Rust twin of its from_param).
pub fn convert_native(
    vm: &VirtualMachine,
    ty: &PyTypeRef,
    info: &PyRef<StgInfo>,
    arg: &PyObjectRef,
) -> PyResult<Converted> {
    if let Some(converted) = carg_converted(arg) {
        return Ok(converted);
    }
    match &info.shape {
        Shape::Simple(sc) => {
            let sc = *sc;
            if let Some(cd) = cdata(arg) {
                if arg.class().fast_issubclass(ty) {
                    return Ok(Converted::prim(
                        sc.prim,
                        load_simple_bits(vm, cd, sc)?,
                        None,
                    ));
                }
            }
            if matches!(sc.prim.kind, Kind::Pointer | Kind::CharP | Kind::WCharP) {
                if let Some(temp) = string_temp(vm, sc.prim.kind, arg)? {
                    return Ok(Converted::prim(sc.prim, Value::Temp(temp), None));
                }
                let accepts_any = sc.prim.kind == Kind::Pointer;
                let is_plain = vm.is_none(arg) || arg.downcast_ref::<PyInt>().is_some();
                // byref() of a character of the right width, as CPython checks
                let byref_chars = arg
                    .downcast_ref::<CArgObject>()
                    .and_then(|a| cdata(&a.obj))
                    .and_then(|c| c.info.simple())
                    .is_some_and(|inner| {
                        let want = if sc.prim.kind == Kind::CharP {
                            Kind::Char
                        } else {
                            Kind::WChar
                        };
                        inner.prim.kind == want
                    });
                if accepts_any
                    || is_plain
                    || byref_chars
                    || cdata(arg).is_some_and(|c| char_pointer_compatible(vm, c, sc.prim.kind))
                {
                    if let Some((addr, keep)) = pointer_value(vm, arg)? {
                        return Ok(Converted::prim(sc.prim, Value::Bits(addr), keep));
                    }
                }
            } else if cdata(arg).is_none() && arg.downcast_ref::<CArgObject>().is_none() {
                if let Ok(stored) = encode_simple(vm, sc, arg) {
                    let value = match stored.bytes {
                        Some(b) => Value::Bytes(b),
                        None => Value::Bits(stored.bits.unwrap_or(0)),
                    };
                    return Ok(Converted::prim(sc.prim, value, stored.keep));
                }
            }
            if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
                return convert_native(vm, ty, info, &param);
            }
            Err(wrong(vm, arg, ty))
        }
        Shape::Pointer(target) => {
            let target = target.borrow().clone();
            if vm.is_none(arg) {
                return Ok(Converted::pointer(0, None));
            }
            if let Some(a) = arg.downcast_ref::<CArgObject>() {
                let array_of_target =
                    cdata(&a.obj).is_some_and(|c| match (&c.info.shape, &target) {
                        (Shape::Array { elem, .. }, Some(t)) => elem.fast_issubclass(t),
                        _ => false,
                    });
                if array_of_target
                    || target
                        .as_ref()
                        .is_none_or(|t| a.obj.class().fast_issubclass(t))
                {
                    return Ok(Converted::pointer(a.address(), Some(arg.clone())));
                }
            }
            if let Some(cd) = cdata(arg) {
                if arg.class().fast_issubclass(ty) {
                    return Ok(Converted::pointer(
                        cdata_pointer(vm, cd, arg)?,
                        Some(arg.clone()),
                    ));
                }
                if let Some(t) = &target {
                    if arg.class().fast_issubclass(t) {
                        return Ok(Converted::pointer(cd.addr(), Some(arg.clone())));
                    }
                    if let Shape::Array { elem, .. } = &cd.info.shape {
                        if elem.fast_issubclass(t) {
                            return Ok(Converted::pointer(cd.addr(), Some(arg.clone())));
                        }
                    }
                    if let Shape::Pointer(other) = &cd.info.shape {
                        if other
                            .borrow()
                            .as_ref()
                            .is_some_and(|o| o.fast_issubclass(t))
                        {
                            return Ok(Converted::pointer(
                                cdata_pointer(vm, cd, arg)?,
                                Some(arg.clone()),
                            ));
                        }
                    }
                }
            }
            if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
                return convert_native(vm, ty, info, &param);
            }
            Err(wrong(vm, arg, ty))
        }
        Shape::Array { elem, .. } => {
            if let Some(cd) = cdata(arg) {
                let ok = arg.class().fast_issubclass(ty)
                    || matches!(&cd.info.shape, Shape::Array { elem: e, .. } if e.fast_issubclass(elem));
                if ok {
                    return Ok(Converted::pointer(cd.addr(), Some(arg.clone())));
                }
            }
            if let Some(a) = arg.downcast_ref::<CArgObject>() {
                return Ok(Converted::pointer(a.address(), Some(arg.clone())));
            }
            if vm.is_none(arg) {
                return Ok(Converted::pointer(0, None));
            }
            if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
                return convert_native(vm, ty, info, &param);
            }
            Err(wrong(vm, arg, ty))
        }
        Shape::Struct(st) => {
            if let Some(cd) = cdata(arg) {
                if arg.class().fast_issubclass(ty) {
                    let agg = info.aggregate(vm, st)?;
                    let bytes = crate::ffi::memory::read(vm, cd.addr(), info.size)?;
                    return Ok(Converted {
                        tag: Tag::Agg(std::rc::Rc::as_ptr(&agg) as usize),
                        spec: ValueSpec::Aggregate(agg),
                        value: Value::Bytes(bytes),
                        _keep: None,
                    });
                }
            }
            if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
                return convert_native(vm, ty, info, &param);
            }
            Err(wrong(vm, arg, ty))
        }
        Shape::Func => {
            if vm.is_none(arg) {
                return Ok(Converted::pointer(0, None));
            }
            if let Some(f) = arg.downcast_ref::<super::function::CFuncPtr>() {
                // as CPython: a function pointer of another prototype is an error
                if !arg.class().fast_issubclass(ty) {
                    return Err(wrong(vm, arg, ty));
                }
                return Ok(Converted::pointer(f.address(), Some(arg.clone())));
            }
            if arg.is_callable() {
                // a Python function where a callback is expected: wrap it for this call
                let made = ty.as_object().call((arg.clone(),), vm)?;
                let addr = made
                    .downcast_ref::<super::function::CFuncPtr>()
                    .map_or(0, |f| f.address());
                return Ok(Converted::pointer(addr, Some(made)));
            }
            if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
                return vm.with_recursion(" while converting _as_parameter_", || {
                    convert_native(vm, ty, info, &param)
                });
            }
            Err(wrong(vm, arg, ty))
        }
    }
}

fn char_pointer_compatible(vm: &VirtualMachine, cd: &CData, kind: Kind) -> bool {
    let want = if kind == Kind::CharP {
        Kind::Char
    } else {
        Kind::WChar
    };
    match &cd.info.shape {
        Shape::Array { elem_info, .. } => elem_info.simple().is_some_and(|s| s.prim.kind == want),
        Shape::Pointer(t) => t
            .borrow()
            .as_ref()
            .and_then(|t| stginfo_of_type(vm, t.as_object()))
            .is_some_and(|i| i.simple().is_some_and(|s| s.prim.kind == want)),
        Shape::Simple(s) => s.prim.kind == kind,
        _ => false,
    }
}

pub fn convert_static(
    vm: &VirtualMachine,
    plan: &ArgPlan,
    arg: &PyObjectRef,
) -> PyResult<Converted> {
    match plan {
        ArgPlan::Native { ty, info } => convert_native(vm, ty, info, arg),
        ArgPlan::FromParam { conv, info } => {
            let converted = vm.call_method(conv, "from_param", (arg.clone(),))?;
            match info {
                Some((ty, info)) => {
                    let widened = match &info.shape {
                        // from_param may return any pointer-like object
                        Shape::Pointer(_) | Shape::Array { .. } => {
                            if let Some((addr, keep)) = pointer_value(vm, &converted)? {
                                return Ok(Converted::pointer(addr, keep.or(Some(converted))));
                            }
                            converted
                        }
                        _ => converted,
                    };
                    convert_native(vm, ty, info, &widened)
                        .or_else(|_| convert_dynamic(vm, &widened, false))
                }
                None => convert_dynamic(vm, &converted, false),
            }
        }
    }
}

fn code_prim(code: char) -> Prim {
    prim::prim(code).unwrap_or_else(pointer_prim)
}

/// Convert by the argument's own Python type (no `argtypes`, or variadic
/// arguments past them; `promote` applies C's default argument promotions).
pub fn convert_dynamic(
    vm: &VirtualMachine,
    arg: &PyObjectRef,
    promote: bool,
) -> PyResult<Converted> {
    if let Some(converted) = carg_converted(arg) {
        return Ok(converted);
    }
    if vm.is_none(arg) {
        return Ok(Converted::pointer(0, None));
    }
    if let Some(i) = arg.downcast_ref::<PyInt>() {
        let v = i.as_bigint();
        use num_traits::ToPrimitive;
        let bits = match (v.to_i32(), v.to_u32()) {
            (Some(x), _) => x as u32,
            (None, Some(x)) => x,
            _ => return Err(vm.new_overflow_error("int too long to convert")),
        };
        return Ok(Converted::prim(
            code_prim('i'),
            Value::Bits(u64::from(bits)),
            None,
        ));
    }
    if let Some(f) = arg.downcast_ref::<PyFloat>() {
        return Ok(Converted::prim(
            code_prim('d'),
            Value::Bits(f.to_f64().to_bits()),
            None,
        ));
    }
    if let Some(temp) = string_temp(vm, Kind::CharP, arg)? {
        return Ok(Converted::prim(code_prim('z'), Value::Temp(temp), None));
    }
    if let Some(temp) = string_temp(vm, Kind::WCharP, arg)? {
        return Ok(Converted::prim(code_prim('Z'), Value::Temp(temp), None));
    }
    if let Some(a) = arg.downcast_ref::<CArgObject>() {
        return Ok(Converted::pointer(a.address(), Some(arg.clone())));
    }
    if let Some(cd) = cdata(arg) {
        match &cd.info.shape {
            Shape::Simple(sc) => {
                let value = load_simple_bits(vm, cd, *sc)?;
                if promote {
                    if let Value::Bits(bits) = value {
                        match sc.prim.kind {
                            Kind::Float if sc.prim.size == 4 => {
                                let d = f64::from(f32::from_bits(bits as u32));
                                return Ok(Converted::prim(
                                    code_prim('d'),
                                    Value::Bits(d.to_bits()),
                                    None,
                                ));
                            }
                            Kind::Int { .. } | Kind::Bool | Kind::Char | Kind::WChar
                                if sc.prim.size < 4 =>
                            {
                                return Ok(Converted::prim(
                                    code_prim('i'),
                                    Value::Bits(bits),
                                    None,
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                return Ok(Converted::prim(sc.prim, value, None));
            }
            Shape::Struct(st) => {
                let agg = cd.info.aggregate(vm, st)?;
                let bytes = crate::ffi::memory::read(vm, cd.addr(), cd.info.size)?;
                return Ok(Converted {
                    tag: Tag::Agg(std::rc::Rc::as_ptr(&agg) as usize),
                    spec: ValueSpec::Aggregate(agg),
                    value: Value::Bytes(bytes),
                    _keep: None,
                });
            }
            _ => {
                return Ok(Converted::pointer(
                    cdata_pointer(vm, cd, arg)?,
                    Some(arg.clone()),
                ))
            }
        }
    }
    if let Ok(param) = arg.get_attr("_as_parameter_", vm) {
        return convert_dynamic(vm, &param, promote);
    }
    Err(vm.new_type_error(format!(
        "Don't know how to convert parameter of type {}",
        arg.class().name()
    )))
}

pub type ParamFlag = (u32, Option<String>, Option<PyObjectRef>);

pub fn parse_paramflags(vm: &VirtualMachine, flags: &PyObjectRef) -> PyResult<Vec<ParamFlag>> {
    let items: Vec<PyObjectRef> = flags
        .try_to_value(vm)
        .map_err(|_| vm.new_type_error("paramflags must be a tuple or None"))?;
    let mut out = Vec::new();
    for item in items {
        let t = item.downcast_ref::<PyTuple>().ok_or_else(|| {
            vm.new_type_error("paramflags must be a sequence of (int [,string [,value]]) tuples")
        })?;
        let s = t.as_slice();
        let flag: u32 = s
            .first()
            .ok_or_else(|| {
                vm.new_type_error(
                    "paramflags must be a sequence of (int [,string [,value]]) tuples",
                )
            })?
            .try_to_value(vm)?;
        let name = match s.get(1) {
            Some(n) if !vm.is_none(n) => Some(n.str(vm)?.to_string()),
            _ => None,
        };
        out.push((flag, name, s.get(2).cloned()));
    }
    Ok(out)
}

/// The argument list for a call with `paramflags`, and the out-parameters
/// to return.
pub fn build_callargs(
    vm: &VirtualMachine,
    flags: &[ParamFlag],
    plans: &[ArgPlan],
    args: FuncArgs,
) -> PyResult<(Vec<PyObjectRef>, Vec<PyObjectRef>)> {
    if flags.len() != plans.len() {
        return Err(vm.new_value_error("paramflags must have the same length as argtypes"));
    }
    let mut positional = args.args.into_iter();
    let mut kwargs = args.kwargs;
    let mut call_args = Vec::new();
    let mut outs = Vec::new();
    for (i, ((flag, name, default), plan)) in flags.iter().zip(plans).enumerate() {
        macro_rules! take {
            () => {
                positional
                    .next()
                    .or_else(|| name.as_ref().and_then(|n| kwargs.swap_remove(n)))
                    .or_else(|| default.clone())
            };
        }
        match flag & 3 {
            2 => {
                let ty = plan.ty().ok_or_else(|| {
                    vm.new_type_error("out parameter needs a ctypes pointer type")
                })?;
                let target = ty.as_object().get_attr("_type_", vm).map_err(|_| {
                    vm.new_type_error(format!(
                        "output parameter {} must be a pointer type, not {}",
                        i + 1,
                        ty.name()
                    ))
                })?;
                let obj = target.call((), vm)?;
                call_args.push(obj.clone());
                outs.push(obj);
            }
            3 => {
                let v = take!().ok_or_else(|| {
                    vm.new_type_error(format!(
                        "required argument '{}' missing",
                        name.clone().unwrap_or_default()
                    ))
                })?;
                call_args.push(v.clone());
                outs.push(v);
            }
            _ => {
                let v = take!().ok_or_else(|| {
                    vm.new_type_error(format!(
                        "required argument '{}' missing",
                        name.clone().unwrap_or_default()
                    ))
                })?;
                call_args.push(v);
            }
        }
    }
    call_args.extend(positional);
    if let Some(k) = kwargs.keys().next() {
        return Err(vm.new_type_error(format!("got an unexpected keyword argument '{k}'")));
    }
    Ok((call_args, outs))
}
