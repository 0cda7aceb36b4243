//! `_ctypes`: the C core of CPython's `ctypes`, written for wasmffi. Every
//! ctypes object's memory lives in host memory (see `cdata.rs`); foreign
//! calls cross once with a cached call descriptor (`function.rs`). The
//! frozen `ctypes` package in `py/` is CPython 3.14's with the changes its
//! header lists (host sizes for `_check_size`, `find_library` answered by
//! the host, memmove & co. implemented here).

pub(crate) use _ctypes::module_def;

/// `T * n` on a ctypes type makes the array type, for every ctypes
/// metaclass: their `AsNumber` implementation.
macro_rules! array_type_by_multiplying {
    ($meta:ty) => {
        impl rustpython_vm::types::AsNumber for $meta {
            fn as_number() -> &'static rustpython_vm::protocol::PyNumberMethods {
                static AS_NUMBER: rustpython_vm::protocol::PyNumberMethods =
                    rustpython_vm::protocol::PyNumberMethods {
                        multiply: Some(|a, b, vm| crate::ctypes::array::type_times(a, b, vm)),
                        ..rustpython_vm::protocol::PyNumberMethods::NOT_IMPLEMENTED
                    };
                &AS_NUMBER
            }
        }
    };
}

mod args;
mod array;
mod callback;
mod carg;
mod cdata;
mod errno;
mod function;
mod info;
mod library;
mod pointer;
mod shadow;
mod simple;
mod structure;

use std::cell::OnceCell;

use rustpython_vm::builtins::PyTypeRef;
use rustpython_vm::VirtualMachine;

thread_local! {
    static ARGUMENT_ERROR: OnceCell<PyTypeRef> = const { OnceCell::new() };
}

/// Most arguments a foreign function or callback may take (as CPython).
pub(crate) const MAX_ARGCOUNT: usize = 1024;

pub(crate) fn argument_error_type(vm: &VirtualMachine) -> PyTypeRef {
    ARGUMENT_ERROR.with(|c| {
        c.get_or_init(|| {
            vm.ctx.new_exception_type(
                "ctypes",
                "ArgumentError",
                Some(vec![vm.ctx.exceptions.exception_type.to_owned()]),
            )
        })
        .clone()
    })
}

/// What `cast(obj, T)` keeps alive, as in CPython: the result shares
/// `obj`'s `_objects` dict (created if needed) and that dict holds `obj`
/// itself under `id(obj)`, so memory reached through either stays valid as
/// long as either lives. A non-ctypes source keeps what its conversion
/// made (its host copy) instead.
fn share_keepalive(
    vm: &VirtualMachine,
    result: &rustpython_vm::PyObject,
    obj: rustpython_vm::PyObjectRef,
    converted: Option<rustpython_vm::PyObjectRef>,
) {
    use rustpython_vm::builtins::PyDict;
    use rustpython_vm::AsObject as _;
    let (Some(result_cd), Some(root)) = (cdata::cdata(result), cdata::container(&obj, vm)) else {
        if let Some(kept) = converted.or(Some(obj)) {
            cdata::keep(result, 0, kept, vm);
        }
        return;
    };
    let root_cd = cdata::cdata(&root).expect("container is a CData");
    let mut objects = root_cd.objects.borrow_mut();
    if objects.as_ref().is_none_or(|o| vm.is_none(o)) {
        *objects = Some(vm.ctx.new_dict().into());
    }
    let shared = objects.clone();
    drop(objects);
    if let Some(dict) = shared
        .as_ref()
        .and_then(|o| o.downcast_ref_if_exact::<PyDict>(vm))
    {
        let id: rustpython_vm::PyObjectRef = vm.ctx.new_int(obj.get_id()).into();
        let _ = dict.set_item(&*id, obj.clone(), vm);
    }
    *result_cd.objects.borrow_mut() = shared;
}

/// A fundamental type of the `ctypes` package (`c_int`, ...), if loaded.
pub(crate) fn simple_type(vm: &VirtualMachine, name: &str) -> Option<rustpython_vm::PyObjectRef> {
    let sys_modules = vm.sys_module.get_attr("modules", vm).ok()?;
    let ctypes = sys_modules.get_item("ctypes", vm).ok()?;
    ctypes.get_attr(vm.ctx.intern_str(name), vm).ok()
}

/// The frozen `ctypes` package that replaces the standard library's.
pub(crate) fn frozen_package(
) -> impl IntoIterator<Item = (&'static str, rustpython_vm::frozen::FrozenModule)> {
    rustpython_vm::py_freeze!(dir = "py")
}

#[rustpython_vm::pymodule]
mod _ctypes {
    use rustpython_vm::builtins::{PyModule, PyStrRef, PyType, PyTypeRef};
    use rustpython_vm::class::{PyClassImpl, StaticType};
    use rustpython_vm::function::{ArgBytesLike, OptionalArg};
    use rustpython_vm::{AsObject, Py, PyObjectRef, PyResult, VirtualMachine};

    use super::args::pointer_value;
    use super::array::{Array, ArrayType};
    use super::carg::{byref_obj, CArgObject};
    use super::cdata::{at_address, cdata, CData};
    use super::function::{CFuncPtr, FuncPtrType};
    use super::info::{int_of, stginfo, HostBlock, Shape, StgInfo};
    use super::pointer::{Pointer, PointerType};
    use super::simple::{Simple, SimpleType};
    use super::structure::{CField, StructType, Structure, Union, UnionType};
    use crate::bindings::memory;
    use crate::ffi::errors::{utf8, OrRaise};
    use crate::ffi::memory as mem;
    use crate::ffi::platform::facts;
    use crate::ffi::prim::decode_wide;

    /// What every ctypes metaclass has in common, installed once here rather
    /// than in each: `__pointer_type__` (the cached `POINTER(T)`), and
    /// `from_address` & co. CPython defines those on the metaclasses, so they
    /// show in `dir(type(Structure))`; ours are classmethods of `_CData`,
    /// which every ctypes class inherits and which attribute lookup on a class
    /// finds first, so the metaclass methods forward to them.
    fn install_metaclass_protocol(vm: &VirtualMachine, meta: &'static Py<PyType>) {
        use rustpython_vm::builtins::PyTypeRef;
        use rustpython_vm::function::{FuncArgs, PyMethodFlags, PySetterValue};
        let pointer_type = vm.ctx.new_static_getset(
            "__pointer_type__",
            meta,
            |cls: PyTypeRef, vm: &VirtualMachine| super::pointer::pointer_type_get(&cls, vm),
            |cls: PyTypeRef, value: PySetterValue, vm: &VirtualMachine| {
                super::pointer::pointer_type_set(&cls, value, vm)
            },
        );
        meta.set_attr(vm.ctx.intern_str("__pointer_type__"), pointer_type.into());
        for name in ["from_address", "from_buffer", "from_buffer_copy", "in_dll"] {
            let forward = move |cls: PyObjectRef, args: FuncArgs, vm: &VirtualMachine| {
                vm.call_method(&cls, name, args)
            };
            let def = vm
                .ctx
                .new_method_def(name, forward, PyMethodFlags::METHOD, None);
            meta.set_attr(vm.ctx.intern_str(name), def.build_method(meta, vm).into());
        }
    }

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        // metaclasses before the classes that use them
        SimpleType::make_static_type();
        PointerType::make_static_type();
        ArrayType::make_static_type();
        StructType::make_static_type();
        UnionType::make_static_type();
        FuncPtrType::make_static_type();
        let classes: [(&str, PyTypeRef); 10] = [
            ("_CData", CData::make_static_type()),
            ("_SimpleCData", Simple::make_static_type()),
            ("_Pointer", Pointer::make_static_type()),
            ("Array", Array::make_static_type()),
            ("Structure", Structure::make_static_type()),
            ("Union", Union::make_static_type()),
            ("CFuncPtr", CFuncPtr::make_static_type()),
            ("CField", CField::make_static_type()),
            ("CArgObject", CArgObject::make_static_type()),
            ("StgInfo", StgInfo::make_static_type()),
        ];
        for (name, class) in classes {
            module.set_attr(name, class, vm)?;
        }
        HostBlock::make_static_type();
        for (name, class) in [
            ("PyCSimpleType", SimpleType::static_type()),
            ("PyCPointerType", PointerType::static_type()),
            ("PyCArrayType", ArrayType::static_type()),
            ("PyCStructType", StructType::static_type()),
            ("UnionType", UnionType::static_type()),
            ("PyCFuncPtrType", FuncPtrType::static_type()),
        ] {
            module.set_attr(name, class.to_owned(), vm)?;
            install_metaclass_protocol(vm, class);
        }
        for name in ["RTLD_LOCAL", "RTLD_GLOBAL"] {
            module.set_attr(name, vm.ctx.new_int(facts().dlopen_flag(name)), vm)?;
        }
        module.set_attr("ArgumentError", super::argument_error_type(vm), vm)?;
        let time_t = facts()
            .raw
            .c_types
            .iter()
            .find(|t| t.name == "time_t")
            .map_or_else(|| facts().c_type("long").size, |t| t.size);
        module.set_attr("SIZEOF_TIME_T", vm.ctx.new_int(time_t), vm)?;
        module.set_attr("_pointer_type_cache", vm.ctx.new_dict(), vm)?;
        // The *_addr names of CPython's C core are real native addresses
        // there; here they are the Rust implementations themselves, which
        // CFUNCTYPE(...)(f) accepts as callables.
        for (alias, name) in [
            ("_memmove_addr", "memmove"),
            ("_memset_addr", "memset"),
            ("_string_at_addr", "string_at"),
            ("_wstring_at_addr", "wstring_at"),
            ("_cast_addr", "cast"),
            ("_memoryview_at_addr", "memoryview_at"),
        ] {
            let f = module.as_object().get_attr(name, vm)?;
            module.set_attr(alias, f, vm)?;
        }
        Ok(())
    }

    #[pyattr(name = "__version__")]
    const VERSION: &str = "1.1.0";
    #[pyattr]
    const FUNCFLAG_CDECL: u32 = super::function::FUNCFLAG_CDECL;
    #[pyattr]
    const FUNCFLAG_PYTHONAPI: u32 = super::function::FUNCFLAG_PYTHONAPI;
    #[pyattr]
    const FUNCFLAG_USE_ERRNO: u32 = super::function::FUNCFLAG_USE_ERRNO;
    #[pyattr]
    const FUNCFLAG_USE_LASTERROR: u32 = super::function::FUNCFLAG_USE_LASTERROR;
    #[pyattr]
    const CTYPES_MAX_ARGCOUNT: usize = super::MAX_ARGCOUNT;

    fn type_or_instance_info(vm: &VirtualMachine, obj: &PyObjectRef) -> PyResult<(usize, usize)> {
        if let Some(cd) = cdata(obj) {
            return Ok((cd.size(), cd.info.align));
        }
        if obj.downcast_ref::<PyType>().is_some() {
            let info = stginfo(vm, obj)?;
            return Ok((info.size, info.align));
        }
        Err(vm.new_type_error("this type has no size"))
    }

    /// Pickle support: a new instance of `typ` (without `__init__`) given
    /// the state `__reduce__` produced.
    #[pyfunction]
    fn _unpickle(
        typ: PyObjectRef,
        state: rustpython_vm::builtins::PyTupleRef,
        vm: &VirtualMachine,
    ) -> PyResult {
        let obj = vm.call_method(&typ, "__new__", (typ.clone(),))?;
        vm.call_method(&obj, "__setstate__", state.as_slice().to_vec())?;
        Ok(obj)
    }

    #[pyfunction]
    fn sizeof(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        Ok(type_or_instance_info(vm, &obj)?.0)
    }

    #[pyfunction]
    fn alignment(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        Ok(type_or_instance_info(vm, &obj)?.1)
    }

    #[pyfunction]
    fn byref(obj: PyObjectRef, offset: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult {
        Ok(byref_obj(vm, obj, offset.unwrap_or(0))?.into())
    }

    #[pyfunction]
    fn addressof(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<u64> {
        cdata(&obj)
            .map(|c| c.addr())
            .ok_or_else(|| vm.new_type_error("invalid type"))
    }

    #[pyfunction]
    fn resize(obj: PyObjectRef, size: isize, vm: &VirtualMachine) -> PyResult<()> {
        let cd = cdata(&obj).ok_or_else(|| {
            vm.new_type_error(format!(
                "expected ctypes instance, not {}",
                obj.class().name()
            ))
        })?;
        if size < 0 {
            return Err(vm.new_value_error("minimum size is 0"));
        }
        cd.resize(vm, size as usize)
    }

    /// The errno the last `use_errno` call left, in the guest's numbering
    /// (see `super::errno`), so it compares with the `errno` module and makes
    /// the right `OSError` subclass.
    #[pyfunction]
    fn get_errno(vm: &VirtualMachine) -> i32 {
        super::errno::to_guest(vm, crate::ffi::errno())
    }

    #[pyfunction]
    fn set_errno(value: i32, vm: &VirtualMachine) -> i32 {
        let old = crate::ffi::set_errno(super::errno::to_host(vm, value));
        super::errno::to_guest(vm, old)
    }

    /// `dlopen(name, mode)`: a handle naming the library the host opened.
    #[pyfunction]
    fn dlopen(
        name: Option<PyStrRef>,
        mode: OptionalArg<i32>,
        vm: &VirtualMachine,
    ) -> PyResult<u64> {
        let name = name.map(|n| utf8(vm, &n).map(str::to_owned)).transpose()?;
        let mode = mode
            .unwrap_or_else(|| facts().dlopen_flag("RTLD_NOW") | facts().dlopen_flag("RTLD_LOCAL"))
            | facts().dlopen_flag("RTLD_NOW");
        super::library::open(vm, name.as_deref(), mode)
    }

    #[pyfunction]
    fn dlsym(handle: u64, name: PyStrRef, vm: &VirtualMachine) -> PyResult<u64> {
        super::library::symbol(vm, handle, utf8(vm, &name)?)
    }

    #[pyfunction]
    fn dlclose(handle: u64, vm: &VirtualMachine) -> PyResult<()> {
        super::library::close(vm, handle)
    }

    /// `ctypes.util.find_library`, answered by the host among the
    /// libraries the policy allows.
    #[pyfunction]
    fn _find_library(name: PyStrRef, vm: &VirtualMachine) -> PyResult<Option<String>> {
        Ok(crate::bindings::library::find(utf8(vm, &name)?))
    }

    #[pyfunction]
    fn _calcsize(fmt: PyStrRef, vm: &VirtualMachine) -> PyResult<usize> {
        super::simple::calcsize(vm, utf8(vm, &fmt)?)
    }

    #[pyfunction]
    fn buffer_info(ty: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        Ok(super::simple::buffer_info(vm, &ty)?.into())
    }

    /// Argument `index` (from 0) of memmove & co., which CPython declares as
    /// foreign functions taking `c_void_p`: what it cannot convert is an
    /// ArgumentError, as there.
    fn address_param(
        vm: &VirtualMachine,
        obj: &PyObjectRef,
        index: usize,
    ) -> PyResult<(u64, Option<PyObjectRef>)> {
        let converted = pointer_value(vm, obj).and_then(|p| {
            p.ok_or_else(|| {
                vm.new_type_error(format!(
                    "expected a pointer, an address or a ctypes instance, not {}",
                    obj.class().name()
                ))
            })
        });
        converted.map_err(|e| {
            if e.fast_isinstance(vm.ctx.exceptions.type_error) {
                super::function::argument_error(vm, index, e)
            } else {
                e
            }
        })
    }

    /// `ctypes.memmove(dst, src, count)`; returns dst.
    #[pyfunction]
    fn memmove(
        dst: PyObjectRef,
        src: PyObjectRef,
        count: u64,
        vm: &VirtualMachine,
    ) -> PyResult<u64> {
        super::shadow::sync_all(vm)?;
        let d = memmove_unsynced(dst, src, count, vm)?;
        super::shadow::sync_all(vm)?;
        Ok(d)
    }

    fn memmove_unsynced(
        dst: PyObjectRef,
        src: PyObjectRef,
        count: u64,
        vm: &VirtualMachine,
    ) -> PyResult<u64> {
        let (d, _keep) = address_param(vm, &dst, 0)?;
        if let Some(b) = src.downcast_ref::<rustpython_vm::builtins::PyBytes>() {
            let bytes = b.as_bytes();
            let n = (count as usize).min(bytes.len());
            if (count as usize) > bytes.len() {
                return Err(vm.new_value_error("count exceeds the source bytes' length"));
            }
            mem::write(vm, d, &bytes[..n])?;
            return Ok(d);
        }
        let (s, _keep2) = address_param(vm, &src, 1)?;
        memory::copy(d, s, count).or_raise(vm)?;
        Ok(d)
    }

    #[pyfunction]
    fn memset(dst: PyObjectRef, c: i64, count: u64, vm: &VirtualMachine) -> PyResult<u64> {
        let (d, _keep) = address_param(vm, &dst, 0)?;
        super::shadow::sync_all(vm)?;
        memory::fill(d, c as u8, count).or_raise(vm)?;
        super::shadow::sync_all(vm)?;
        Ok(d)
    }

    #[pyfunction]
    fn string_at(ptr: PyObjectRef, size: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult {
        let (addr, _keep) = address_param(vm, &ptr, 0)?;
        let max = size.into_option().filter(|&n| n >= 0).map(|n| n as u64);
        super::shadow::sync_all(vm)?;
        Ok(vm.ctx.new_bytes(mem::read_string(vm, addr, 1, max)?).into())
    }

    #[pyfunction]
    fn wstring_at(ptr: PyObjectRef, size: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult {
        let (addr, _keep) = address_param(vm, &ptr, 0)?;
        let max = size.into_option().filter(|&n| n >= 0).map(|n| n as u64);
        let bytes = mem::read_string(vm, addr, facts().wchar_size(), max)?;
        Ok(vm.ctx.new_str(decode_wide(vm, &bytes)?).into())
    }

    /// A copy: guest memory cannot alias host memory (documented).
    #[pyfunction]
    fn memoryview_at(
        ptr: PyObjectRef,
        size: isize,
        readonly: OptionalArg<bool>,
        vm: &VirtualMachine,
    ) -> PyResult {
        let (addr, _keep) = address_param(vm, &ptr, 0)?;
        if size < 0 {
            return Err(vm.new_value_error("negative size"));
        }
        let data = mem::read(vm, addr, size as usize)?;
        let obj: PyObjectRef = if readonly.unwrap_or(false) {
            vm.ctx.new_bytes(data).into()
        } else {
            vm.ctx.new_bytearray(data).into()
        };
        let mv = vm.builtins.get_attr("memoryview", vm)?;
        mv.call((obj,), vm)
    }

    /// `cast(obj, typ)`: a `typ` (pointer-like) whose value is obj's address.
    #[pyfunction]
    fn cast(obj: PyObjectRef, typ: PyTypeRef, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, typ.as_object())?;
        // CPython's cast_check_pointertype: pointers, function pointers and
        // the simple types that hold an address.
        let pointer_type = matches!(info.shape, Shape::Pointer(_) | Shape::Func)
            || info
                .simple()
                .is_some_and(|s| matches!(s.code, 'P' | 'z' | 'Z' | 'O'));
        if !pointer_type {
            return Err(vm.new_type_error(format!(
                "cast() argument 2 must be a pointer type, not {}",
                typ.name()
            )));
        }
        let (addr, keep) = address_param(vm, &obj, 0)?;
        if matches!(info.shape, Shape::Func) {
            // a function pointer is made from its address (kept in its state)
            return typ.as_object().call((vm.ctx.new_int(addr),), vm);
        }
        let cd = CData::alloc(vm, info)?;
        memory::store(cd.addr(), super::info::pointer_prim().scalar, addr).or_raise(vm)?;
        let result = super::cdata::instantiate(vm, typ, cd)?;
        super::share_keepalive(vm, &result, obj, keep);
        Ok(result)
    }

    #[pyfunction(name = "POINTER")]
    fn pointer_type(cls: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        if let Some(t) = cls.downcast_ref::<PyType>() {
            if let Ok(p) = super::pointer::pointer_type_get(t, vm) {
                return Ok(p);
            }
            let name = format!("LP_{}", t.name());
            let dict = vm.ctx.new_dict();
            dict.set_item("_type_", cls.clone(), vm)?;
            let base: PyObjectRef = Pointer::static_type().to_owned().into();
            return PointerType::static_type().as_object().call(
                (vm.ctx.new_str(name), vm.ctx.new_tuple(vec![base]), dict),
                vm,
            );
        }
        Err(vm.new_type_error("must be a ctypes type"))
    }

    #[pyfunction]
    fn pointer(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        let t = pointer_type(obj.class().to_owned().into(), vm)?;
        t.call((obj,), vm)
    }

    #[pyfunction]
    fn _from_address(cls: PyTypeRef, addr: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        let addr = int_of(vm, &addr)?;
        at_address(vm, cls, addr, None)
    }

    #[pyfunction]
    fn _buffer_copy(cls: PyTypeRef, data: ArgBytesLike, vm: &VirtualMachine) -> PyResult {
        let info = stginfo(vm, cls.as_object())?;
        let bytes = data.borrow_buf().to_vec();
        let cd = CData::alloc(vm, info)?;
        let n = bytes.len().min(cd.size());
        mem::write(vm, cd.addr(), &bytes[..n])?;
        super::cdata::instantiate(vm, cls, cd)
    }

    #[pyfunction]
    fn _is_ctypes_instance(obj: PyObjectRef) -> bool {
        cdata(&obj).is_some() || obj.downcast_ref::<CArgObject>().is_some()
    }
}
