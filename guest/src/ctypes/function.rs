//! `CFuncPtr` and its metaclass: foreign functions. A function object
//! prepares its host call descriptor (CallSpec) once and keeps it until
//! `argtypes`/`restype` change; calls without (or beyond) `argtypes` cache
//! one descriptor per distinct tuple of argument types. Arguments are
//! converted in Rust (see `args.rs`) and every call crosses once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rustpython_vm::builtins::{PyInt, PyStr, PyTuple, PyType, PyTypeRef};
use rustpython_vm::function::{FuncArgs, PySetterValue};
use rustpython_vm::protocol::PyNumberMethods;
use rustpython_vm::types::{AsNumber, Callable, Constructor, Initializer, Representable};
use rustpython_vm::{pyclass, AsObject, Py, PyObjectRef, PyRef, PyResult, VirtualMachine};

use super::args::{convert_dynamic, convert_static, plan_for, ArgPlan, Converted, Tag};
use super::cdata::{cdata, instantiate, CData};
use super::info::{
    decode_simple, is_direct_simple, pointer_prim, pointer_size, set_stginfo, stginfo,
    stginfo_of_type, Shape, StgInfo,
};
use crate::bindings::{call, memory};
use crate::ffi::call::{CallSpec, Returned, ValueSpec};
use crate::ffi::errors::OrRaise;
use crate::ffi::prim::Kind;

pub const FUNCFLAG_CDECL: u32 = 0x1;
pub const FUNCFLAG_PYTHONAPI: u32 = 0x4;
pub const FUNCFLAG_USE_ERRNO: u32 = 0x8;
pub const FUNCFLAG_USE_LASTERROR: u32 = 0x10;

#[pyclass(name = "PyCFuncPtrType", base = PyType, module = "_ctypes")]
#[derive(Debug)]
#[repr(transparent)]
pub struct FuncPtrType(PyType);

impl Initializer for FuncPtrType {
    type Args = FuncArgs;

    fn init(zelf: PyRef<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let cls: PyTypeRef = zelf
            .as_object()
            .to_owned()
            .downcast()
            .map_err(|_| vm.new_type_error("expected a type"))?;
        let info = StgInfo::new(
            pointer_size(),
            pointer_prim().align as usize,
            Shape::Func,
            "X{}".to_owned(),
        );
        set_stginfo(vm, &cls, info);
        Ok(())
    }
}

array_type_by_multiplying!(FuncPtrType);

#[pyclass(flags(BASETYPE), with(Initializer, AsNumber))]
impl FuncPtrType {}

/// How the result comes back to Python.
#[derive(Debug, Clone)]
enum RetPlan {
    Void,
    /// A fundamental simple type: its Python value.
    Value(super::info::SimpleCode),
    /// Any other ctypes type: an instance holding the returned bytes.
    Instance(PyTypeRef, PyRef<StgInfo>),
    /// A plain callable: called with the `int` result.
    Callable(PyObjectRef),
}

/// A prepared signature bound to this function's address.
#[derive(Debug)]
struct Prepared {
    spec: CallSpec,
    function: call::Function,
}

#[derive(Debug, Default)]
struct FuncState {
    address: u64,
    origin: Option<(u64, String)>,
    argtypes: Option<Vec<PyObjectRef>>,
    argtypes_obj: Option<PyObjectRef>,
    restype: Option<PyObjectRef>,
    errcheck: Option<PyObjectRef>,
    flags: u32,
    paramflags: Option<Vec<(u32, Option<String>, Option<PyObjectRef>)>>,
    /// Conversion plans for the declared argument types and the result.
    plans: Option<Rc<Plans>>,
    fixed: Option<Rc<Prepared>>,
    dynamic: HashMap<Vec<Tag>, Rc<Prepared>>,
    callback: Option<Rc<crate::ffi::callback::Callback>>,
    callable: Option<PyObjectRef>,
}

/// What a call needs to know of the declared types, worked out once per
/// function object (and again after `argtypes`/`restype`/`errcheck` change).
#[derive(Debug)]
struct Plans {
    args: Vec<ArgPlan>,
    ret: RetPlan,
    checker: Option<PyObjectRef>,
    has_argtypes: bool,
    flags: u32,
}

#[pyclass(
    name = "CFuncPtr",
    base = CData,
    metaclass = "FuncPtrType",
    module = "_ctypes",
    traverse = "manual"
)]
#[derive(Debug)]
#[repr(C)]
pub struct CFuncPtr {
    pub base: CData,
    state: RefCell<FuncState>,
}

// SAFETY: reports what the CData part keeps (see CData), the callback's
// Python callable (held here) and the handler's own reference to it, each
// once; the rest is left untraversed, which at worst keeps a cycle alive.
// Skipped while the state is borrowed.
unsafe impl rustpython_vm::object::Traverse for CFuncPtr {
    fn traverse(&self, tracer: &mut rustpython_vm::object::TraverseFn<'_>) {
        rustpython_vm::object::Traverse::traverse(&self.base, tracer);
        if let Ok(state) = self.state.try_borrow() {
            if let Some(callable) = &state.callable {
                tracer(callable);
            }
            if let Some(callback) = &state.callback {
                callback.traverse(tracer);
            }
        }
    }

    fn clear(&mut self, out: &mut Vec<rustpython_vm::PyObjectRef>) {
        rustpython_vm::object::Traverse::clear(&mut self.base, out);
    }
}

impl CFuncPtr {
    pub fn with_data(data: CData) -> Self {
        CFuncPtr {
            base: data,
            state: RefCell::new(FuncState::default()),
        }
    }

    pub fn address(&self) -> u64 {
        if !self.base.is_owned() && self.base.addr() != 0 {
            // A view (a struct field, from_address): the pointer lives in
            // memory someone else may change, so read it as CPython does.
            return memory::load(self.base.addr(), pointer_prim().scalar).unwrap_or(0);
        }
        self.state.borrow().address
    }

    fn set_address(&self, vm: &VirtualMachine, address: u64) -> PyResult<()> {
        memory::store(self.base.addr(), pointer_prim().scalar, address).or_raise(vm)?;
        self.state.borrow_mut().address = address;
        Ok(())
    }

    fn invalidate(&self) {
        let mut st = self.state.borrow_mut();
        st.plans = None;
        st.fixed = None;
        st.dynamic.clear();
    }

    /// Argument and result plans, from the instance's or the class's types.
    fn plans(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<Rc<Plans>> {
        if let Some(p) = zelf.state.borrow().plans.clone() {
            return Ok(p);
        }
        let argtypes = Self::argtypes_list(zelf, vm)?;
        let has_argtypes = argtypes.is_some();
        let restype = Self::restype_obj(zelf, vm);
        let mut args = Vec::new();
        for (i, t) in argtypes.unwrap_or_default().iter().enumerate() {
            args.push(plan_for(vm, t).map_err(|e| {
                vm.new_type_error(format!("item {} in _argtypes_ {}", i + 1, exc_text(vm, &e)))
            })?);
        }
        let (ret, checker) = ret_plan(vm, restype)?;
        let plans = Rc::new(Plans {
            args,
            ret,
            checker,
            has_argtypes,
            flags: Self::flags(zelf, vm),
        });
        zelf.state.borrow_mut().plans = Some(plans.clone());
        Ok(plans)
    }

    fn argtypes_list(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<Option<Vec<PyObjectRef>>> {
        if let Some(a) = zelf.state.borrow().argtypes.clone() {
            return Ok(Some(a));
        }
        match zelf.class().as_object().get_attr("_argtypes_", vm) {
            Ok(a) if !vm.is_none(&a) => Ok(Some(a.try_to_value(vm)?)),
            _ => Ok(None),
        }
    }

    fn restype_obj(zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
        if let Some(r) = zelf.state.borrow().restype.clone() {
            return r;
        }
        match zelf.class().as_object().get_attr("_restype_", vm) {
            Ok(r) => r,
            Err(_) => super::simple_type(vm, "c_int").unwrap_or_else(|| vm.ctx.none()),
        }
    }

    fn flags(zelf: &Py<Self>, vm: &VirtualMachine) -> u32 {
        let own = zelf.state.borrow().flags;
        if own != 0 {
            return own;
        }
        zelf.class()
            .as_object()
            .get_attr("_flags_", vm)
            .ok()
            .and_then(|f| f.try_to_value::<u32>(vm).ok())
            .unwrap_or(FUNCFLAG_CDECL)
    }

    fn prepare(
        zelf: &Py<Self>,
        vm: &VirtualMachine,
        specs: Vec<ValueSpec>,
        ret: Option<ValueSpec>,
        fixed: Option<u32>,
    ) -> PyResult<Rc<Prepared>> {
        let spec = CallSpec::new(vm, specs, ret, fixed)?;
        let (address, origin) = {
            let st = zelf.state.borrow();
            (zelf.address(), st.origin.clone())
        };
        let function = match origin {
            Some((handle, name)) => {
                let lib = super::library::get(vm, handle)?;
                call::Function::bind(&lib, &name, &spec.signature).or_raise(vm)?
            }
            None => {
                if address == 0 {
                    return Err(vm.new_value_error("NULL function pointer"));
                }
                call::Function::from_address(address, &spec.signature).or_raise(vm)?
            }
        };
        Ok(Rc::new(Prepared { spec, function }))
    }

    fn do_call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let plans = Self::plans(zelf, vm)?;
        let (arg_plans, ret, checker) = (&plans.args, &plans.ret, &plans.checker);
        let has_argtypes = plans.has_argtypes;
        // errcheck sees the arguments as given; only keep a copy for it
        let errcheck = zelf.state.borrow().errcheck.clone();
        let given = errcheck.as_ref().map(|_| args.args.clone());
        // paramflags: build the argument list and the out-parameters
        let paramflags = zelf.state.borrow().paramflags.clone();
        let (call_args, outs) = match &paramflags {
            Some(flags) => super::args::build_callargs(vm, flags, arg_plans, args)?,
            None => {
                if !args.kwargs.is_empty() {
                    return Err(vm.new_type_error("this function takes no keyword arguments"));
                }
                (args.args, Vec::new())
            }
        };
        if has_argtypes && call_args.len() < arg_plans.len() {
            return Err(vm.new_type_error(format!(
                "this function takes at least {} argument{} ({} given)",
                arg_plans.len(),
                if arg_plans.len() == 1 { "" } else { "s" },
                call_args.len()
            )));
        }
        if call_args.len() > super::MAX_ARGCOUNT {
            let class = super::argument_error_type(vm);
            let msg = format!(
                "too many arguments ({}), maximum is {}",
                call_args.len(),
                super::MAX_ARGCOUNT
            );
            return Err(vm.new_exception_msg(class, msg.into()));
        }
        let mut converted: Vec<Converted> = Vec::with_capacity(call_args.len());
        for (i, arg) in call_args.iter().enumerate() {
            let c = match arg_plans.get(i) {
                Some(plan) => convert_static(vm, plan, arg),
                None => convert_dynamic(vm, arg, has_argtypes),
            }
            .map_err(|e| argument_error(vm, i, e))?;
            converted.push(c);
        }
        let ret_spec = ret_spec(vm, ret)?;
        let prepared = if call_args.len() == arg_plans.len() && has_argtypes {
            let cached = zelf.state.borrow().fixed.clone();
            match cached {
                Some(p) => p,
                None => {
                    let specs = converted.iter().map(|c| c.spec.clone()).collect();
                    let p = Self::prepare(zelf, vm, specs, ret_spec, None)?;
                    zelf.state.borrow_mut().fixed = Some(p.clone());
                    p
                }
            }
        } else {
            let key: Vec<Tag> = converted.iter().map(|c| c.tag.clone()).collect();
            let cached = zelf.state.borrow().dynamic.get(&key).cloned();
            match cached {
                Some(p) => p,
                None => {
                    let specs = converted.iter().map(|c| c.spec.clone()).collect();
                    let fixed =
                        (has_argtypes && !arg_plans.is_empty()).then_some(arg_plans.len() as u32);
                    let p = Self::prepare(zelf, vm, specs, ret_spec, fixed)?;
                    zelf.state.borrow_mut().dynamic.insert(key, p.clone());
                    p
                }
            }
        };
        let mut buffer = prepared.spec.buffer();
        for (i, c) in converted.into_iter().enumerate() {
            c.put(&mut buffer, prepared.spec.offsets[i]);
        }
        let use_errno = plans.flags & FUNCFLAG_USE_ERRNO != 0;
        let saved = crate::ffi::errno();
        // native code may read or write memory that shadows a guest buffer
        super::shadow::sync_all(vm)?;
        let returned = crate::ffi::call::invoke(vm, &prepared.function, buffer);
        let synced = super::shadow::sync_all(vm);
        if !use_errno {
            // only use_errno functions exchange errno with ctypes' private copy
            crate::ffi::set_errno(saved);
        }
        drop(call_args);
        let returned = returned?;
        synced?;
        let mut result = convert_result(vm, ret, returned)?;
        if let Some(checker) = checker {
            result = checker.call((result,), vm)?;
        }
        if let (Some(errcheck), Some(given)) = (errcheck, given) {
            let argtuple = vm.ctx.new_tuple(given);
            let checked = errcheck.call((result.clone(), zelf.to_owned(), argtuple), vm)?;
            if outs.is_empty() || !checked.is(&result) {
                return Ok(checked);
            }
        }
        if outs.is_empty() {
            return Ok(result);
        }
        let mut values = Vec::new();
        for o in outs {
            values.push(vm.call_method(&o, "__ctypes_from_outparam__", ())?);
        }
        Ok(if values.len() == 1 {
            values.pop().unwrap_or_else(|| vm.ctx.none())
        } else {
            vm.ctx.new_tuple(values).into()
        })
    }
}

fn exc_text(vm: &VirtualMachine, e: &rustpython_vm::builtins::PyBaseExceptionRef) -> String {
    e.as_object()
        .str(vm)
        .map(|s| s.as_wtf8().to_string())
        .unwrap_or_default()
}

/// `ctypes.ArgumentError("argument 2: TypeError: ...")`, as CPython words it.
pub(crate) fn argument_error(
    vm: &VirtualMachine,
    index: usize,
    e: rustpython_vm::builtins::PyBaseExceptionRef,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    let class = super::argument_error_type(vm);
    let msg = format!(
        "argument {}: {}: {}",
        index + 1,
        e.class().name(),
        exc_text(vm, &e)
    );
    vm.new_exception_msg(class, msg.into())
}

fn ret_plan(vm: &VirtualMachine, restype: PyObjectRef) -> PyResult<(RetPlan, Option<PyObjectRef>)> {
    if vm.is_none(&restype) {
        return Ok((RetPlan::Void, None));
    }
    if let Some(ty) = restype.downcast_ref::<PyType>() {
        if let Some(info) = stginfo_of_type(vm, ty.as_object()) {
            let checker = ty.as_object().get_attr("_check_retval_", vm).ok();
            let plan = match info.simple() {
                Some(sc) if sc.code != 'O' && is_direct_simple(ty, super::cdata::simple_base()) => {
                    RetPlan::Value(sc)
                }
                _ => RetPlan::Instance(ty.to_owned(), info),
            };
            return Ok((plan, checker));
        }
    }
    if restype.is_callable() {
        return Ok((RetPlan::Callable(restype), None));
    }
    Err(vm.new_type_error("restype must be a type, a callable, or None"))
}

fn ret_spec(vm: &VirtualMachine, ret: &RetPlan) -> PyResult<Option<ValueSpec>> {
    Ok(match ret {
        RetPlan::Void => None,
        RetPlan::Value(sc) => Some(ValueSpec::Prim(sc.prim)),
        RetPlan::Instance(_, info) => Some(info.value_spec(vm)?),
        RetPlan::Callable(_) => Some(ValueSpec::Prim(crate::ffi::prim::prim('i').expect("int"))),
    })
}

fn convert_result(vm: &VirtualMachine, ret: &RetPlan, returned: Returned) -> PyResult {
    match ret {
        RetPlan::Void => Ok(vm.ctx.none()),
        RetPlan::Value(sc) if sc.prim.kind == Kind::LongDouble => Ok(vm
            .ctx
            .new_float(crate::ffi::longdouble::decode(
                returned.bytes.as_deref().unwrap_or(&[0; 16]),
            ))
            .into()),
        RetPlan::Value(sc) => decode_simple(vm, *sc, returned.value),
        RetPlan::Callable(f) => {
            let v = decode_simple(
                vm,
                super::info::SimpleCode {
                    code: 'i',
                    prim: crate::ffi::prim::prim('i').expect("int"),
                    swapped: false,
                },
                returned.value,
            )?;
            f.call((v,), vm)
        }
        RetPlan::Instance(ty, info) => {
            let cd = CData::alloc(vm, info.clone())?;
            match (&returned.bytes, &info.shape) {
                (Some(bytes), _) => {
                    let n = bytes.len().min(info.size);
                    crate::ffi::memory::write(vm, cd.addr(), &bytes[..n])?;
                }
                (None, Shape::Simple(sc)) => {
                    memory::store(cd.addr(), sc.prim.scalar, returned.value).or_raise(vm)?;
                }
                (None, _) => {
                    memory::store(cd.addr(), pointer_prim().scalar, returned.value).or_raise(vm)?;
                }
            }
            let obj = instantiate(vm, ty.clone(), cd)?;
            if let Some(f) = obj.downcast_ref::<CFuncPtr>() {
                f.state.borrow_mut().address = returned.value;
            }
            Ok(obj)
        }
    }
}

impl Constructor for CFuncPtr {
    type Args = FuncArgs;

    fn slot_new(cls: PyTypeRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, cls.as_object())?;
        let obj = instantiate(vm, cls, CData::alloc(vm, info)?)?;
        let zelf = obj
            .downcast_ref::<CFuncPtr>()
            .ok_or_else(|| vm.new_type_error("expected a CFuncPtr subclass"))?;
        let first = args.args.first().cloned();
        match first {
            None => {}
            Some(a) if a.downcast_ref::<PyInt>().is_some() => {
                let address = super::info::int_of(vm, &a)?;
                zelf.set_address(vm, address)?;
            }
            Some(a) if a.downcast_ref::<PyTuple>().is_some() => {
                let t = a
                    .downcast_ref::<PyTuple>()
                    .map(|t| t.as_slice().to_vec())
                    .unwrap_or_default();
                if t.len() != 2 {
                    return Err(vm.new_type_error("expected a (name, dll) tuple"));
                }
                let name = t[0].downcast_ref::<PyStr>().ok_or_else(|| {
                    vm.new_type_error("function name must be a string (ordinals are Windows-only)")
                })?;
                let name = crate::ffi::errors::utf8(vm, name)?.to_owned();
                let handle_obj = t[1].get_attr("_handle", vm)?;
                let handle = super::info::int_of(vm, &handle_obj)?;
                let address = super::library::symbol(vm, handle, &name).map_err(|e| {
                    if e.fast_isinstance(vm.ctx.exceptions.attribute_error) {
                        // the host's text: library, symbol and the loader's message
                        vm.new_attribute_error(format!(
                            "function '{name}' not found: {}",
                            exc_text(vm, &e)
                        ))
                    } else {
                        e
                    }
                })?;
                zelf.set_address(vm, address)?;
                zelf.state.borrow_mut().origin = Some((handle, name));
                if let Some(flags) = args.args.get(1) {
                    if !vm.is_none(flags) {
                        let parsed = super::args::parse_paramflags(vm, flags)?;
                        zelf.state.borrow_mut().paramflags = Some(parsed);
                    }
                }
            }
            Some(a) if a.is_callable() => {
                super::callback::make(vm, zelf, a)?;
            }
            Some(a) => {
                return Err(vm.new_type_error(format!(
                    "argument must be callable or integer function address, not {}",
                    a.class().name()
                )))
            }
        }
        Ok(obj)
    }

    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        Err(vm.new_type_error("use slot_new"))
    }
}

impl Initializer for CFuncPtr {
    type Args = FuncArgs;

    fn init(_zelf: PyRef<Self>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<()> {
        Ok(())
    }
}

impl Callable for CFuncPtr {
    type Args = FuncArgs;

    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        // A callback object called from Python goes through its native code
        // like any function pointer, as in CPython: arguments are converted
        // by argtypes, the result by restype, and an exception inside the
        // Python function is reported as unraisable, not propagated.
        CFuncPtr::do_call(zelf, args, vm)
    }
}

impl Representable for CFuncPtr {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!(
            "<{} object at {:#x}>",
            zelf.class().name(),
            zelf.get_id()
        ))
    }
}

impl AsNumber for CFuncPtr {
    fn as_number() -> &'static PyNumberMethods {
        static AS_NUMBER: PyNumberMethods = PyNumberMethods {
            boolean: Some(|number, vm| {
                let zelf = number
                    .obj
                    .downcast_ref::<CFuncPtr>()
                    .ok_or_else(|| vm.new_type_error("expected a CFuncPtr"))?;
                Ok(zelf.address() != 0)
            }),
            ..PyNumberMethods::NOT_IMPLEMENTED
        };
        &AS_NUMBER
    }
}

#[pyclass(
    flags(BASETYPE, HAS_DICT),
    with(Constructor, Initializer, Callable, Representable, AsNumber)
)]
impl CFuncPtr {
    #[pygetset]
    fn argtypes(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        if let Some(a) = zelf.state.borrow().argtypes_obj.clone() {
            return Ok(a);
        }
        Ok(zelf
            .class()
            .as_object()
            .get_attr("_argtypes_", vm)
            .unwrap_or_else(|_| vm.ctx.none()))
    }

    #[pygetset(setter)]
    fn set_argtypes(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let value = match value {
            PySetterValue::Assign(v) if !vm.is_none(&v) => Some(v),
            _ => None,
        };
        let list = match &value {
            Some(v) => {
                let items: Vec<PyObjectRef> = v
                    .try_to_value(vm)
                    .map_err(|_| vm.new_type_error("_argtypes_ must be a sequence of types"))?;
                for (i, t) in items.iter().enumerate() {
                    if t.get_attr("from_param", vm).is_err() {
                        return Err(vm.new_type_error(format!(
                            "item {} in _argtypes_ has no from_param method",
                            i + 1
                        )));
                    }
                }
                Some(items)
            }
            None => None,
        };
        zelf.invalidate();
        let mut st = zelf.state.borrow_mut();
        st.argtypes_obj = list.as_ref().map(|l| vm.ctx.new_tuple(l.clone()).into());
        st.argtypes = list;
        Ok(())
    }

    #[pygetset]
    fn restype(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyObjectRef {
        CFuncPtr::restype_obj(&zelf, vm)
    }

    #[pygetset(setter)]
    fn set_restype(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let value = match value {
            PySetterValue::Assign(v) => v,
            PySetterValue::Delete => {
                // as CPython: back to the prototype's (or the default) restype
                zelf.invalidate();
                zelf.state.borrow_mut().restype = None;
                return Ok(());
            }
        };
        ret_plan(vm, value.clone())?;
        zelf.invalidate();
        zelf.state.borrow_mut().restype = Some(value);
        Ok(())
    }

    #[pygetset]
    fn errcheck(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyObjectRef {
        zelf.state
            .borrow()
            .errcheck
            .clone()
            .unwrap_or_else(|| vm.ctx.none())
    }

    #[pygetset(setter)]
    fn set_errcheck(zelf: PyRef<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let value = match value {
            PySetterValue::Assign(v) if !vm.is_none(&v) => {
                if !v.is_callable() {
                    return Err(vm.new_type_error("the errcheck attribute must be callable"));
                }
                Some(v)
            }
            _ => None,
        };
        zelf.state.borrow_mut().errcheck = value;
        Ok(())
    }

    #[pyclassmethod]
    fn from_param(cls: PyTypeRef, value: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        if vm.is_none(&value) || value.class().fast_issubclass(&cls) {
            return Ok(value);
        }
        if value.is_callable() && cdata(&value).is_none() {
            return cls.as_object().call((value,), vm);
        }
        Err(vm.new_type_error(format!(
            "expected {} instance instead of {}",
            cls.name(),
            value.class().name()
        )))
    }
}

/// Callback support: what `callback.rs` needs from a function object.
impl CFuncPtr {
    pub(super) fn callback_types(
        zelf: &Py<Self>,
        vm: &VirtualMachine,
    ) -> PyResult<(Vec<PyObjectRef>, PyObjectRef, u32)> {
        let argtypes = Self::argtypes_list(zelf, vm)?.unwrap_or_default();
        Ok((argtypes, Self::restype_obj(zelf, vm), Self::flags(zelf, vm)))
    }

    pub(super) fn install_callback(
        &self,
        vm: &VirtualMachine,
        callback: crate::ffi::callback::Callback,
        callable: PyObjectRef,
    ) -> PyResult<()> {
        self.set_address(vm, callback.address())?;
        let mut st = self.state.borrow_mut();
        st.callback = Some(Rc::new(callback));
        st.callable = Some(callable);
        Ok(())
    }
}
