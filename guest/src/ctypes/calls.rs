//! The call half of `_ctypes`' Rust core: struct layouts from the host,
//! prepared signatures, bound functions, callbacks and libraries. app.py
//! converts Python values with ctypes' rules (argtypes, `from_param`,
//! `_as_parameter_`) down to what crosses here: per argument an int, float,
//! `bytes`/`str` (a temporary string for `z`/`Z`), `None`, or a struct's
//! bytes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::buffer::{_new_instance, CDataBase};
use super::native::{decode_raw, prim_of, Block};
use crate::ffi::call::{invoke, Aggregate, CallSpec, ValueSpec};
use crate::ffi::callback::{self, Handler};
use crate::ffi::errors::OrRaise;
use crate::ffi::memory::bytes_like;
use crate::ffi::platform::wire_to_native;
use crate::ffi::prim::{encode, Encoded, Kind};
use crate::ffi::wit::{call, library, types::FfiError};

/// A struct, union or (inline) array type laid out by the host.
#[pyclass(name = "Layout", unsendable)]
pub struct Layout {
    pub aggregate: Rc<Aggregate>,
}

#[pymethods]
impl Layout {
    /// `fields`: each a type code or a `Layout`.
    #[new]
    #[pyo3(signature = (fields, is_union=false))]
    fn new(py: Python<'_>, fields: Vec<Bound<'_, PyAny>>, is_union: bool) -> PyResult<Self> {
        let specs = fields.iter().map(spec_of).collect::<PyResult<Vec<_>>>()?;
        Ok(Layout {
            aggregate: Rc::new(Aggregate::new(py, &specs, is_union)?),
        })
    }
    #[getter]
    fn size(&self) -> u32 {
        self.aggregate.layout.size
    }
    #[getter]
    fn align(&self) -> u32 {
        self.aggregate.layout.alignment
    }
    #[getter]
    fn offsets(&self) -> Vec<u32> {
        self.aggregate.layout.offsets.clone()
    }
}

fn spec_of(obj: &Bound<'_, PyAny>) -> PyResult<ValueSpec> {
    if let Ok(layout) = obj.cast::<Layout>() {
        return Ok(ValueSpec::Aggregate(layout.borrow().aggregate.clone()));
    }
    Ok(ValueSpec::Prim(prim_of(&obj.extract::<String>()?)?))
}

/// A prepared call descriptor (`args`, `ret`: type codes or `Layout`s;
/// `ret` None for void; `fixed` the fixed-argument count of a variadic call).
#[pyclass(name = "Signature", unsendable, frozen)]
pub struct Signature {
    spec: Rc<CallSpec>,
}

#[pymethods]
impl Signature {
    #[new]
    #[pyo3(signature = (args, ret, fixed=None))]
    fn new(
        py: Python<'_>,
        args: Vec<Bound<'_, PyAny>>,
        ret: Option<Bound<'_, PyAny>>,
        fixed: Option<u32>,
    ) -> PyResult<Self> {
        let args = args.iter().map(spec_of).collect::<PyResult<Vec<_>>>()?;
        let ret = ret.as_ref().map(spec_of).transpose()?;
        let ret = ret.filter(|r| !matches!(r, ValueSpec::Prim(p) if p.kind == Kind::Void));
        Ok(Signature {
            spec: Rc::new(CallSpec::new(py, args, ret, fixed)?),
        })
    }
}

/// A native function bound to a signature.
#[pyclass(name = "Function", unsendable, frozen)]
pub struct Function {
    pub(super) function: call::Function,
    pub(super) spec: Rc<CallSpec>,
}

#[pymethods]
impl Function {
    /// `lib`'s `name` (a handle from `dlopen`), callable by `sig`.
    #[staticmethod]
    fn bind(py: Python<'_>, handle: u64, name: &str, sig: &Signature) -> PyResult<Self> {
        let lib = library_of(handle)?;
        let function = call::Function::bind(&lib, name, &sig.spec.signature).or_raise(py)?;
        Ok(Function {
            function,
            spec: sig.spec.clone(),
        })
    }

    /// A function pointer by address (the policy decides which it accepts).
    #[staticmethod]
    fn at(py: Python<'_>, addr: u64, sig: &Signature) -> PyResult<Self> {
        let function = call::Function::from_address(addr, &sig.spec.signature).or_raise(py)?;
        Ok(Function {
            function,
            spec: sig.spec.clone(),
        })
    }

    #[getter]
    fn address(&self) -> u64 {
        self.function.address()
    }

    /// Call with converted values; the result is an int/float (pointers
    /// as addresses), a struct's bytes, or None for void.
    #[pyo3(signature = (*values))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let spec = &self.spec;
        if values.len() != spec.args.len() {
            return Err(PyTypeError::new_err(format!(
                "this function takes {} arguments ({} given)",
                spec.args.len(),
                values.len()
            )));
        }
        let mut buffer = spec.buffer();
        for (index, (ty, value)) in spec.args.iter().zip(values.iter()).enumerate() {
            let offset = spec.offsets[index];
            match ty {
                ValueSpec::Prim(p) => {
                    let encoded = match value.cast::<PyBytes>() {
                        Ok(bytes) if p.kind == Kind::CharP => {
                            Encoded::Bits(kept_bytes_address(py, bytes)?)
                        }
                        _ => encode(*p, &value)?,
                    };
                    buffer.put(offset, *p, encoded)
                }
                ValueSpec::Aggregate(a) => {
                    let bytes = bytes_like(&value)?;
                    if bytes.len() != a.layout.size as usize {
                        return Err(PyValueError::new_err("struct argument of the wrong size"));
                    }
                    buffer.put_bytes(offset, &bytes);
                }
            }
        }
        let returned = invoke(py, &self.function, buffer)?;
        match &spec.ret {
            None => Ok(py.None().into_bound(py)),
            Some(ValueSpec::Prim(p)) => match returned.bytes {
                Some(bytes) => decode_raw(py, *p, &bytes),
                None => decode_raw(py, *p, &returned.value.to_le_bytes()),
            },
            Some(ValueSpec::Aggregate(_)) => {
                Ok(PyBytes::new(py, &returned.bytes.unwrap_or_default()).into_any())
            }
        }
    }
}

/// `bytes` handed to native code as a `char *` (a `c_char_p` or `c_void_p`
/// argument, a plain `bytes` argument, whatever `from_param` or
/// `_as_parameter_` it came through): as in CPython, where the pointer is the
/// bytes object's own buffer, it stays valid as long as the object lives,
/// since native code may keep it (FreeType's `FT_New_Memory_Face` does).
/// Each object's NUL-terminated host copy lives in this table with a
/// reference to it; entries whose object nobody else holds any more are
/// swept when the table has doubled since the last sweep.
struct KeptBytes {
    by_object: HashMap<usize, (Py<PyBytes>, Block)>,
    sweep_at: usize,
}

const KEPT_BYTES_FIRST_SWEEP: usize = 64;

thread_local! {
    static KEPT_BYTES: RefCell<KeptBytes> = RefCell::new(KeptBytes {
        by_object: HashMap::new(),
        sweep_at: KEPT_BYTES_FIRST_SWEEP,
    });
}

/// For app.py: [`kept_bytes_address`].
#[pyfunction]
pub fn _kept_bytes_address(py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<u64> {
    kept_bytes_address(py, bytes)
}

/// The host address of `bytes`' kept copy (made on first use; immutable, so
/// it never needs refreshing).
pub fn kept_bytes_address(py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<u64> {
    let key = bytes.as_ptr() as usize;
    if let Some(addr) = KEPT_BYTES.with(|k| k.borrow().by_object.get(&key).map(|e| e.1.addr)) {
        return Ok(addr);
    }
    let mut data = Vec::with_capacity(bytes.as_bytes().len() + 1);
    data.extend_from_slice(bytes.as_bytes());
    data.push(0);
    let block = Block::holding_bytes(py, &data, 1)?;
    let addr = block.addr;
    let swept = KEPT_BYTES.with(|k| {
        let mut k = k.borrow_mut();
        let mut swept = Vec::new();
        if k.by_object.len() >= k.sweep_at {
            // SAFETY: reading the reference count of live objects we hold.
            let dead: Vec<usize> = k
                .by_object
                .iter()
                .filter(|(_, (obj, _))| unsafe { pyo3::ffi::Py_REFCNT(obj.as_ptr()) } <= 1)
                .map(|(&key, _)| key)
                .collect();
            swept.extend(dead.iter().filter_map(|key| k.by_object.remove(key)));
            k.sweep_at = (2 * k.by_object.len()).max(KEPT_BYTES_FIRST_SWEEP);
        }
        k.by_object.insert(key, (bytes.clone().unbind(), block));
        swept
    });
    // dropped outside the borrow: freeing blocks and objects runs no Python
    // that could come back here, but keep the table free of re-entrance
    drop(swept);
    Ok(addr)
}

/// Runs a ctypes callback's Python side: it gets the raw arguments (as
/// [`decode_raw`] gives them, structs as bytes) and returns the raw result.
struct RawHandler {
    callable: Py<PyAny>,
    target: Py<PyAny>,
    spec: Rc<CallSpec>,
    /// Per argument: the pointer type an instance is made of over the
    /// argument's bytes, with its alignment (None: the raw value).
    holders: Vec<Option<(Py<PyType>, u32)>>,
}

impl Handler for RawHandler {
    fn call(&self, py: Python<'_>, packed: &[u8]) -> PyResult<Vec<u8>> {
        let slot = |index: usize, ty: &ValueSpec| {
            let offset = self.spec.offsets[index] as usize;
            packed
                .get(offset..offset + ty.size() as usize)
                .ok_or_else(|| PyValueError::new_err("callback arguments too short"))
        };
        // The pointer arguments' instances share one block, written by one
        // crossing: each is a pointer-sized, pointer-aligned slot of it,
        // turned from the wire's byte order into native memory's.
        let mut held = Vec::new();
        for (index, ty) in self.spec.args.iter().enumerate() {
            if let Some(Some((_, align))) = self.holders.get(index) {
                let at = held.len().next_multiple_of((*align).max(1) as usize);
                held.resize(at, 0);
                held.extend_from_slice(slot(index, ty)?);
                if let ValueSpec::Prim(_) = ty {
                    wire_to_native(&mut held[at..]);
                }
            }
        }
        let block = match held.is_empty() {
            true => None,
            false => {
                let block = Block::holding_bytes(py, &held, 16)?;
                let addr = block.addr;
                Some((addr, Py::new(py, block)?.into_bound(py).into_any()))
            }
        };
        let mut args = Vec::with_capacity(self.spec.args.len());
        let mut at = 0usize;
        for (index, ty) in self.spec.args.iter().enumerate() {
            let bytes = slot(index, ty)?;
            args.push(match (ty, self.holders.get(index), &block) {
                (_, Some(Some((cls, align))), Some((addr, block))) => {
                    at = at.next_multiple_of((*align).max(1) as usize);
                    let instance = _new_instance(
                        cls.bind(py),
                        addr + at as u64,
                        Some(block.clone()),
                        None,
                        0,
                    )?;
                    at += bytes.len();
                    instance.into_any()
                }
                (ValueSpec::Prim(p), _, _) => decode_raw(py, *p, bytes)?,
                (ValueSpec::Aggregate(_), _, _) => PyBytes::new(py, bytes).into_any(),
            });
        }
        let result = self.callable.bind(py).call1(PyTuple::new(py, args)?)?;
        self.result_bytes(py, result).or_else(|err| {
            // as CPython: reported with its own wording, and C gets zero
            let size = self.spec.ret.as_ref().map_or(0, ValueSpec::size);
            callback::report_unraisable(
                py,
                err,
                "on converting result of ctypes callback function",
                &self.target,
            );
            Ok(vec![0; size as usize])
        })
    }

    fn target(&self, py: Python<'_>) -> Py<PyAny> {
        self.target.clone_ref(py)
    }

    fn context(&self) -> &'static str {
        "on calling ctypes callback function"
    }

    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.callable)?;
        visit.call(&self.target)?;
        for (cls, _) in self.holders.iter().flatten() {
            visit.call(cls)?;
        }
        Ok(())
    }
}

impl RawHandler {
    /// The callback's Python result as C's result bytes.
    fn result_bytes<'py>(
        &self,
        py: Python<'py>,
        mut result: Bound<'py, PyAny>,
    ) -> PyResult<Vec<u8>> {
        match &self.spec.ret {
            None => Ok(Vec::new()),
            Some(ValueSpec::Prim(p)) => match encode(*p, &result).or_else(|err| {
                // a ctypes instance returned stands for its value
                if result.is_instance_of::<CDataBase>() {
                    result = result.getattr(intern!(py, "value"))?;
                    encode(*p, &result)
                } else {
                    Err(err)
                }
            })? {
                Encoded::Bits(bits) => Ok(bits.to_le_bytes()[..(p.size as usize).min(8)].to_vec()),
                Encoded::Bytes(bytes) => Ok(bytes),
                Encoded::Temporary(_) => Err(PyTypeError::new_err(
                    "a callback cannot return a string by value",
                )),
            },
            Some(ValueSpec::Aggregate(a)) => {
                let mut bytes = bytes_like(&result)?;
                bytes.resize(a.layout.size as usize, 0);
                Ok(bytes)
            }
        }
    }
}

/// A C function pointer running `callable` (app.py's converting wrapper);
/// `target` is what an exception report names (the user's function).
#[pyclass(name = "Callback", unsendable)]
pub struct Callback {
    callback: callback::Callback,
}

#[pymethods]
impl Callback {
    /// `holders`: see `RawHandler::holders` (None: raw values only).
    #[new]
    fn new(
        py: Python<'_>,
        sig: &Signature,
        callable: Py<PyAny>,
        holders: Option<Vec<Option<(Py<PyType>, u32)>>>,
        target: Py<PyAny>,
    ) -> PyResult<Self> {
        let handler = Rc::new(RawHandler {
            callable,
            target,
            spec: sig.spec.clone(),
            holders: holders.unwrap_or_default(),
        });
        Ok(Callback {
            callback: callback::create(py, &sig.spec, handler)?,
        })
    }

    #[getter]
    fn address(&self) -> u64 {
        self.callback.address()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.callback.traverse(&visit)
    }
}

thread_local! {
    /// Open libraries by the handle `dlopen` gave the guest.
    static LIBRARIES: RefCell<(u64, HashMap<u64, Rc<library::Library>>)> =
        RefCell::new((0, HashMap::new()));
}

fn library_of(handle: u64) -> PyResult<Rc<library::Library>> {
    LIBRARIES
        .with(|l| l.borrow().1.get(&handle).cloned())
        .ok_or_else(|| PyOSError::new_err(format!("invalid library handle {handle:#x}")))
}

/// Open a library through the host; handles are small fake addresses.
#[pyfunction]
pub fn _dlopen(py: Python<'_>, name: Option<String>, mode: i32) -> PyResult<u64> {
    let lib = library::Library::open(name.as_deref(), mode).or_raise(py)?;
    Ok(LIBRARIES.with(|l| {
        let mut l = l.borrow_mut();
        l.0 += 1;
        let handle = 0x1000 + l.0 * 16;
        l.1.insert(handle, Rc::new(lib));
        handle
    }))
}

#[pyfunction]
pub fn dlclose(handle: u64) -> PyResult<()> {
    LIBRARIES
        .with(|l| l.borrow_mut().1.remove(&handle))
        .map(drop)
        .ok_or_else(|| PyOSError::new_err(format!("invalid library handle {handle:#x}")))
}

#[pyfunction]
pub fn dlsym(py: Python<'_>, handle: u64, name: &str) -> PyResult<u64> {
    let lib = library_of(handle)?;
    lib.symbol(name).map_err(|e| match e {
        FfiError::NoSuchSymbol(_) => pyo3::exceptions::PyAttributeError::new_err(format!(
            "{}: undefined symbol: {name}",
            lib.path()
        )),
        other => crate::ffi::errors::to_py(py, other),
    })
}

/// `ctypes.util.find_library`, answered by the host among allowed libraries.
#[pyfunction]
pub fn _find_library(name: &str) -> Option<String> {
    library::find(name)
}
