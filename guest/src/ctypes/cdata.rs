//! `_CData`: the payload shared by every ctypes instance. Its memory is a
//! block of *host* memory (`memory.alloc`), freed when the object dies, or a
//! view into memory something else owns (`_b_base_` keeps that alive, as in
//! CPython). Objects the memory refers to (strings behind `char *`, targets
//! of pointers) are kept alive in the root object's `_objects` dict.

use std::cell::{Cell, RefCell};

use rustpython_common::lock::{PyRwLock, PyRwLockReadGuard, PyRwLockWriteGuard};
use rustpython_vm::convert::TryFromBorrowedObject;

use rustpython_vm::builtins::{PyBytes, PyDict, PyDictRef, PyStr, PyTuple, PyType, PyTypeRef};
use rustpython_vm::function::{ArgBytesLike, OptionalArg};
use rustpython_vm::protocol::{BufferDescriptor, BufferMethods, PyBuffer};
use rustpython_vm::types::AsBuffer;
use rustpython_vm::{
    pyclass, AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
};

use super::array::Array;
use super::function::CFuncPtr;
use super::info::{encode_simple, is_direct_simple, load_simple, stginfo, store, Shape, StgInfo};
use super::pointer::Pointer;
use super::simple::Simple;
use super::structure::{Structure, Union};
use crate::bindings::memory;
use crate::ffi::errors::OrRaise;
use crate::ffi::memory as mem;
use crate::ffi::prim::{decode_wide, Kind};

#[pyclass(name = "_CData", module = "_ctypes", traverse = "manual")]
#[derive(Debug, PyPayload)]
pub struct CData {
    pub info: PyRef<StgInfo>,
    addr: Cell<u64>,
    size: Cell<usize>,
    owned: Cell<bool>,
    /// `_b_base_`: the object whose memory this one is a view of.
    pub base: RefCell<Option<PyObjectRef>>,
    /// Where this view sits in its base (field, item, or 0 for `.contents`):
    /// the parts of CPython's keep-alive keys.
    index: Cell<isize>,
    /// `_objects`, as CPython lays it out: unset until first needed, then a
    /// dict of what the memory refers to under position keys (`"1"`,
    /// `"0:2"`) for aggregates and pointers, or the one kept object (or
    /// None) for simple types. Only the root of a view chain has one.
    pub objects: RefCell<Option<PyObjectRef>>,
    /// For `from_buffer()` over guest memory: the buffer this memory is a
    /// coherent host copy of (see `super::shadow`).
    shadow: RefCell<Option<std::rc::Rc<super::shadow::Shadow>>>,
    /// Guest-side copy handed out through the buffer protocol, and the
    /// bytes it started from (written back on release if changed).
    mirror: PyRwLock<(Vec<u8>, Vec<u8>)>,
}

// SAFETY: reports `_b_base_` and `_objects`, each at most once (skipped
// while borrowed: then the worst outcome is a cycle kept alive). What is
// left out (the type's StgInfo, the from_buffer shadow) only keeps things
// alive. Without this the collector could not see what a ctypes object
// keeps, so every cycle through `_objects` leaked: `cast()` of a callback
// (the result and the source share a dict holding the source) is one.
unsafe impl rustpython_vm::object::Traverse for CData {
    fn traverse(&self, tracer: &mut rustpython_vm::object::TraverseFn<'_>) {
        if let Ok(base) = self.base.try_borrow() {
            if let Some(base) = base.as_ref() {
                tracer(base);
            }
        }
        if let Ok(objects) = self.objects.try_borrow() {
            if let Some(objects) = objects.as_ref() {
                tracer(objects);
            }
        }
    }

    fn clear(&mut self, out: &mut Vec<PyObjectRef>) {
        out.extend(self.objects.get_mut().take());
    }
}

/// The subclasses that are a `CData` and nothing more trace as one.
macro_rules! traverse_as_cdata {
    ($ty:ty) => {
        // SAFETY: as CData's.
        unsafe impl rustpython_vm::object::Traverse for $ty {
            fn traverse(&self, tracer: &mut rustpython_vm::object::TraverseFn<'_>) {
                rustpython_vm::object::Traverse::traverse(&self.0, tracer)
            }

            fn clear(&mut self, out: &mut Vec<rustpython_vm::PyObjectRef>) {
                rustpython_vm::object::Traverse::clear(&mut self.0, out)
            }
        }
    };
}
pub(crate) use traverse_as_cdata;

impl Drop for CData {
    fn drop(&mut self) {
        if self.owned.get() && self.addr.get() != 0 {
            crate::ffi::arena::free(self.addr.get());
        }
    }
}

impl CData {
    /// Fresh zeroed host memory for one instance of `info`.
    pub fn alloc(vm: &VirtualMachine, info: PyRef<StgInfo>) -> PyResult<Self> {
        let size = info.size;
        let align = info.align.max(1).next_power_of_two() as u32;
        let addr = crate::ffi::arena::alloc(vm, size as u64, align)?;
        Ok(Self::make(info, addr, size, true, None))
    }

    /// Host memory for one instance of `info` holding `data` (its full size).
    pub fn alloc_with(vm: &VirtualMachine, info: PyRef<StgInfo>, data: &[u8]) -> PyResult<Self> {
        if data.len() != info.size {
            let cd = Self::alloc(vm, info)?;
            mem::write(vm, cd.addr(), &data[..data.len().min(cd.size())])?;
            return Ok(cd);
        }
        let align = info.align.max(1).next_power_of_two() as u32;
        let addr = crate::ffi::arena::alloc_with(vm, data, align)?;
        let size = info.size;
        Ok(Self::make(info, addr, size, true, None))
    }

    /// A view of memory owned by `base` (or nobody, for `from_address`).
    pub fn view(info: PyRef<StgInfo>, addr: u64, base: Option<PyObjectRef>) -> Self {
        Self::view_at(info, addr, base, 0)
    }

    /// A view of part `index` (field or item) of `base`'s memory.
    pub fn view_at(
        info: PyRef<StgInfo>,
        addr: u64,
        base: Option<PyObjectRef>,
        index: isize,
    ) -> Self {
        let size = info.size;
        let view = Self::make(info, addr, size, false, base);
        view.index.set(index);
        view
    }

    fn make(
        info: PyRef<StgInfo>,
        addr: u64,
        size: usize,
        owned: bool,
        base: Option<PyObjectRef>,
    ) -> Self {
        info.final_.set(true);
        CData {
            info,
            addr: Cell::new(addr),
            size: Cell::new(size),
            owned: Cell::new(owned),
            base: RefCell::new(base),
            index: Cell::new(0),
            objects: RefCell::new(None),
            shadow: RefCell::new(None),
            mirror: PyRwLock::new((Vec::new(), Vec::new())),
        }
    }

    pub fn addr(&self) -> u64 {
        self.addr.get()
    }

    pub fn shadow(&self) -> Option<std::rc::Rc<super::shadow::Shadow>> {
        self.shadow.borrow().clone()
    }

    /// Whether this object owns its memory (not a view of another's).
    pub fn is_owned(&self) -> bool {
        self.owned.get()
    }

    pub fn size(&self) -> usize {
        self.size.get()
    }

    pub fn read_all(&self, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
        if let Some(shadow) = self.shadow() {
            shadow.sync(vm)?;
        }
        mem::read(vm, self.addr(), self.size())
    }

    /// `resize()`: grow owned memory, keeping its contents.
    pub fn resize(&self, vm: &VirtualMachine, size: usize) -> PyResult<()> {
        if size < self.info.size {
            return Err(vm.new_value_error(format!("minimum size is {}", self.info.size)));
        }
        if !self.owned.get() || self.shadow.borrow().is_some() {
            return Err(
                vm.new_value_error("Memory cannot be resized because this object doesn't own it")
            );
        }
        if size <= self.size() {
            self.size.set(size);
            return Ok(());
        }
        let align = self.info.align.max(1).next_power_of_two() as u32;
        let new = crate::ffi::arena::alloc(vm, size as u64, align)?;
        memory::copy(new, self.addr(), self.size() as u64).or_raise(vm)?;
        crate::ffi::arena::free(self.addr());
        self.addr.set(new);
        self.size.set(size);
        Ok(())
    }

    /// Whether instances have parts that can refer to other objects
    /// (CPython's `b_length != 0`): their `_objects` is a dict.
    fn has_parts(&self) -> bool {
        match &self.info.shape {
            Shape::Simple(_) => false,
            Shape::Array { length, .. } => *length > 0,
            Shape::Struct(st) => !st.fields.is_empty(),
            Shape::Pointer(_) | Shape::Func => true,
        }
    }
}

/// The object that owns the memory `zelf` views (`zelf` if it owns it).
pub fn root_of(zelf: &PyObject) -> PyObjectRef {
    let mut root: PyObjectRef = zelf.to_owned();
    loop {
        let next = match root.downcast_ref::<CData>() {
            Some(cd) => cd.base.borrow().clone(),
            None => None,
        };
        match next {
            Some(b) if b.downcast_ref::<CData>().is_some() => root = b,
            _ => return root,
        }
    }
}

/// CPython's `PyCData_GetContainer`: the root of `zelf`'s view chain, its
/// `_objects` set up (a dict when the type has parts, None otherwise).
pub fn container(zelf: &PyObject, vm: &VirtualMachine) -> Option<PyObjectRef> {
    let root = root_of(zelf);
    let cd = root.downcast_ref::<CData>()?;
    let mut objects = cd.objects.borrow_mut();
    if objects.is_none() {
        *objects = Some(if cd.has_parts() {
            vm.ctx.new_dict().into()
        } else {
            vm.ctx.none()
        });
    }
    drop(objects);
    Some(root)
}

/// CPython's `GetKeepedObjects`: what must stay alive for `src`'s memory
/// to stay valid, to be kept by whatever copies that memory.
pub fn kept_objects(src: &PyObject, vm: &VirtualMachine) -> Option<PyObjectRef> {
    let root = container(src, vm)?;
    let objects = root.downcast_ref::<CData>()?.objects.borrow().clone();
    objects.filter(|o| !vm.is_none(o))
}

/// CPython's `KeepRef`: keep `obj` alive as long as `target`'s memory, at
/// part `index` of it (replacing what that part kept before).
pub fn keep(target: &PyObject, index: isize, obj: PyObjectRef, vm: &VirtualMachine) {
    if vm.is_none(&obj) {
        return;
    }
    let Some(root) = container(target, vm) else {
        return;
    };
    let cd = root.downcast_ref::<CData>().expect("container is a CData");
    // Only types with parts keep a dict (a simple type's kept object may be a
    // dict itself: py_object({...}) must not have entries added to it).
    let dict = cd
        .objects
        .borrow()
        .clone()
        .filter(|_| cd.has_parts())
        .and_then(|o| o.downcast_exact::<PyDict>(vm).ok());
    match dict {
        Some(dict) => {
            // Setting an item of a plain dict with a str key cannot fail.
            let _ = dict.set_item(unique_key(target, index).as_str(), obj, vm);
        }
        None => *cd.objects.borrow_mut() = Some(obj),
    }
}

/// The object kept for part `index` of `target`, if any.
pub fn kept_at(target: &PyObject, index: isize, vm: &VirtualMachine) -> Option<PyObjectRef> {
    let root = root_of(target);
    let cd = root.downcast_ref::<CData>()?;
    let objects = cd.objects.borrow().clone()?;
    if !cd.has_parts() {
        return Some(objects).filter(|o| !vm.is_none(o));
    }
    let dict = objects.downcast_exact::<PyDict>(vm).ok()?;
    dict.get_item_opt(unique_key(target, index).as_str(), vm)
        .ok()
        .flatten()
}

/// CPython's `unique_key`: `index`, then the index of every view on the way
/// up to the root, in hex, joined by ':' (`"0:2"`: item 0 of field 2).
fn unique_key(target: &PyObject, index: isize) -> String {
    // `%x` of a C int: -1 is "ffffffff".
    let mut key = format!("{:x}", index as i32);
    let mut cur: PyObjectRef = target.to_owned();
    loop {
        let Some(cd) = cur.downcast_ref::<CData>() else {
            break;
        };
        let Some(base) = cd.base.borrow().clone() else {
            break;
        };
        if base.downcast_ref::<CData>().is_none() {
            break;
        }
        key.push_str(&format!(":{:x}", cd.index.get() as i32));
        cur = base;
    }
    key
}

pub fn cdata(obj: &PyObject) -> Option<&Py<CData>> {
    obj.downcast_ref::<CData>()
}

/// A new instance of the ctypes type `cls` over `data`.
pub fn instantiate(vm: &VirtualMachine, cls: PyTypeRef, data: CData) -> PyResult<PyObjectRef> {
    let obj: PyObjectRef = match &data.info.shape {
        Shape::Simple(_) => Simple(data).into_ref_with_type(vm, cls)?.into(),
        Shape::Pointer(_) => Pointer(data).into_ref_with_type(vm, cls)?.into(),
        Shape::Array { .. } => Array(data).into_ref_with_type(vm, cls)?.into(),
        Shape::Struct(st) if st.is_union => Union(data).into_ref_with_type(vm, cls)?.into(),
        Shape::Struct(_) => Structure(data).into_ref_with_type(vm, cls)?.into(),
        Shape::Func => CFuncPtr::with_data(data)
            .into_ref_with_type(vm, cls)?
            .into(),
    };
    Ok(obj)
}

/// `cls.from_address(addr)` and friends: an instance viewing `addr`.
pub fn at_address(
    vm: &VirtualMachine,
    cls: PyTypeRef,
    addr: u64,
    base: Option<PyObjectRef>,
) -> PyResult<PyObjectRef> {
    let info = stginfo(vm, cls.as_object())?;
    instantiate(vm, cls, CData::view(info, addr, base))
}

/// The simple base class, for "is this a fundamental simple type" checks.
pub fn simple_base() -> &'static Py<PyType> {
    <Simple as rustpython_vm::class::StaticType>::static_type()
}

/// The Python value of a `ty` stored at `addr` (fields, items, contents):
/// fundamental simple types and char arrays become Python values, anything
/// else a view instance kept alive through `owner`.
pub fn get_at(
    vm: &VirtualMachine,
    ty: &PyTypeRef,
    info: &PyRef<StgInfo>,
    addr: u64,
    owner: &PyObject,
    index: isize,
) -> PyResult {
    match &info.shape {
        Shape::Simple(sc) if is_direct_simple(ty, simple_base()) => {
            return load_simple(vm, *sc, addr)
        }
        Shape::Array {
            elem, elem_info, ..
        } if is_direct_simple(elem, simple_base()) => {
            if let Some(sc) = elem_info.simple() {
                if sc.prim.kind == Kind::Char {
                    let mut bytes = mem::read(vm, addr, info.size)?;
                    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
                        bytes.truncate(nul);
                    }
                    return Ok(vm.ctx.new_bytes(bytes).into());
                }
                if sc.prim.kind == Kind::WChar {
                    return Ok(vm
                        .ctx
                        .new_str(wide_value(vm, addr, info.size, sc.prim.size)?)
                        .into());
                }
            }
        }
        _ => {}
    }
    instantiate(
        vm,
        ty.clone(),
        CData::view_at(info.clone(), addr, Some(owner.to_owned()), index),
    )
}

/// A wide string of at most `size` bytes at `addr`, up to its NUL.
pub fn wide_value(vm: &VirtualMachine, addr: u64, size: usize, unit: u32) -> PyResult<String> {
    let bytes = mem::read(vm, addr, size)?;
    let unit = unit as usize;
    let end = bytes
        .chunks_exact(unit)
        .position(|c| c.iter().all(|&b| b == 0))
        .map_or(bytes.len() / unit * unit, |i| i * unit);
    decode_wide(vm, &bytes[..end])
}

fn incompatible(
    vm: &VirtualMachine,
    value: &PyObject,
    ty: &PyType,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    vm.new_type_error(format!(
        "incompatible types, {} instance instead of {} instance",
        value.class().name(),
        ty.name()
    ))
}

/// Store `value` as a `ty` at `addr`, part `index` of `owner` (CPython's
/// `PyCData_set`): the memory, and what it refers to kept alive by `owner`.
pub fn set_at(
    vm: &VirtualMachine,
    ty: &PyTypeRef,
    info: &PyRef<StgInfo>,
    addr: u64,
    value: PyObjectRef,
    owner: &PyObject,
    index: isize,
) -> PyResult<()> {
    if let Some(src) = cdata(&value) {
        if value.class().fast_issubclass(ty) {
            memory::copy(addr, src.addr(), info.size as u64).or_raise(vm)?;
            let kept = match info.shape {
                // A function pointer's code (a callback's closure) lives as
                // long as the function object: keep the object itself.
                Shape::Func => Some(value.clone()),
                _ => kept_objects(&value, vm),
            };
            if let Some(kept) = kept {
                keep(owner, index, kept, vm);
            }
            return Ok(());
        }
    }
    match &info.shape {
        Shape::Simple(sc) => {
            let stored = encode_simple(vm, *sc, &value)?;
            store(vm, *sc, addr, &stored)?;
            if let Some(kept) = stored.keep {
                keep(owner, index, kept, vm);
            }
            Ok(())
        }
        Shape::Pointer(target) => {
            if vm.is_none(&value) {
                memory::store(addr, super::info::pointer_prim().scalar, 0).or_raise(vm)?;
                return Ok(());
            }
            if let (Some(src), Some(target)) = (cdata(&value), target.borrow().clone()) {
                if let Shape::Array { elem, .. } = &src.info.shape {
                    if elem.fast_issubclass(&target) {
                        memory::store(addr, super::info::pointer_prim().scalar, src.addr())
                            .or_raise(vm)?;
                        keep(owner, index, value.clone(), vm);
                        return Ok(());
                    }
                }
            }
            Err(incompatible(vm, &value, ty))
        }
        Shape::Array { elem_info, .. } => {
            // char and wchar_t arrays take bytes and str only (CPython's s/U setfuncs)
            match elem_info.simple().map(|sc| sc.prim) {
                Some(p) if p.kind == Kind::Char => {
                    let b = value.downcast_ref::<PyBytes>().ok_or_else(|| {
                        vm.new_type_error(format!("expected bytes, {} found", value.class().name()))
                    })?;
                    // As CPython's s_set: the string up to its first NUL.
                    let data = b.as_bytes();
                    let data = &data[..data.iter().position(|&c| c == 0).unwrap_or(data.len())];
                    if data.len() > info.size {
                        return Err(vm.new_value_error(format!(
                            "bytes too long ({}, maximum length {})",
                            data.len(),
                            info.size
                        )));
                    }
                    return write_chars(vm, addr, info.size, data, 1);
                }
                Some(p) if p.kind == Kind::WChar => {
                    let s = value.downcast_ref::<PyStr>().ok_or_else(|| {
                        vm.new_type_error(format!(
                            "unicode string expected instead of {} instance",
                            value.class().name()
                        ))
                    })?;
                    let data = crate::ffi::prim::encode_wide(vm, s)?;
                    return write_chars(vm, addr, info.size, &data, p.size as usize);
                }
                _ => {}
            }
            if let Some(t) = value.downcast_ref::<PyTuple>() {
                let made = construct_from_tuple(vm, ty, t)?;
                return set_at(vm, ty, info, addr, made, owner, index);
            }
            Err(incompatible(vm, &value, ty))
        }
        Shape::Struct(_) => {
            if let Some(t) = value.downcast_ref::<PyTuple>() {
                let made = construct_from_tuple(vm, ty, t)?;
                return set_at(vm, ty, info, addr, made, owner, index);
            }
            Err(incompatible(vm, &value, ty))
        }
        Shape::Func => {
            if vm.is_none(&value) {
                memory::store(addr, super::info::pointer_prim().scalar, 0).or_raise(vm)?;
                return Ok(());
            }
            Err(incompatible(vm, &value, ty))
        }
    }
}

/// `ty(*values)` for a struct or array field set from a tuple; a failure is
/// reported as CPython 3.11 does: RuntimeError "(Type) TypeError: message".
fn construct_from_tuple(vm: &VirtualMachine, ty: &PyTypeRef, values: &PyTuple) -> PyResult {
    let args = rustpython_vm::function::FuncArgs::from(values.as_slice().to_vec());
    ty.as_object().call(args, vm).map_err(|e| {
        let message = e
            .as_object()
            .str(vm)
            .map(|s| s.to_string())
            .unwrap_or_default();
        vm.new_runtime_error(format!("({}) {}: {}", ty.name(), e.class().name(), message))
    })
}

/// Bytes into a char array of `cap` bytes, NUL-terminated (one `unit`)
/// when there is room.
pub fn write_chars(
    vm: &VirtualMachine,
    addr: u64,
    cap: usize,
    data: &[u8],
    unit: usize,
) -> PyResult<()> {
    if data.len() > cap {
        return Err(vm.new_value_error("byte string too long"));
    }
    let mut buf = data.to_vec();
    let pad = (cap - data.len()).min(unit);
    buf.extend(std::iter::repeat_n(0, pad));
    mem::write(vm, addr, &buf)
}

fn buffer_data(buffer: &PyBuffer) -> &CData {
    buffer.obj_as::<CData>()
}

static CDATA_BUFFER: BufferMethods = BufferMethods {
    obj_bytes: |buffer| {
        PyRwLockReadGuard::map(buffer_data(buffer).mirror.read(), |m| &m.0[..]).into()
    },
    obj_bytes_mut: |buffer| {
        PyRwLockWriteGuard::map(buffer_data(buffer).mirror.write(), |m| &mut m.0[..]).into()
    },
    release: |buffer| {
        let data = buffer_data(buffer);
        let mirror = data.mirror.read();
        if mirror.0 != mirror.1 && mirror.0.len() == data.size() {
            let _ = memory::write(data.addr(), &mirror.0);
        }
    },
    retain: |_| {},
};

impl AsBuffer for CData {
    fn as_buffer(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyBuffer> {
        let bytes = zelf.read_all(vm)?;
        *zelf.mirror.write() = (bytes.clone(), bytes);
        let info = &zelf.info;
        let (itemsize, format) = match &info.shape {
            Shape::Array { .. } => {
                // the innermost element's size and format
                let mut inner = info.clone();
                while let Shape::Array { elem_info, .. } = &inner.shape {
                    let next = elem_info.clone();
                    inner = next;
                }
                (inner.size, inner.format.clone())
            }
            _ => (info.size, info.format.clone()),
        };
        // a scalar view of an empty structure has itemsize 0, as in CPython
        let itemsize = if info.dims.is_empty() {
            itemsize
        } else {
            itemsize.max(1)
        };
        let mut dim_desc = Vec::new();
        let mut stride = info.size as isize;
        for &d in &info.dims {
            stride /= d.max(1) as isize;
            dim_desc.push((d, stride, 0));
        }
        let desc = BufferDescriptor {
            len: zelf.size(),
            readonly: false,
            itemsize,
            format: format.into(),
            dim_desc,
        };
        Ok(PyBuffer::new(zelf.to_owned().into(), desc, &CDATA_BUFFER))
    }
}

#[pyclass(flags(BASETYPE), with(AsBuffer))]
impl CData {
    #[pygetset(name = "_objects")]
    fn objects_get(&self) -> Option<PyObjectRef> {
        self.objects.borrow().clone()
    }

    #[pygetset(name = "_b_base_")]
    fn b_base(&self) -> Option<PyObjectRef> {
        self.base.borrow().clone()
    }

    #[pygetset(name = "_b_needsfree_")]
    fn b_needsfree(&self) -> bool {
        // a from_buffer() object's memory is the buffer's, as in CPython
        self.owned.get() && self.shadow.borrow().is_none()
    }

    #[pyclassmethod]
    fn from_address(cls: PyTypeRef, address: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        let addr = super::info::int_of(vm, &address)?;
        at_address(vm, cls, addr, None)
    }

    /// Shares the memory of a ctypes object; for other writable buffers the
    /// guest cannot share its own memory with native code, so the data is
    /// copied (documented limitation).
    #[pyclassmethod]
    fn from_buffer(
        cls: PyTypeRef,
        source: PyObjectRef,
        offset: OptionalArg<isize>,
        vm: &VirtualMachine,
    ) -> PyResult {
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(vm.new_value_error("offset cannot be negative"));
        }
        let info = stginfo(vm, cls.as_object())?;
        if let Some(src) = cdata(&source) {
            if src.size() < info.size + offset as usize {
                return Err(vm.new_value_error(format!(
                    "Buffer size too small ({} instead of at least {} bytes)",
                    src.size(),
                    info.size + offset as usize
                )));
            }
            let obj = at_address(vm, cls, src.addr() + offset as u64, Some(source.clone()))?;
            return Ok(obj);
        }
        let buffer = PyBuffer::try_from_borrowed_object(vm, &source)?;
        if buffer.desc.readonly {
            return Err(vm.new_type_error("underlying buffer is not writable"));
        }
        if !buffer.desc.is_contiguous() {
            return Err(vm.new_type_error("underlying buffer is not C contiguous"));
        }
        let offset = offset as usize;
        let available = buffer.desc.len;
        if available < info.size + offset {
            return Err(vm.new_value_error(format!(
                "Buffer size too small ({available} instead of at least {} bytes)",
                info.size + offset
            )));
        }
        // Guest memory is not native memory: work on a host copy kept
        // coherent with the buffer (super::shadow).
        let data = buffer.obj_bytes()[offset..offset + info.size].to_vec();
        let cd = CData::alloc_with(vm, info.clone(), &data)?;
        let shadow = super::shadow::Shadow::register(buffer, offset, cd.addr(), info.size);
        *cd.shadow.borrow_mut() = Some(shadow);
        let obj = instantiate(vm, cls, cd)?;
        // as CPython, which keeps a memoryview of the source
        keep(&obj, -1, source, vm);
        Ok(obj)
    }

    #[pyclassmethod]
    fn from_buffer_copy(
        cls: PyTypeRef,
        source: ArgBytesLike,
        offset: OptionalArg<isize>,
        vm: &VirtualMachine,
    ) -> PyResult {
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(vm.new_value_error("offset cannot be negative"));
        }
        let info = stginfo(vm, cls.as_object())?;
        let data = source.borrow_buf();
        let need = info.size + offset as usize;
        if data.len() < need {
            return Err(vm.new_value_error(format!(
                "Buffer size too small ({} instead of at least {} bytes)",
                data.len(),
                need
            )));
        }
        let chunk = data[offset as usize..need].to_vec();
        drop(data);
        let cd = CData::alloc(vm, info)?;
        mem::write(vm, cd.addr(), &chunk)?;
        instantiate(vm, cls, cd)
    }

    #[pyclassmethod]
    fn in_dll(
        cls: PyTypeRef,
        dll: PyObjectRef,
        name: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult {
        let handle = dll.get_attr("_handle", vm)?;
        let handle = super::info::int_of(vm, &handle)?;
        let name = name
            .downcast_ref::<PyStr>()
            .ok_or_else(|| vm.new_type_error("symbol name must be a string"))?;
        // a missing symbol is ValueError here (AttributeError on a library)
        let addr = super::library::symbol(vm, handle, crate::ffi::errors::utf8(vm, name)?)
            .map_err(|e| {
                if e.fast_isinstance(vm.ctx.exceptions.attribute_error) {
                    let msg = e.as_object().str(vm).map(|s| s.to_string());
                    vm.new_value_error(msg.unwrap_or_else(|_| "symbol not found".to_owned()))
                } else {
                    e
                }
            })?;
        at_address(vm, cls, addr, None)
    }

    #[pymethod]
    fn __ctypes_from_outparam__(zelf: PyObjectRef) -> PyObjectRef {
        zelf
    }

    /// As CPython: `(_unpickle, (type, (__dict__, bytes)))`, refused for
    /// objects that hold addresses.
    #[pymethod]
    fn __reduce__(zelf: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        let cd = cdata(&zelf).ok_or_else(|| vm.new_type_error("not a ctypes instance"))?;
        if cd.info.has_pointer() {
            return Err(vm.new_value_error("ctypes objects containing pointers cannot be pickled"));
        }
        let dict = zelf
            .get_attr("__dict__", vm)
            .unwrap_or_else(|_| vm.ctx.new_dict().into());
        let data = vm.ctx.new_bytes(cd.read_all(vm)?);
        let unpickle = vm.import("_ctypes", 0)?.get_attr("_unpickle", vm)?;
        let state = vm.ctx.new_tuple(vec![dict, data.into()]);
        let args = vm
            .ctx
            .new_tuple(vec![zelf.class().to_owned().into(), state.into()]);
        Ok(vm.ctx.new_tuple(vec![unpickle, args.into()]).into())
    }

    #[pymethod]
    fn __setstate__(
        zelf: PyObjectRef,
        dict: PyDictRef,
        data: ArgBytesLike,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let cd = cdata(&zelf).ok_or_else(|| vm.new_type_error("not a ctypes instance"))?;
        data.with_ref(|bytes| {
            let len = bytes.len().min(cd.size());
            mem::write(vm, cd.addr(), &bytes[..len])
        })?;
        if let Ok(mine) = zelf.get_attr("__dict__", vm) {
            vm.call_method(&mine, "update", (dict,))?;
        }
        Ok(())
    }
}
