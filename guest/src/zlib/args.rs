//! CPython 3.11's Argument Clinic, as far as zlib's entry points use it: the
//! same TypeErrors for a missing, surplus or keyword-passed argument
//! (`_PyArg_UnpackKeywords`, `_PyArg_CheckPositional`), and the same
//! conversions with their errors (`Py_buffer`, C `int`, `Py_ssize_t`, which is
//! the guest's: wasm32, so `sys.maxsize + 1` is an OverflowError as there).

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::ffi as capi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

/// A contiguous view of any bytes-like object, held while the host reads it:
/// CPython's zlib takes any buffer (`bytes`, `bytearray`, `memoryview`,
/// `array`), and copying 16 MiB inputs only to hand them on would be waste.
pub(super) struct View {
    view: capi::Py_buffer,
}

impl View {
    pub(super) fn new(obj: &Bound<'_, PyAny>) -> PyResult<View> {
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

    pub(super) fn bytes(&self) -> &[u8] {
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

/// `operator.index(value)` as an `i64`, or None when it does not fit.
fn index_i64(value: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    // SAFETY: live objects with the GIL held; each result is checked.
    unsafe {
        let index = capi::PyNumber_Index(value.as_ptr());
        if index.is_null() {
            return Err(PyErr::fetch(value.py()));
        }
        let mut overflow = 0;
        let v = capi::PyLong_AsLongLongAndOverflow(index, &mut overflow);
        capi::Py_DECREF(index);
        if v == -1 && overflow == 0 {
            if let Some(err) = PyErr::take(value.py()) {
                return Err(err);
            }
        }
        Ok((overflow == 0).then_some(v))
    }
}

/// Clinic's `int`.
pub(super) fn c_int(value: &Bound<'_, PyAny>) -> PyResult<i32> {
    index_i64(value)?
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| PyOverflowError::new_err("Python int too large to convert to C int"))
}

/// Clinic's `Py_ssize_t` (the guest's: 32 bits).
pub(super) fn ssize_t(value: &Bound<'_, PyAny>) -> PyResult<isize> {
    index_i64(value)?
        .and_then(|v| isize::try_from(v).ok())
        .ok_or_else(|| PyOverflowError::new_err("Python int too large to convert to C ssize_t"))
}

/// Clinic's `unsigned_int(bitwise=True)`: any integer, taken modulo 2**32
/// (`crc32(data, -1)` is valid), anything else (`None` too) a TypeError.
pub(super) fn masked_u32(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    // SAFETY: a live object with the GIL held; the error check follows the
    // C API's convention for this function.
    let v = unsafe { capi::PyLong_AsUnsignedLongLongMask(value.as_ptr()) };
    if v == u64::MAX {
        if let Some(err) = PyErr::take(value.py()) {
            return Err(err);
        }
    }
    Ok(v as u32)
}

/// One entry point's parameters: `posonly` positional-only ones, then the
/// ones that may also be passed by keyword (`keywords`); the first
/// `required` are required.
pub(super) struct Params {
    pub name: &'static str,
    pub posonly: usize,
    pub required: usize,
    pub keywords: &'static [&'static str],
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Params {
    pub(super) const fn new(
        name: &'static str,
        posonly: usize,
        required: usize,
        keywords: &'static [&'static str],
    ) -> Params {
        Params {
            name,
            posonly,
            required,
            keywords,
        }
    }

    /// `_PyArg_UnpackKeywords`: the arguments by position, `None` where not given.
    pub(super) fn parse<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Vec<Option<Bound<'py, PyAny>>>> {
        let f = self.name;
        let max = self.posonly + self.keywords.len();
        let nargs = args.len();
        let kwargs = kwargs.filter(|k| !k.is_empty());
        let mut nkw = kwargs.map_or(0, |k| k.len());
        if nargs + nkw > max {
            return Err(PyTypeError::new_err(format!(
                "{f}() takes at most {max} {}argument{} ({} given)",
                if nargs == 0 { "keyword " } else { "" },
                plural(max),
                nargs + nkw
            )));
        }
        let min_posonly = self.required.min(self.posonly);
        if nargs < min_posonly {
            return Err(PyTypeError::new_err(format!(
                "{f}() takes {} {min_posonly} positional argument{} ({nargs} given)",
                if min_posonly < max {
                    "at least"
                } else {
                    "exactly"
                },
                plural(min_posonly)
            )));
        }
        let mut out: Vec<Option<Bound<'py, PyAny>>> = args.iter().map(Some).collect();
        out.resize(max, None);
        for (i, slot) in out.iter_mut().enumerate().skip(nargs.max(self.posonly)) {
            let key = self.keywords[i - self.posonly];
            let found = match kwargs {
                Some(k) if nkw > 0 => k.get_item(key)?,
                _ => None,
            };
            if found.is_some() {
                nkw -= 1;
                *slot = found;
            } else if i < self.required {
                return Err(PyTypeError::new_err(format!(
                    "{f}() missing required argument '{key}' (pos {})",
                    i + 1
                )));
            }
        }
        if let (Some(k), true) = (kwargs, nkw > 0) {
            for i in self.posonly..nargs {
                let key = self.keywords[i - self.posonly];
                if k.contains(key)? {
                    return Err(PyTypeError::new_err(format!(
                        "argument for {f}() given by name ('{key}') and position ({})",
                        i + 1
                    )));
                }
            }
            for key in k.keys() {
                let Ok(name) = key.cast::<PyString>() else {
                    return Err(PyTypeError::new_err("keywords must be strings"));
                };
                let name = name.to_cow()?;
                if !self.keywords.contains(&name.as_ref()) {
                    return Err(PyTypeError::new_err(format!(
                        "'{name}' is an invalid keyword argument for {f}()"
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// A method without parameters. 3.11's clinic code for the defining-class
/// methods `copy()`/`__copy__()` checks positional arguments only: keywords
/// are ignored.
pub(super) fn no_args(
    name: &str,
    args: &Bound<'_, PyTuple>,
    _kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    if !args.is_empty() {
        return Err(PyTypeError::new_err(format!("{name}() takes no arguments")));
    }
    Ok(())
}

/// `METH_FASTCALL` without keywords: `_PyArg_CheckPositional` and the
/// interpreter's "takes no keyword arguments".
pub(super) fn positional<'py>(
    name: &str,
    min: usize,
    max: usize,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if kwargs.is_some_and(|k| !k.is_empty()) {
        return Err(PyTypeError::new_err(format!(
            "zlib.{name}() takes no keyword arguments"
        )));
    }
    let n = args.len();
    if n < min || n > max {
        let (bound, which) = if n < min {
            (min, "at least ")
        } else {
            (max, "at most ")
        };
        return Err(PyTypeError::new_err(format!(
            "{name} expected {}{bound} argument{}, got {n}",
            if min == max { "" } else { which },
            plural(bound)
        )));
    }
    Ok(args.iter().collect())
}
