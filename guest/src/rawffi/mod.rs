//! `_rawffi`: the raw FFI layer (see README.md beside this file). The
//! interpreter-level part is here; the application-level part (`app.py`,
//! the Structure/Array shapes) runs in the same module when it is imported.

pub(crate) use _rawffi::module_def;

mod callback;
mod convert;

#[rustpython_vm::pymodule]
mod _rawffi {
    use std::rc::Rc;

    use rustpython_vm::builtins::{PyBytesRef, PyDictRef, PyModule, PyStrRef, PyTypeRef};
    use rustpython_vm::function::{ArgBytesLike, FuncArgs, OptionalArg};
    use rustpython_vm::types::{Callable, Constructor, Representable};
    use rustpython_vm::{pyclass, Py, PyObjectRef, PyPayload, PyResult, VirtualMachine};

    use super::convert::{pack_call, parse_spec, unpack_result, SpecSource};
    use crate::bindings::{call, library, memory};
    use crate::ffi::call::{Aggregate, CallSpec, ValueSpec};
    use crate::ffi::errors::{utf8, OrRaise};
    use crate::ffi::memory::read_string;
    use crate::ffi::platform::facts;
    use crate::ffi::prim::{
        decode_bits, decode_bytes, decode_wide, encode, prim_from_str, Encoded, Kind,
    };

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        for name in ["RTLD_LOCAL", "RTLD_GLOBAL", "RTLD_NOW", "RTLD_LAZY"] {
            module.set_attr(name, vm.ctx.new_int(facts().dlopen_flag(name)), vm)?;
        }
        // The application-level half of this mixed module.
        let code = rustpython_vm::py_compile!(file = "app.py");
        let scope = rustpython_vm::scope::Scope::with_builtins(None, module.dict(), vm);
        vm.run_code_obj(vm.ctx.new_code(code), scope)?;
        Ok(())
    }

    #[pyattr(once, name = "SegfaultException")]
    fn segfault_exception(vm: &VirtualMachine) -> PyTypeRef {
        vm.ctx.new_exception_type(
            "_rawffi",
            "SegfaultException",
            Some(vec![vm.ctx.exceptions.runtime_error.to_owned()]),
        )
    }

    #[pyattr(once)]
    fn platform(vm: &VirtualMachine) -> PyDictRef {
        let raw = &facts().raw;
        let dict = vm.ctx.new_dict();
        let c_types = vm.ctx.new_dict();
        for t in &raw.c_types {
            let entry = vm.ctx.new_tuple(vec![
                vm.ctx.new_int(t.size).into(),
                vm.ctx.new_int(t.alignment).into(),
                vm.ctx.new_bool(t.is_signed).into(),
            ]);
            let _ = c_types.set_item(t.name.as_str(), entry.into(), vm);
        }
        let items: [(&str, PyObjectRef); 8] = [
            ("pointer_width", vm.ctx.new_int(raw.pointer_width).into()),
            ("big_endian", vm.ctx.new_bool(raw.big_endian).into()),
            ("os", vm.ctx.new_str(raw.os.as_str()).into()),
            ("arch", vm.ctx.new_str(raw.arch.as_str()).into()),
            ("libc", vm.ctx.new_str(raw.libc.as_str()).into()),
            (
                "libc_soname",
                vm.ctx.new_str(raw.libc_soname.as_str()).into(),
            ),
            (
                "libm_soname",
                vm.ctx.new_str(raw.libm_soname.as_str()).into(),
            ),
            ("c_types", c_types.into()),
        ];
        for (key, value) in items {
            let _ = dict.set_item(key, value, vm);
        }
        dict
    }

    #[pyattr(once)]
    fn errno_codes(vm: &VirtualMachine) -> PyDictRef {
        let dict = vm.ctx.new_dict();
        for (name, value) in &facts().raw.errno_codes {
            let _ = dict.set_item(name.as_str(), vm.ctx.new_int(*value).into(), vm);
        }
        dict
    }

    #[pyfunction]
    fn get_errno() -> i32 {
        crate::ffi::errno()
    }

    #[pyfunction]
    fn set_errno(value: i32) -> i32 {
        crate::ffi::set_errno(value)
    }

    #[pyfunction]
    fn sizeof(tp: PyObjectRef, vm: &VirtualMachine) -> PyResult<u32> {
        Ok(parse_spec(vm, &tp, SpecSource::Field)?.0.size())
    }

    #[pyfunction]
    fn alignment(tp: PyObjectRef, vm: &VirtualMachine) -> PyResult<u32> {
        Ok(parse_spec(vm, &tp, SpecSource::Field)?.0.align())
    }

    #[pyfunction]
    fn malloc(size: u64, align: OptionalArg<u32>, vm: &VirtualMachine) -> PyResult<u64> {
        memory::alloc(size, align.unwrap_or(16)).or_raise(vm)
    }

    #[pyfunction]
    fn free(address: u64, vm: &VirtualMachine) -> PyResult<()> {
        memory::free(address).or_raise(vm)
    }

    #[pyfunction]
    fn memread(address: u64, len: usize, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
        Ok(vm
            .ctx
            .new_bytes(crate::ffi::memory::read(vm, address, len)?))
    }

    #[pyfunction]
    fn memwrite(address: u64, data: ArgBytesLike, vm: &VirtualMachine) -> PyResult<()> {
        data.with_ref(|bytes| crate::ffi::memory::write(vm, address, bytes))
    }

    #[pyfunction]
    fn memmove(dst: u64, src: u64, len: u64, vm: &VirtualMachine) -> PyResult<()> {
        memory::copy(dst, src, len).or_raise(vm)
    }

    #[pyfunction]
    fn memset(dst: u64, byte: u8, len: u64, vm: &VirtualMachine) -> PyResult<()> {
        memory::fill(dst, byte, len).or_raise(vm)
    }

    #[pyfunction]
    fn load(address: u64, code: PyStrRef, vm: &VirtualMachine) -> PyResult {
        let prim = prim_from_str(vm, utf8(vm, &code)?)?;
        match prim.kind {
            Kind::LongDouble => {
                let bytes = crate::ffi::memory::read(vm, address, prim.size as usize)?;
                decode_bytes(vm, prim, &bytes)
            }
            Kind::Void => Err(vm.new_type_error("cannot load void")),
            _ => decode_bits(vm, prim, memory::load(address, prim.scalar).or_raise(vm)?),
        }
    }

    #[pyfunction]
    fn store(
        address: u64,
        code: PyStrRef,
        value: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let prim = prim_from_str(vm, utf8(vm, &code)?)?;
        match encode(vm, prim, &value)? {
            Encoded::Bits(bits) => memory::store(address, prim.scalar, bits).or_raise(vm),
            Encoded::Bytes(bytes) => crate::ffi::memory::write(vm, address, &bytes),
            Encoded::Temporary(_) => Err(vm.new_type_error(
                "cannot store a string into memory by value: allocate it and store its address",
            )),
        }
    }

    #[pyfunction]
    fn charp2string(address: u64, maxlen: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult {
        if address == 0 {
            return Ok(vm.ctx.none());
        }
        let max = maxlen.into_option().filter(|&n| n >= 0).map(|n| n as u64);
        Ok(vm.ctx.new_bytes(read_string(vm, address, 1, max)?).into())
    }

    #[pyfunction]
    fn wcharp2unicode(address: u64, maxlen: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult {
        if address == 0 {
            return Ok(vm.ctx.none());
        }
        let max = maxlen.into_option().filter(|&n| n >= 0).map(|n| n as u64);
        let bytes = read_string(vm, address, facts().wchar_size(), max)?;
        Ok(vm.ctx.new_str(decode_wide(vm, &bytes)?).into())
    }

    #[pyfunction]
    fn strlen(address: u64, vm: &VirtualMachine) -> PyResult<u64> {
        memory::string_length(address, 1).or_raise(vm)
    }

    /// A native library opened by the host.
    #[pyattr]
    #[pyclass(name = "CDLL")]
    #[derive(Debug, PyPayload)]
    struct Cdll {
        lib: library::Library,
        name: Option<String>,
    }

    impl Constructor for Cdll {
        type Args = (Option<PyStrRef>, OptionalArg<i32>);

        fn py_new(
            _cls: &Py<rustpython_vm::builtins::PyType>,
            (name, mode): Self::Args,
            vm: &VirtualMachine,
        ) -> PyResult<Self> {
            let name = name.map(|n| utf8(vm, &n).map(str::to_owned)).transpose()?;
            let mode = mode.unwrap_or_else(|| {
                facts().dlopen_flag("RTLD_NOW") | facts().dlopen_flag("RTLD_LOCAL")
            });
            let lib = library::Library::open(name.as_deref(), mode).or_raise(vm)?;
            Ok(Cdll { lib, name })
        }
    }

    #[derive(rustpython_vm::FromArgs)]
    struct PtrArgs {
        #[pyarg(positional)]
        name: PyStrRef,
        #[pyarg(positional)]
        argtypes: PyObjectRef,
        #[pyarg(positional)]
        restype: PyObjectRef,
        #[pyarg(any, optional)]
        variadic: OptionalArg<Option<u32>>,
    }

    #[pyclass(with(Constructor, Representable))]
    impl Cdll {
        #[pygetset]
        fn name(&self) -> Option<String> {
            self.name.clone()
        }

        #[pygetset]
        fn path(&self) -> String {
            self.lib.path()
        }

        /// A callable for `name` with the given argument and result types.
        #[pymethod]
        fn ptr(&self, args: PtrArgs, vm: &VirtualMachine) -> PyResult<FuncPtr> {
            let (spec, arg_shapes, ret_shape) =
                FuncPtr::build(vm, &args.argtypes, &args.restype, args.variadic.flatten())?;
            let function = call::Function::bind(&self.lib, utf8(vm, &args.name)?, &spec.signature)
                .or_raise(vm)?;
            Ok(FuncPtr {
                function,
                spec,
                arg_shapes,
                ret_shape,
            })
        }

        #[pymethod]
        fn getaddressindll(&self, name: PyStrRef, vm: &VirtualMachine) -> PyResult<u64> {
            self.lib.symbol(utf8(vm, &name)?).or_raise(vm)
        }
    }

    impl Representable for Cdll {
        fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
            Ok(format!(
                "<_rawffi.CDLL {:?} at {}>",
                zelf.name.as_deref().unwrap_or("<process>"),
                zelf.lib.path()
            ))
        }
    }

    /// A native function: an address, a prepared signature, and how to turn
    /// Python values into arguments and the result back.
    #[pyattr]
    #[pyclass(name = "FuncPtr")]
    #[derive(Debug, PyPayload)]
    struct FuncPtr {
        function: call::Function,
        spec: CallSpec,
        /// Shapes of struct arguments/result, for by-value conversion.
        arg_shapes: Vec<Option<PyObjectRef>>,
        ret_shape: Option<PyObjectRef>,
    }

    /// The parts of a FuncPtr that do not depend on its address.
    type Unbound = (CallSpec, Vec<Option<PyObjectRef>>, Option<PyObjectRef>);

    impl FuncPtr {
        fn build(
            vm: &VirtualMachine,
            argtypes: &PyObjectRef,
            restype: &PyObjectRef,
            variadic: Option<u32>,
        ) -> PyResult<Unbound> {
            let mut args = Vec::new();
            let mut arg_shapes = Vec::new();
            for tp in argtypes.try_to_value::<Vec<PyObjectRef>>(vm)? {
                let (spec, shape) = parse_spec(vm, &tp, SpecSource::Argument)?;
                args.push(spec);
                arg_shapes.push(shape);
            }
            let (ret, ret_shape) = parse_spec(vm, restype, SpecSource::Result)?;
            let ret = match ret {
                ValueSpec::Prim(p) if p.kind == Kind::Void => None,
                other => Some(other),
            };
            Ok((
                CallSpec::new(vm, args, ret, variadic)?,
                arg_shapes,
                ret_shape,
            ))
        }
    }

    impl Constructor for FuncPtr {
        type Args = (u64, PyObjectRef, PyObjectRef, OptionalArg<Option<u32>>);

        fn py_new(
            _cls: &Py<rustpython_vm::builtins::PyType>,
            (address, argtypes, restype, variadic): Self::Args,
            vm: &VirtualMachine,
        ) -> PyResult<Self> {
            let (spec, arg_shapes, ret_shape) =
                FuncPtr::build(vm, &argtypes, &restype, variadic.flatten())?;
            let function = call::Function::from_address(address, &spec.signature).or_raise(vm)?;
            Ok(FuncPtr {
                function,
                spec,
                arg_shapes,
                ret_shape,
            })
        }
    }

    impl Callable for FuncPtr {
        type Args = FuncArgs;

        fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
            if !args.kwargs.is_empty() {
                return Err(vm.new_type_error("native functions take no keyword arguments"));
            }
            let buffer = pack_call(vm, &zelf.spec, &zelf.arg_shapes, &args.args)?;
            let returned = crate::ffi::call::invoke(vm, &zelf.function, buffer)?;
            unpack_result(vm, &zelf.spec, zelf.ret_shape.as_ref(), returned)
        }
    }

    #[pyclass(with(Constructor, Callable))]
    impl FuncPtr {
        #[pygetset]
        fn address(&self) -> u64 {
            self.function.address()
        }
    }

    /// A C function pointer that calls a Python callable:
    /// `CallbackPtr(callable, argtypes, restype)`. Its address is `.buffer`;
    /// it is retired when this object dies.
    #[pyattr]
    #[pyclass(name = "CallbackPtr")]
    #[derive(Debug, PyPayload)]
    struct CallbackPtr {
        callback: crate::ffi::callback::Callback,
    }

    impl Constructor for CallbackPtr {
        type Args = (PyObjectRef, PyObjectRef, PyObjectRef);

        fn py_new(
            _cls: &Py<rustpython_vm::builtins::PyType>,
            (callable, argtypes, restype): Self::Args,
            vm: &VirtualMachine,
        ) -> PyResult<Self> {
            if !callable.is_callable() {
                return Err(vm.new_type_error("CallbackPtr needs a callable"));
            }
            let (spec, arg_shapes, _) = FuncPtr::build(vm, &argtypes, &restype, None)?;
            let spec = Rc::new(spec);
            let handler = super::callback::RawHandler {
                callable,
                spec: spec.clone(),
                arg_shapes,
            };
            let callback = crate::ffi::callback::create(vm, &spec, Rc::new(handler))?;
            Ok(CallbackPtr { callback })
        }
    }

    #[pyclass(with(Constructor))]
    impl CallbackPtr {
        #[pygetset]
        fn buffer(&self) -> u64 {
            self.callback.address()
        }

        #[pygetset]
        fn address(&self) -> u64 {
            self.callback.address()
        }
    }

    /// The host's layout of a struct or union, from a list of field types.
    #[pyattr]
    #[pyclass(name = "StructLayout")]
    #[derive(Debug, PyPayload)]
    pub(super) struct StructLayoutObj {
        pub(super) aggregate: Rc<Aggregate>,
        /// Offset of each declared field (for inline arrays, of the first element).
        field_offsets: Vec<u32>,
    }

    impl Constructor for StructLayoutObj {
        type Args = (PyObjectRef, OptionalArg<bool>);

        fn py_new(
            _cls: &Py<rustpython_vm::builtins::PyType>,
            (fields, is_union): Self::Args,
            vm: &VirtualMachine,
        ) -> PyResult<Self> {
            let mut flat = Vec::new();
            let mut first_of_field = Vec::new();
            for field in fields.try_to_value::<Vec<PyObjectRef>>(vm)? {
                let (spec, count) = match field.downcast_ref::<rustpython_vm::builtins::PyTuple>() {
                    Some(t) if t.len() == 2 => (
                        parse_spec(vm, &t[0], SpecSource::Field)?.0,
                        t[1].try_to_value::<usize>(vm)?,
                    ),
                    _ => (parse_spec(vm, &field, SpecSource::Field)?.0, 1),
                };
                if count == 0 {
                    return Err(vm.new_value_error("an inline array needs at least one element"));
                }
                first_of_field.push(flat.len());
                flat.extend(std::iter::repeat_n(spec, count));
            }
            let aggregate = Aggregate::new(vm, &flat, is_union.unwrap_or(false))?;
            let field_offsets = first_of_field
                .iter()
                .map(|&i| aggregate.layout.offsets[i])
                .collect();
            Ok(StructLayoutObj {
                aggregate: Rc::new(aggregate),
                field_offsets,
            })
        }
    }

    #[pyclass(with(Constructor))]
    impl StructLayoutObj {
        #[pygetset]
        fn size(&self) -> u32 {
            self.aggregate.layout.size
        }

        #[pygetset]
        fn alignment(&self) -> u32 {
            self.aggregate.layout.alignment
        }

        #[pygetset]
        fn offsets(&self, vm: &VirtualMachine) -> PyObjectRef {
            let items = self
                .field_offsets
                .iter()
                .map(|&o| vm.ctx.new_int(o).into())
                .collect();
            vm.ctx.new_list(items).into()
        }
    }
}
