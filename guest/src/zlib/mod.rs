//! `zlib`, done by the host's libz through the typed interface
//! `wasmffi:ffi/zlib` (see wit/zlib.wit). Replaces RustPython's in-guest
//! `zlib` under that name (which stays importable as `_zlib_guest`). The
//! Rust part moves bytes; `app.py` gives the module CPython's shape.

pub(crate) use zlib::module_def;

#[rustpython_vm::pymodule]
mod zlib {
    use rustpython_vm::builtins::{PyBytesRef, PyModule, PyTypeRef};
    use rustpython_vm::function::{ArgBytesLike, OptionalArg};
    use rustpython_vm::{pyclass, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine};

    use crate::bindings::zlib as host;
    use crate::bindings::zlib::ZlibError;

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        crate::mixed::enable(vm, "zlib", "zlib")?;
        __module_exec(vm, module);
        let (built, runtime) = host::versions();
        module.set_attr("ZLIB_VERSION", vm.ctx.new_str(built), vm)?;
        module.set_attr("ZLIB_RUNTIME_VERSION", vm.ctx.new_str(runtime), vm)?;
        let code = rustpython_vm::py_compile!(file = "app.py");
        let scope = rustpython_vm::scope::Scope::with_builtins(None, module.dict(), vm);
        vm.run_code_obj(vm.ctx.new_code(code), scope)?;
        Ok(())
    }

    #[pyattr(once)]
    fn error(vm: &VirtualMachine) -> PyTypeRef {
        vm.ctx.new_exception_type("zlib", "error", None)
    }

    fn raise(vm: &VirtualMachine, err: ZlibError) -> rustpython_vm::builtins::PyBaseExceptionRef {
        match err {
            ZlibError::Zlib(msg) => {
                let class = vm
                    .import("zlib", 0)
                    .and_then(|m| m.get_attr("error", vm))
                    .ok()
                    .and_then(|c| c.downcast().ok());
                match class {
                    Some(class) => vm.new_exception_msg(class, msg.into()),
                    None => vm.new_runtime_error(msg),
                }
            }
            ZlibError::Value(msg) => vm.new_value_error(msg),
            ZlibError::Memory(msg) => vm.new_memory_error(msg),
            ZlibError::Refused(e) => crate::ffi::errors::to_py(vm, e),
        }
    }

    trait OrRaise<T> {
        fn or_raise(self, vm: &VirtualMachine) -> PyResult<T>;
    }

    impl<T> OrRaise<T> for Result<T, ZlibError> {
        fn or_raise(self, vm: &VirtualMachine) -> PyResult<T> {
            self.map_err(|e| raise(vm, e))
        }
    }

    #[pyfunction]
    fn crc32(data: ArgBytesLike, value: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult<u32> {
        let value = value.unwrap_or(0) as u32;
        data.with_ref(|b| host::crc32(b, value)).or_raise(vm)
    }

    #[pyfunction]
    fn adler32(data: ArgBytesLike, value: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult<u32> {
        let value = value.unwrap_or(1) as u32;
        data.with_ref(|b| host::adler32(b, value)).or_raise(vm)
    }

    #[pyfunction]
    fn _compress(
        data: ArgBytesLike,
        level: i32,
        wbits: i32,
        vm: &VirtualMachine,
    ) -> PyResult<PyBytesRef> {
        let out = data
            .with_ref(|b| host::compress(b, level, wbits))
            .or_raise(vm)?;
        Ok(vm.ctx.new_bytes(out))
    }

    #[pyfunction]
    fn _decompress(
        data: ArgBytesLike,
        wbits: i32,
        bufsize: i64,
        vm: &VirtualMachine,
    ) -> PyResult<PyBytesRef> {
        if bufsize < 0 {
            return Err(vm.new_value_error("bufsize must be non-negative"));
        }
        let out = data
            .with_ref(|b| host::decompress(b, wbits, bufsize as u64))
            .or_raise(vm)?;
        Ok(vm.ctx.new_bytes(out))
    }

    fn zdict_bytes(zdict: Option<ArgBytesLike>) -> Option<Vec<u8>> {
        zdict.map(|z| z.borrow_buf().to_vec())
    }

    /// The host's compressor; `zlib.Compress` (app.py) wraps it.
    #[pyattr]
    #[pyclass(name = "_Compressor")]
    #[derive(Debug, PyPayload)]
    struct Compressor {
        inner: host::Compressor,
    }

    #[pyfunction]
    fn _compressor(
        level: i32,
        method: i32,
        wbits: i32,
        mem_level: i32,
        strategy: i32,
        zdict: Option<ArgBytesLike>,
        vm: &VirtualMachine,
    ) -> PyResult<Compressor> {
        let zdict = zdict_bytes(zdict);
        let inner =
            host::Compressor::create(level, method, wbits, mem_level, strategy, zdict.as_deref())
                .or_raise(vm)?;
        Ok(Compressor { inner })
    }

    #[pyclass]
    impl Compressor {
        #[pymethod]
        fn compress(&self, data: ArgBytesLike, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
            let out = data.with_ref(|b| self.inner.compress(b)).or_raise(vm)?;
            Ok(vm.ctx.new_bytes(out))
        }

        #[pymethod]
        fn flush(&self, mode: i32, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
            Ok(vm.ctx.new_bytes(self.inner.flush(mode).or_raise(vm)?))
        }

        #[pymethod]
        fn copy(&self, vm: &VirtualMachine) -> PyResult<Compressor> {
            Ok(Compressor {
                inner: self.inner.copy().or_raise(vm)?,
            })
        }
    }

    /// The host's decompressor; `zlib.Decompress` (app.py) wraps it.
    #[pyattr]
    #[pyclass(name = "_Decompressor")]
    #[derive(Debug, PyPayload)]
    struct Decompressor {
        inner: host::Decompressor,
    }

    #[pyfunction]
    fn _decompressor(
        wbits: i32,
        zdict: Option<ArgBytesLike>,
        vm: &VirtualMachine,
    ) -> PyResult<Decompressor> {
        let zdict = zdict_bytes(zdict);
        let inner = host::Decompressor::create(wbits, zdict.as_deref()).or_raise(vm)?;
        Ok(Decompressor { inner })
    }

    /// (data, eof, unused_data, unconsumed_tail)
    fn state(vm: &VirtualMachine, d: host::Decompressed) -> PyObjectRef {
        vm.ctx
            .new_tuple(vec![
                vm.ctx.new_bytes(d.data).into(),
                vm.ctx.new_bool(d.eof).into(),
                vm.ctx.new_bytes(d.unused_data).into(),
                vm.ctx.new_bytes(d.unconsumed_tail).into(),
            ])
            .into()
    }

    #[pyclass]
    impl Decompressor {
        #[pymethod]
        fn decompress(&self, data: ArgBytesLike, max_length: u64, vm: &VirtualMachine) -> PyResult {
            let d = data
                .with_ref(|b| self.inner.decompress(b, max_length))
                .or_raise(vm)?;
            Ok(state(vm, d))
        }

        #[pymethod]
        fn flush(&self, length: u64, vm: &VirtualMachine) -> PyResult {
            Ok(state(vm, self.inner.flush(length).or_raise(vm)?))
        }

        #[pymethod]
        fn copy(&self, vm: &VirtualMachine) -> PyResult<Decompressor> {
            Ok(Decompressor {
                inner: self.inner.copy().or_raise(vm)?,
            })
        }
    }

    #[allow(dead_code)]
    fn _unused(_: PyRef<Compressor>) {}
}
