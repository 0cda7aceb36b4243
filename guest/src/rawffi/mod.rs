//! `_rawffi`: the raw FFI layer (README.md beside this file is its API,
//! which this module follows exactly), on CPython through PyO3. The interpreter-level
//! part is here; the application-level part (`app.py`, the Structure/Array
//! shapes) runs in the same module when it is imported.

mod callback;
mod convert;

#[pyo3::pymodule]
pub(crate) mod _rawffi {
    use std::rc::Rc;

    use pyo3::exceptions::PyTypeError;
    use pyo3::prelude::*;
    use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
    use pyo3::{ffi, PyTraverseError, PyVisit};

    use super::convert::{pack_call, parse_spec, unpack_result, SpecSource};
    use crate::ffi::call::{Aggregate, CallSpec, NoThreads, ValueSpec};
    use crate::ffi::errors::{OrRaise, SegfaultException};
    use crate::ffi::memory::read_string;
    use crate::ffi::platform::{facts, wire_to_native};
    use crate::ffi::prim::{
        decode_bits, decode_bytes, decode_wide, encode, prim_from_str, utf8, Encoded, Kind,
    };
    use crate::ffi::wit::{call, library, memory};

    /// How a lone surrogate in a name or type code is reported.
    const NO_SURROGATES: &str = "surrogates are not allowed here";

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        module.add("SegfaultException", py.get_type::<SegfaultException>())?;
        for name in ["RTLD_LOCAL", "RTLD_GLOBAL", "RTLD_NOW", "RTLD_LAZY"] {
            module.add(name, facts().dlopen_flag(name))?;
        }
        module.add("platform", platform(py)?)?;
        module.add("errno_codes", errno_codes(py)?)?;
        // PyO3 lists what `add` added in `__all__`; the module had none (so
        // `import *` takes every public name, app.py's shapes too).
        let dict = module.dict();
        if dict.contains("__all__")? {
            dict.del_item("__all__")?;
        }
        // The application-level half of this mixed module, in its namespace
        // (compiled when the guest was built).
        crate::app_code::exec(py, crate::app_code::RAWFFI, &dict)
    }

    fn platform(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let raw = &facts().raw;
        let dict = PyDict::new(py);
        let c_types = PyDict::new(py);
        for t in &raw.c_types {
            c_types.set_item(t.name.as_str(), (t.size, t.alignment, t.is_signed))?;
        }
        dict.set_item("pointer_width", raw.pointer_width)?;
        dict.set_item("big_endian", raw.big_endian)?;
        dict.set_item("os", raw.os.as_str())?;
        dict.set_item("arch", raw.arch.as_str())?;
        dict.set_item("libc", raw.libc.as_str())?;
        dict.set_item("libc_soname", raw.libc_soname.as_str())?;
        dict.set_item("libm_soname", raw.libm_soname.as_str())?;
        dict.set_item("c_types", c_types)?;
        Ok(dict)
    }

    fn errno_codes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in &facts().raw.errno_codes {
            dict.set_item(name.as_str(), *value)?;
        }
        Ok(dict)
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
    fn sizeof(tp: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(parse_spec(tp, SpecSource::Field)?.0.size())
    }

    #[pyfunction]
    fn alignment(tp: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(parse_spec(tp, SpecSource::Field)?.0.align())
    }

    #[pyfunction]
    #[pyo3(signature = (size, align=16, /))]
    fn malloc(py: Python<'_>, size: u64, align: u32) -> PyResult<u64> {
        memory::alloc(size, align).or_raise(py)
    }

    #[pyfunction]
    fn free(py: Python<'_>, address: u64) -> PyResult<()> {
        memory::free(address).or_raise(py)
    }

    #[pyfunction]
    fn memread(py: Python<'_>, address: u64, len: usize) -> PyResult<Bound<'_, PyBytes>> {
        Ok(PyBytes::new(
            py,
            &crate::ffi::memory::read(py, address, len)?,
        ))
    }

    #[pyfunction]
    fn memwrite(py: Python<'_>, address: u64, data: &Bound<'_, PyAny>) -> PyResult<()> {
        crate::ffi::memory::write(py, address, &crate::ffi::memory::bytes_like(data)?)
    }

    #[pyfunction]
    fn memmove(py: Python<'_>, dst: u64, src: u64, len: u64) -> PyResult<()> {
        memory::copy(dst, src, len).or_raise(py)
    }

    #[pyfunction]
    fn memset(py: Python<'_>, dst: u64, byte: u8, len: u64) -> PyResult<()> {
        memory::fill(dst, byte, len).or_raise(py)
    }

    #[pyfunction]
    fn load<'py>(
        py: Python<'py>,
        address: u64,
        code: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let prim = prim_from_str(utf8(code, NO_SURROGATES)?)?;
        match prim.kind {
            Kind::LongDouble => {
                let mut bytes = crate::ffi::memory::read(py, address, prim.size as usize)?;
                wire_to_native(&mut bytes);
                decode_bytes(py, prim, &bytes)
            }
            Kind::Void => Err(PyTypeError::new_err("cannot load void")),
            _ => decode_bits(py, prim, memory::load(address, prim.scalar).or_raise(py)?),
        }
    }

    #[pyfunction]
    fn store(
        py: Python<'_>,
        address: u64,
        code: &Bound<'_, PyString>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let prim = prim_from_str(utf8(code, NO_SURROGATES)?)?;
        match encode(prim, value)? {
            Encoded::Bits(bits) => memory::store(address, prim.scalar, bits).or_raise(py),
            Encoded::Bytes(mut bytes) => {
                wire_to_native(&mut bytes);
                crate::ffi::memory::write(py, address, &bytes)
            }
            Encoded::Temporary(_) => Err(PyTypeError::new_err(
                "cannot store a string into memory by value: allocate it and store its address",
            )),
        }
    }

    #[pyfunction]
    #[pyo3(signature = (address, maxlen=-1, /))]
    fn charp2string(py: Python<'_>, address: u64, maxlen: i64) -> PyResult<Py<PyAny>> {
        if address == 0 {
            return Ok(py.None());
        }
        let max = u64::try_from(maxlen).ok();
        Ok(PyBytes::new(py, &read_string(py, address, 1, max)?)
            .into_any()
            .unbind())
    }

    #[pyfunction]
    #[pyo3(signature = (address, maxlen=-1, /))]
    fn wcharp2unicode(py: Python<'_>, address: u64, maxlen: i64) -> PyResult<Py<PyAny>> {
        if address == 0 {
            return Ok(py.None());
        }
        let max = u64::try_from(maxlen).ok();
        let bytes = read_string(py, address, facts().wchar_size(), max)?;
        Ok(PyString::new(py, &decode_wide(py, &bytes)?)
            .into_any()
            .unbind())
    }

    #[pyfunction]
    fn strlen(py: Python<'_>, address: u64) -> PyResult<u64> {
        memory::string_length(address, 1).or_raise(py)
    }

    /// A native library opened by the host.
    #[pyclass(name = "CDLL", unsendable)]
    struct Cdll {
        lib: library::Library,
        name: Option<String>,
    }

    #[pymethods]
    impl Cdll {
        #[new]
        #[pyo3(signature = (name, mode=None, /))]
        fn new(
            py: Python<'_>,
            name: Option<Bound<'_, PyString>>,
            mode: Option<i32>,
        ) -> PyResult<Self> {
            let name = name
                .map(|n| utf8(&n, NO_SURROGATES).map(str::to_owned))
                .transpose()?;
            let mode = mode.unwrap_or_else(|| {
                facts().dlopen_flag("RTLD_NOW") | facts().dlopen_flag("RTLD_LOCAL")
            });
            let lib = library::Library::open(name.as_deref(), mode).or_raise(py)?;
            Ok(Cdll { lib, name })
        }

        #[getter]
        fn name(&self) -> Option<String> {
            self.name.clone()
        }

        #[getter]
        fn path(&self) -> String {
            self.lib.path()
        }

        /// A callable for `name` with the given argument and result types.
        #[pyo3(signature = (name, argtypes, restype, /, variadic=None))]
        fn ptr(
            &self,
            py: Python<'_>,
            name: &Bound<'_, PyString>,
            argtypes: &Bound<'_, PyAny>,
            restype: &Bound<'_, PyAny>,
            variadic: Option<u32>,
        ) -> PyResult<Py<FuncPtr>> {
            let unbound = FuncPtr::build(py, argtypes, restype, variadic)?;
            let function =
                call::Function::bind(&self.lib, utf8(name, NO_SURROGATES)?, &unbound.0.signature)
                    .or_raise(py)?;
            Ok(FuncPtr::new_bound(py, function, unbound)?.unbind())
        }

        fn getaddressindll(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<u64> {
            self.lib.symbol(utf8(name, NO_SURROGATES)?).or_raise(py)
        }

        fn __repr__(&self) -> String {
            format!(
                "<_rawffi.CDLL {:?} at {}>",
                self.name.as_deref().unwrap_or("<process>"),
                self.lib.path()
            )
        }
    }

    /// A native function: an address, a prepared signature, and how to turn
    /// Python values into arguments and the result back.
    ///
    /// Called through CPython's vectorcall protocol (PEP 590, see
    /// [`enable_vectorcall`]): no argument tuple is built per call.
    ///
    /// Not `unsendable`: the guest has no threads ([`NoThreads`]), and PyO3's
    /// thread check on every call is a measurable part of a call's cost.
    #[pyclass(name = "FuncPtr")]
    struct FuncPtr {
        /// CPython reads this at `tp_vectorcall_offset` in the object.
        vectorcall: ffi::vectorcallfunc,
        function: NoThreads<call::Function>,
        spec: NoThreads<CallSpec>,
        /// Shapes of struct arguments/result, for by-value conversion.
        arg_shapes: Vec<Option<Py<PyAny>>>,
        ret_shape: Option<Py<PyAny>>,
    }

    fn no_keywords() -> PyErr {
        PyTypeError::new_err("native functions take no keyword arguments")
    }

    impl FuncPtr {
        fn new_bound<'py>(
            py: Python<'py>,
            function: call::Function,
            (spec, arg_shapes, ret_shape): Unbound,
        ) -> PyResult<Bound<'py, FuncPtr>> {
            let f = Bound::new(py, FuncPtr::unbound(function, spec, arg_shapes, ret_shape))?;
            enable_vectorcall(&f);
            Ok(f)
        }

        fn unbound(
            function: call::Function,
            spec: CallSpec,
            arg_shapes: Vec<Option<Py<PyAny>>>,
            ret_shape: Option<Py<PyAny>>,
        ) -> FuncPtr {
            FuncPtr {
                vectorcall: funcptr_vectorcall(),
                function: NoThreads(function),
                spec: NoThreads(spec),
                arg_shapes,
                ret_shape,
            }
        }

        fn call<'py, A>(
            &self,
            py: Python<'py>,
            args: impl ExactSizeIterator<Item = A>,
        ) -> PyResult<Bound<'py, PyAny>>
        where
            A: std::ops::Deref<Target = Bound<'py, PyAny>>,
        {
            let buffer = pack_call(py, &self.spec, &self.arg_shapes, args)?;
            let returned = crate::ffi::call::invoke(py, &self.function, buffer)?;
            unpack_result(py, &self.spec, self.ret_shape.as_ref(), returned)
        }
    }

    /// Whether `FuncPtr`'s type calls its instances through `vectorcall`.
    static VECTORCALL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// Point `FuncPtr`'s type at the `vectorcall` field of its instances
    /// (PyO3 has no vectorcall support). Its offset is only known from an
    /// instance, so the first one sets it; until then calls go through
    /// `tp_call`, which reaches the same code. Python subclasses (mutable
    /// types) do not inherit the flag, so a `__call__` they define wins.
    fn enable_vectorcall(f: &Bound<'_, FuncPtr>) {
        use std::sync::atomic::Ordering::Relaxed;
        if VECTORCALL.load(Relaxed) || !f.is_exact_instance_of::<FuncPtr>() {
            return;
        }
        let field = &f.borrow().vectorcall as *const ffi::vectorcallfunc as isize;
        let offset = field - f.as_ptr() as isize;
        let tp = <FuncPtr as pyo3::PyTypeInfo>::type_object_raw(f.py());
        // SAFETY: the type object of a class whose every instance holds a
        // valid function at `offset`; attached to the interpreter.
        unsafe {
            (*tp).tp_vectorcall_offset = offset as ffi::Py_ssize_t;
            (*tp).tp_flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL;
            ffi::PyType_Modified(tp);
        }
        VECTORCALL.store(true, Relaxed);
    }

    fn funcptr_vectorcall() -> ffi::vectorcallfunc {
        let f = pyo3::impl_::trampoline::get_trampoline_function!(
            fastcall_cfunction_with_keywords,
            vectorcall_impl
        );
        // SAFETY: the same C signature but for the count's signedness
        // (`size_t nargsf` against `Py_ssize_t nargs`); `vectorcall_impl`
        // reads it as `nargsf`.
        unsafe {
            std::mem::transmute::<
                unsafe extern "C" fn(
                    *mut ffi::PyObject,
                    *const *mut ffi::PyObject,
                    ffi::Py_ssize_t,
                    *mut ffi::PyObject,
                ) -> *mut ffi::PyObject,
                ffi::vectorcallfunc,
            >(f)
        }
    }

    /// A call of a `FuncPtr` by vectorcall, inside PyO3's trampoline
    /// (attached, panics and errors turned into exceptions).
    unsafe fn vectorcall_impl(
        py: Python<'_>,
        callable: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargsf: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> PyResult<*mut ffi::PyObject> {
        // SAFETY: CPython passes the callable, `nargs` arguments (plus the
        // PY_VECTORCALL_ARGUMENTS_OFFSET flag in `nargsf`) and a tuple of
        // keyword names or NULL, all borrowed for the call.
        unsafe {
            let nargs = ffi::PyVectorcall_NARGS(nargsf as usize) as usize;
            if !kwnames.is_null() && ffi::PyTuple_GET_SIZE(kwnames) > 0 {
                return Err(no_keywords());
            }
            let callable = pyo3::Borrowed::from_ptr(py, callable);
            let this = callable.cast::<FuncPtr>()?.try_borrow()?;
            let args = std::slice::from_raw_parts(args, nargs);
            let args = args.iter().map(|&a| pyo3::Borrowed::from_ptr(py, a));
            Ok(this.call(py, args)?.into_ptr())
        }
    }

    /// The parts of a FuncPtr that do not depend on its address.
    type Unbound = (CallSpec, Vec<Option<Py<PyAny>>>, Option<Py<PyAny>>);

    impl FuncPtr {
        fn build(
            py: Python<'_>,
            argtypes: &Bound<'_, PyAny>,
            restype: &Bound<'_, PyAny>,
            variadic: Option<u32>,
        ) -> PyResult<Unbound> {
            let mut args = Vec::new();
            let mut arg_shapes = Vec::new();
            for tp in argtypes.try_iter()? {
                let (spec, shape) = parse_spec(&tp?, SpecSource::Argument)?;
                args.push(spec);
                arg_shapes.push(shape);
            }
            let (ret, ret_shape) = parse_spec(restype, SpecSource::Result)?;
            let ret = match ret {
                ValueSpec::Prim(p) if p.kind == Kind::Void => None,
                other => Some(other),
            };
            Ok((
                CallSpec::new(py, args, ret, variadic)?,
                arg_shapes,
                ret_shape,
            ))
        }
    }

    #[pymethods]
    impl FuncPtr {
        #[new]
        #[pyo3(signature = (address, argtypes, restype, variadic=None, /))]
        fn new(
            py: Python<'_>,
            address: u64,
            argtypes: &Bound<'_, PyAny>,
            restype: &Bound<'_, PyAny>,
            variadic: Option<u32>,
        ) -> PyResult<Self> {
            let (spec, arg_shapes, ret_shape) = FuncPtr::build(py, argtypes, restype, variadic)?;
            let function = call::Function::from_address(address, &spec.signature).or_raise(py)?;
            Ok(FuncPtr::unbound(function, spec, arg_shapes, ret_shape))
        }

        /// The slow way in: `tp_call`, until [`enable_vectorcall`] has run.
        #[pyo3(signature = (*args, **kwargs))]
        fn __call__<'py>(
            slf: &Bound<'py, Self>,
            args: &Bound<'py, PyTuple>,
            kwargs: Option<&Bound<'py, PyDict>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            if kwargs.is_some_and(|k| !k.is_empty()) {
                return Err(no_keywords());
            }
            enable_vectorcall(slf);
            slf.borrow().call(slf.py(), args.iter_borrowed())
        }

        #[getter]
        fn address(&self) -> u64 {
            self.function.address()
        }

        fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
            for shape in self.arg_shapes.iter().chain([&self.ret_shape]).flatten() {
                visit.call(shape)?;
            }
            Ok(())
        }
    }

    /// A C function pointer that calls a Python callable:
    /// `CallbackPtr(callable, argtypes, restype)`. Its address is `.buffer`;
    /// it is retired when this object dies.
    #[pyclass(name = "CallbackPtr", unsendable)]
    struct CallbackPtr {
        callback: crate::ffi::callback::Callback,
    }

    #[pymethods]
    impl CallbackPtr {
        #[new]
        #[pyo3(signature = (callable, argtypes, restype, /))]
        fn new(
            py: Python<'_>,
            callable: &Bound<'_, PyAny>,
            argtypes: &Bound<'_, PyAny>,
            restype: &Bound<'_, PyAny>,
        ) -> PyResult<Self> {
            if !callable.is_callable() {
                return Err(PyTypeError::new_err("CallbackPtr needs a callable"));
            }
            let (spec, arg_shapes, _) = FuncPtr::build(py, argtypes, restype, None)?;
            let spec = Rc::new(spec);
            let handler = super::callback::RawHandler {
                callable: callable.clone().unbind(),
                spec: spec.clone(),
                arg_shapes,
            };
            let callback = crate::ffi::callback::create(py, &spec, Rc::new(handler))?;
            Ok(CallbackPtr { callback })
        }

        #[getter]
        fn buffer(&self) -> u64 {
            self.callback.address()
        }

        #[getter]
        fn address(&self) -> u64 {
            self.callback.address()
        }

        fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
            self.callback.traverse(&visit)
        }
    }

    /// The host's layout of a struct or union, from a list of field types.
    #[pyclass(name = "StructLayout", unsendable)]
    pub(crate) struct StructLayoutObj {
        pub(crate) aggregate: Rc<Aggregate>,
        /// Offset of each declared field (for inline arrays, of the first element).
        field_offsets: Vec<u32>,
    }

    #[pymethods]
    impl StructLayoutObj {
        #[new]
        #[pyo3(signature = (fields, is_union=None, /))]
        fn new(
            py: Python<'_>,
            fields: &Bound<'_, PyAny>,
            is_union: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Self> {
            let is_union = match is_union {
                Some(flag) => flag.is_truthy()?,
                None => false,
            };
            let mut flat = Vec::new();
            let mut first_of_field = Vec::new();
            for field in fields.try_iter()? {
                let field = field?;
                let (spec, count) = match field.cast::<PyTuple>() {
                    Ok(t) if t.len() == 2 => (
                        parse_spec(&t.get_item(0)?, SpecSource::Field)?.0,
                        t.get_item(1)?.extract::<usize>()?,
                    ),
                    _ => (parse_spec(&field, SpecSource::Field)?.0, 1),
                };
                if count == 0 {
                    return Err(pyo3::exceptions::PyValueError::new_err(
                        "an inline array needs at least one element",
                    ));
                }
                first_of_field.push(flat.len());
                // Host-side layout of an inline array is its elements, one by one.
                flat.extend(std::iter::repeat_n(spec, count));
            }
            let aggregate = Aggregate::new(py, &flat, is_union)?;
            let field_offsets = first_of_field
                .iter()
                .map(|&i| aggregate.layout.offsets.get(i).copied().unwrap_or(0))
                .collect();
            Ok(StructLayoutObj {
                aggregate: Rc::new(aggregate),
                field_offsets,
            })
        }

        #[getter]
        fn size(&self) -> u32 {
            self.aggregate.layout.size
        }

        #[getter]
        fn alignment(&self) -> u32 {
            self.aggregate.layout.alignment
        }

        #[getter]
        fn offsets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            PyList::new(py, &self.field_offsets)
        }
    }
}
