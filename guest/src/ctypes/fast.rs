//! The hot paths of `_ctypes` in Rust: calling a function pointer, and
//! reading or writing a simple field (or a simple object's `value`).
//!
//! Each is a *plan* that the app-level Python computes once, when it has
//! checked with ctypes' full rules that nothing but plain numbers is
//! involved (fundamental simple types with their own `from_param`, no
//! `errcheck`, no `paramflags`, no byte swapping), and that Rust then runs
//! without entering Python. Anything the plan does not cover — another
//! argument type, a keyword, a shadowed `from_buffer` object, a bool where
//! an int was planned — falls back to the Python implementation, which
//! gives the exact ctypes behaviour, errors included. Nothing is converted
//! before the fallback is decided, so taking it has no side effect.
//!
//! A function pointer's call is CPython's `tp_call` slot of each
//! `CFuncPtr` class, set here (`_fast_install`), as C ctypes' own
//! `PyCFuncPtr_call` is: no Python frame and no bound method per call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PySet, PyTuple, PyType};

use super::buffer::CDataBase;
use super::calls::Function;
use super::native::prim_of;
use crate::ffi::call::invoke;
use crate::ffi::errors::OrRaise;
use crate::ffi::prim::{decode_bits, Kind, Prim};
use crate::ffi::wit::memory;

/// What app.py gives the fast paths to fall back on and to keep
/// `from_buffer` shadows in step (see app.py's `_sync_all`).
struct Hooks {
    slow_call: Py<PyAny>,
    shadows: Py<PySet>,
    sync_all: Py<PyAny>,
    elem_plan: Py<PyAny>,
}

thread_local! {
    static HOOKS: RefCell<Option<Rc<Hooks>>> = const { RefCell::new(None) };
}

fn hooks() -> PyResult<Rc<Hooks>> {
    HOOKS
        .with(|h| h.borrow().clone())
        .ok_or_else(|| PyValueError::new_err("_ctypes fast paths used before _fast_setup"))
}

/// Copy `from_buffer` shadows back and forth, as the Python paths do
/// around every access, when there are any.
fn sync_shadows(py: Python<'_>, hooks: &Hooks) -> PyResult<()> {
    if hooks.shadows.bind(py).len() > 0 {
        hooks.sync_all.call0(py)?;
    }
    Ok(())
}

/// Called once by app.py: the full Python call (`CFuncPtr.__call__`), the
/// shadow set and its synchroniser, and `_elem_plan(cls)`: an array or
/// pointer type's (item size, item code, array length or None), or None.
#[pyfunction]
pub fn _fast_setup(
    slow_call: Py<PyAny>,
    shadows: Py<PySet>,
    sync_all: Py<PyAny>,
    elem_plan: Py<PyAny>,
) {
    HOOKS.with(|h| {
        *h.borrow_mut() = Some(Rc::new(Hooks {
            slow_call,
            shadows,
            sync_all,
            elem_plan,
        }))
    });
}

/// Make calls of `cls`'s instances go through [`call_slot`]. app.py does
/// this for every function pointer class that does not define its own
/// `__call__` (the class's `__call__` attribute stays the Python one, which
/// is also the fallback).
#[pyfunction]
pub fn _fast_install(cls: &Bound<'_, PyType>) -> PyResult<()> {
    if !cls.is_subclass_of::<CDataBase>()? {
        return Err(PyTypeError::new_err("not a ctypes type"));
    }
    let tp = cls.as_type_ptr();
    // SAFETY: `tp` is a live heap type (it is a subclass of ours); setting
    // a slot and announcing it with PyType_Modified is how the C API lets
    // a slot change after creation.
    unsafe {
        (*tp).tp_call = Some(call_slot);
        ffi::PyType_Modified(tp);
    }
    Ok(())
}

/// Set (or, with None, forget) a function pointer's call plan. app.py
/// forgets it whenever `argtypes`, `restype` or `errcheck` change.
#[pyfunction]
pub fn _set_plan(obj: &Bound<'_, CDataBase>, plan: Option<&Bound<'_, CallPlan>>) {
    obj.borrow_mut().plan = plan.map(|p| p.borrow().0.clone());
}

/// Whether `obj` has a call plan.
#[pyfunction]
pub fn _has_plan(obj: &Bound<'_, CDataBase>) -> bool {
    obj.borrow().plan.is_some()
}

/// How one argument crosses when the plan applies.
#[derive(Clone, Copy)]
enum ArgPlan {
    /// An argtype that is a fundamental integer or float type: an exact
    /// `int` (or, for floats, `float` or `int`) as that C type.
    Number(Prim),
    /// No argtypes: an exact `int` as C `int`, if it fits 64 bits (ctypes'
    /// own range check is the fallback's).
    Int(Prim),
}

enum RetPlan {
    Void,
    Number(Prim),
    /// `c_void_p`: an int, or None for NULL.
    Pointer,
}

pub struct Plan {
    function: Py<Function>,
    args: Vec<ArgPlan>,
    ret: RetPlan,
    use_errno: bool,
}

/// A call plan, made by app.py after a call that took the full path.
#[pyclass(name = "CallPlan", frozen, module = "_ctypes")]
pub struct CallPlan(Arc<Plan>);

const NUMBER_CODES: &str = "bBhHiIlLqQnNfd?";

#[pymethods]
impl CallPlan {
    /// `args`: per argument an argtype's code, or None for "no argtypes:
    /// C int"; `ret`: the restype's code or None for void.
    #[new]
    fn new(
        function: Py<Function>,
        args: Vec<Option<String>>,
        ret: Option<&str>,
        use_errno: bool,
    ) -> PyResult<Self> {
        let args = args
            .iter()
            .map(|code| match code {
                Some(code) if NUMBER_CODES.contains(code.as_str()) => {
                    Ok(ArgPlan::Number(prim_of(code)?))
                }
                None => Ok(ArgPlan::Int(prim_of("i")?)),
                Some(code) => Err(PyValueError::new_err(format!(
                    "no call plan for argument type {code:?}"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let ret = match ret {
            None => RetPlan::Void,
            Some("P") => RetPlan::Pointer,
            Some(code) if NUMBER_CODES.contains(code) => RetPlan::Number(prim_of(code)?),
            Some(code) => {
                return Err(PyValueError::new_err(format!(
                    "no call plan for result type {code:?}"
                )))
            }
        };
        Ok(CallPlan(Arc::new(Plan {
            function,
            args,
            ret,
            use_errno,
        })))
    }
}

/// The C bits `plan` makes of `value`, or None when `value` is not what
/// the plan converts without Python (the fallback then gives ctypes'
/// answer, errors included): an exact `int` that fits 64 bits (for floats
/// also an exact `float`, or an `int` a double holds).
fn number_bits(plan: ArgPlan, value: &Bound<'_, PyAny>) -> Option<u64> {
    let (ArgPlan::Number(p) | ArgPlan::Int(p)) = plan;
    if p.kind == Kind::Float {
        let f = if let Ok(f) = value.cast_exact::<PyFloat>() {
            f.value()
        } else if value.is_exact_instance_of::<PyInt>() {
            value.extract::<f64>().ok().filter(|f| f.is_finite())?
        } else {
            return None;
        };
        return Some(match p.size {
            4 => u64::from((f as f32).to_bits()),
            _ => f.to_bits(),
        });
    }
    if !value.is_exact_instance_of::<PyInt>() {
        return None;
    }
    let bits = match value.extract::<i64>() {
        Ok(v) => v as u64,
        Err(_) => value.extract::<u64>().ok()?,
    };
    Some(match p.kind {
        Kind::Bool => u64::from(bits != 0),
        _ => bits,
    })
}

/// Run `plan` with `args`, or None when the arguments are not the plan's.
fn run_plan<'py>(
    py: Python<'py>,
    hooks: &Hooks,
    plan: &Plan,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if args.len() != plan.args.len() {
        return Ok(None);
    }
    let function = plan.function.borrow(py);
    let spec = &function.spec;
    let mut buffer = spec.buffer();
    for (index, arg) in plan.args.iter().enumerate() {
        let value = args.get_borrowed_item(index)?;
        let Some(bits) = number_bits(*arg, &value) else {
            return Ok(None);
        };
        let (ArgPlan::Number(p) | ArgPlan::Int(p)) = *arg;
        let size = p.size.min(8);
        buffer
            .slot(spec.offsets[index], size)
            .copy_from_slice(&bits.to_le_bytes()[..size as usize]);
    }
    sync_shadows(py, hooks)?;
    // Only use_errno functions touch ctypes' private errno copy.
    let saved = crate::ffi::errno();
    let returned = invoke(py, &function.function, buffer);
    if !plan.use_errno {
        crate::ffi::set_errno(saved);
    }
    let returned = returned?;
    sync_shadows(py, hooks)?;
    Ok(Some(match plan.ret {
        RetPlan::Void => py.None().into_bound(py),
        RetPlan::Number(p) => decode_bits(py, p, returned.value)?,
        RetPlan::Pointer if returned.value == 0 => py.None().into_bound(py),
        RetPlan::Pointer => PyInt::new(py, returned.value).into_any(),
    }))
}

fn call<'py>(
    py: Python<'py>,
    slf: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let hooks = hooks()?;
    let no_keywords = kwargs.is_none_or(|k| k.is_empty());
    if no_keywords {
        let plan = slf
            .cast::<CDataBase>()
            .ok()
            .and_then(|data| data.borrow().plan.clone());
        if let Some(plan) = plan {
            if let Some(result) = run_plan(py, &hooks, &plan, args)? {
                return Ok(result);
            }
        }
    }
    let mut full = Vec::with_capacity(args.len() + 1);
    full.push(slf.clone());
    full.extend(args.iter());
    hooks
        .slow_call
        .bind(py)
        .call(PyTuple::new(py, full)?, kwargs)
}

/// `tp_call` of function pointer classes.
unsafe extern "C" fn call_slot(
    slf: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the interpreter calls tp_call attached to it, with a live
    // object, a tuple of positional arguments and a dict or NULL.
    let py = unsafe { Python::assume_attached() };
    let (slf, args, kwargs) = unsafe {
        (
            Bound::from_borrowed_ptr(py, slf),
            Bound::from_borrowed_ptr(py, args).cast_into_unchecked::<PyTuple>(),
            Bound::from_borrowed_ptr_or_opt(py, kwargs).map(|k| k.cast_into_unchecked::<PyDict>()),
        )
    };
    match call(py, &slf, &args, kwargs.as_ref()) {
        Ok(result) => result.into_ptr(),
        Err(err) => {
            err.restore(py);
            std::ptr::null_mut()
        }
    }
}

/// The Rust base of `CField` (and of the `value` of simple types): a data
/// descriptor whose plan, when app.py set one, reads and writes a plain
/// number at the owner's address plus an offset. Everything else goes to
/// the subclass's `_get(obj)` / `_set(obj, value)`.
#[pyclass(name = "_FieldBase", subclass, module = "_ctypes")]
#[derive(Default)]
pub struct FieldBase {
    fast: Option<(u64, Prim)>,
}

#[pymethods]
impl FieldBase {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        FieldBase::default()
    }

    /// Plan the field as the number type `code` at `offset` (None: no plan).
    fn _set_fast(&mut self, offset: u64, code: Option<&str>) -> PyResult<()> {
        self.fast = match code {
            Some(code) if NUMBER_CODES.contains(code) => Some((offset, prim_of(code)?)),
            Some(code) => {
                return Err(PyValueError::new_err(format!(
                    "no field plan for type {code:?}"
                )))
            }
            None => None,
        };
        Ok(())
    }

    fn __get__<'py>(
        slf: &Bound<'py, Self>,
        obj: Option<&Bound<'py, PyAny>>,
        _owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(slf.clone().into_any());
        };
        if let (Some((offset, p)), Ok(data)) = (slf.borrow().fast, obj.cast::<CDataBase>()) {
            let hooks = hooks()?;
            if hooks.shadows.bind(py).len() == 0 {
                let addr = data.borrow().addr.wrapping_add(offset);
                return decode_bits(py, p, memory::load(addr, p.scalar).or_raise(py)?);
            }
        }
        slf.call_method1(intern!(py, "_get"), (obj,))
    }

    fn __set__(
        slf: &Bound<'_, Self>,
        obj: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let py = slf.py();
        if let (Some((offset, p)), Ok(data)) = (slf.borrow().fast, obj.cast::<CDataBase>()) {
            if let Some(bits) = number_bits(ArgPlan::Number(p), value) {
                let hooks = hooks()?;
                if hooks.shadows.bind(py).len() == 0 {
                    let addr = data.borrow().addr.wrapping_add(offset);
                    return memory::store(addr, p.scalar, bits).or_raise(py);
                }
            }
        }
        slf.call_method1(intern!(py, "_set"), (obj, value))
            .map(drop)
    }

    fn __delete__(&self, _obj: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyTypeError::new_err("can't delete attribute"))
    }
}

/// Element access of arrays and pointers whose items are plain numbers.
#[derive(Clone, Copy)]
struct ElemPlan {
    size: u64,
    prim: Prim,
    /// An array's length (None: a pointer, unbounded).
    length: Option<i64>,
}

/// Bounded: array types are made on the fly (`c_char * n`).
const ELEM_PLANS_MAX: usize = 1024;

thread_local! {
    /// Per array or pointer type (kept alive here, so its address is not
    /// reused while it is a key): its element plan, or None.
    static ELEM_PLANS: RefCell<HashMap<usize, (Py<PyType>, Option<ElemPlan>)>> =
        RefCell::new(HashMap::new());
}

/// The element plan of `cls`, asked of app.py's `_elem_plan` once.
fn elem_plan(cls: &Bound<'_, PyType>) -> PyResult<Option<ElemPlan>> {
    let key = cls.as_ptr() as usize;
    if let Some(plan) = ELEM_PLANS.with(|m| m.borrow().get(&key).map(|(_, plan)| *plan)) {
        return Ok(plan);
    }
    let py = cls.py();
    let answer = hooks()?.elem_plan.call1(py, (cls,))?;
    let plan = match answer.extract::<Option<(u64, String, Option<i64>)>>(py)? {
        Some((size, code, length)) if NUMBER_CODES.contains(code.as_str()) => Some(ElemPlan {
            size,
            prim: prim_of(&code)?,
            length,
        }),
        _ => None,
    };
    ELEM_PLANS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= ELEM_PLANS_MAX {
            m.clear();
        }
        m.insert(key, (cls.clone().unbind(), plan));
    });
    Ok(plan)
}

/// Forget `cls`'s element plan (a pointer type completed by `set_type`).
#[pyfunction]
pub fn _forget_elem(cls: &Bound<'_, PyType>) {
    let key = cls.as_ptr() as usize;
    let _gone = ELEM_PLANS.with(|m| m.borrow_mut().remove(&key));
}

/// The address of item `index` of `obj` if the fast path applies to it:
/// an exact int index, a planned element type, no shadows to sync.
fn item_address(
    obj: &Bound<'_, CDataBase>,
    index: &Bound<'_, PyAny>,
) -> PyResult<Option<(u64, ElemPlan)>> {
    let py = obj.py();
    if !index.is_exact_instance_of::<PyInt>() {
        return Ok(None);
    }
    let Some(plan) = elem_plan(&obj.get_type())? else {
        return Ok(None);
    };
    if hooks()?.shadows.bind(py).len() > 0 {
        return Ok(None);
    }
    let Ok(mut i) = index.extract::<i64>() else {
        return Ok(None);
    };
    let own = obj.borrow().addr;
    let start = match plan.length {
        Some(length) => {
            // CPython's Array_subscript and Array_item
            if i < 0 {
                i += length;
            }
            if i < 0 || i >= length {
                return Err(PyIndexError::new_err("invalid index"));
            }
            own
        }
        None => {
            let pointer = prim_of("P")?;
            let target = memory::load(own, pointer.scalar).or_raise(py)?;
            if target == 0 {
                return Err(PyValueError::new_err("NULL pointer access"));
            }
            target
        }
    };
    let offset = (i as u64).wrapping_mul(plan.size);
    Ok(Some((start.wrapping_add(offset), plan)))
}

/// `obj[index]` of an array or pointer (app.py's `_getitem` otherwise).
pub fn item_get<'py>(
    obj: &Bound<'py, CDataBase>,
    index: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    if let Some((addr, plan)) = item_address(obj, index)? {
        let p = plan.prim;
        return decode_bits(py, p, memory::load(addr, p.scalar).or_raise(py)?);
    }
    obj.call_method1(intern!(py, "_getitem"), (index,))
}

/// `obj[index] = value` of an array or pointer (app.py's `_setitem`
/// otherwise).
pub fn item_set(
    obj: &Bound<'_, CDataBase>,
    index: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let py = obj.py();
    let plan = elem_plan(&obj.get_type())?;
    if let Some(bits) = plan.and_then(|plan| number_bits(ArgPlan::Number(plan.prim), value)) {
        if let Some((addr, plan)) = item_address(obj, index)? {
            return memory::store(addr, plan.prim.scalar, bits).or_raise(py);
        }
    }
    obj.call_method1(intern!(py, "_setitem"), (index, value))
        .map(drop)
}
