//! Prepared calls: a host signature plus the argument-slot layout, and the
//! buffer one call's arguments are packed into.

use std::rc::Rc;

use pyo3::exceptions::{PyRecursionError, PyTypeError};
use pyo3::prelude::*;

use super::errors::OrRaise;
use super::prim::{write_slot, Encoded, Kind, Prim};
use super::wit::call::{self, CallArgs, CallDone, CallStep, Signature};
use super::wit::types::{Scalar, StructLayout, StructType, ValueType};

/// A struct or union type registered with the host.
#[derive(Debug)]
pub struct Aggregate {
    pub handle: StructType,
    pub layout: StructLayout,
}

/// The type of an argument, result or field.
#[derive(Clone, Debug)]
pub enum ValueSpec {
    Prim(Prim),
    Aggregate(Rc<Aggregate>),
}

impl ValueSpec {
    pub fn size(&self) -> u32 {
        match self {
            ValueSpec::Prim(p) => p.size,
            ValueSpec::Aggregate(a) => a.layout.size,
        }
    }

    pub fn align(&self) -> u32 {
        match self {
            ValueSpec::Prim(p) => p.align,
            ValueSpec::Aggregate(a) => a.layout.alignment,
        }
    }

    fn wit(&self) -> ValueType<'_> {
        match self {
            ValueSpec::Prim(p) => ValueType::Scalar(p.scalar),
            ValueSpec::Aggregate(a) => ValueType::Structure(&a.handle),
        }
    }
}

impl Aggregate {
    /// Lay out a struct (or union) of `fields` with the host's ABI.
    pub fn new(py: Python<'_>, fields: &[ValueSpec], is_union: bool) -> PyResult<Self> {
        let wit: Vec<ValueType<'_>> = fields.iter().map(ValueSpec::wit).collect();
        let (handle, layout) = StructType::new(&wit, is_union).or_raise(py)?;
        Ok(Aggregate { handle, layout })
    }
}

/// A call descriptor prepared once on the host (a libffi CIF).
#[derive(Debug)]
pub struct CallSpec {
    pub signature: Signature,
    pub args: Vec<ValueSpec>,
    pub ret: Option<ValueSpec>,
    /// Slot offset of each argument, then the slot area's size.
    pub offsets: Vec<u32>,
}

impl CallSpec {
    pub fn new(
        py: Python<'_>,
        args: Vec<ValueSpec>,
        ret: Option<ValueSpec>,
        fixed_args: Option<u32>,
    ) -> PyResult<Self> {
        let void = ValueType::Scalar(Scalar::Void);
        let wit_args: Vec<ValueType<'_>> = args.iter().map(ValueSpec::wit).collect();
        let wit_ret = ret.as_ref().map_or(void, ValueSpec::wit);
        let (signature, offsets) =
            Signature::prepare(&wit_args, &wit_ret, fixed_args).or_raise(py)?;
        Ok(CallSpec {
            signature,
            args,
            ret,
            offsets,
        })
    }

    pub fn slots_size(&self) -> usize {
        *self.offsets.last().unwrap_or(&0) as usize
    }

    pub fn buffer(&self) -> ArgBuffer {
        let mut data = SPARE_BUFFER.take();
        data.clear();
        data.resize(self.slots_size(), 0);
        ArgBuffer {
            data,
            relocations: Vec::new(),
        }
    }
}

/// One call's arguments, in the layout the host expects.
pub struct ArgBuffer {
    data: Vec<u8>,
    relocations: Vec<u32>,
}

impl ArgBuffer {
    pub fn slot(&mut self, offset: u32, size: u32) -> &mut [u8] {
        &mut self.data[offset as usize..(offset + size) as usize]
    }

    /// Put an encoded scalar into the slot at `offset`; temporaries go to
    /// the scratch area with the slot pointing at them.
    pub fn put(&mut self, offset: u32, prim: Prim, value: Encoded) {
        match value {
            Encoded::Temporary(bytes) => {
                let at = self.data.len().next_multiple_of(16);
                self.data.resize(at, 0);
                self.data.extend_from_slice(&bytes);
                self.slot(offset, 8)
                    .copy_from_slice(&(at as u64).to_le_bytes());
                self.relocations.push(offset);
            }
            other => write_slot(self.slot(offset, prim.size), &other),
        }
    }

    pub fn put_bytes(&mut self, offset: u32, bytes: &[u8]) {
        self.slot(offset, bytes.len() as u32).copy_from_slice(bytes);
    }
}

/// The outcome of a native call.
pub struct Returned {
    pub value: u64,
    pub bytes: Option<Vec<u8>>,
}

/// How deep native calls may nest through callbacks before Python sees a
/// RecursionError (each level holds a suspended native stack on the host).
const MAX_NESTED_CALLS: usize = 200;

/// The guest has no threads (wasm32-wasip2 without the atomics feature):
/// what this wraps is never shared between threads, which lets a `pyclass`
/// holding it skip PyO3's thread check on every method call.
pub struct NoThreads<T>(pub T);

#[cfg(target_feature = "atomics")]
compile_error!("NoThreads assumes a guest without threads");

// SAFETY: there is only one thread (see above).
unsafe impl<T> Send for NoThreads<T> {}
unsafe impl<T> Sync for NoThreads<T> {}

impl<T> std::ops::Deref for NoThreads<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for NoThreads<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How deep native calls are nested through callbacks right now.
static NESTING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Call `function` with packed arguments, keeping the guest's errno copy
/// in step with the native thread's, and running any callbacks native code
/// makes on the way.
pub fn invoke(py: Python<'_>, function: &call::Function, args: ArgBuffer) -> PyResult<Returned> {
    use std::sync::atomic::Ordering::Relaxed;
    let depth = NESTING.load(Relaxed);
    if depth >= MAX_NESTED_CALLS {
        return Err(PyRecursionError::new_err(format!(
            "native calls nested more than {MAX_NESTED_CALLS} deep through callbacks"
        )));
    }
    let request = CallArgs {
        data: args.data,
        relocations: args.relocations,
        errno: Some(super::errno()),
    };
    NESTING.store(depth + 1, Relaxed);
    let mut step = call::invoke(function, &request);
    let outcome = loop {
        match step {
            Ok(CallStep::Done(CallDone {
                value,
                bytes,
                errno,
            })) => {
                super::set_errno(errno);
                break Ok(Returned { value, bytes });
            }
            Ok(CallStep::Callback(request)) => {
                let reply = super::callback::dispatch(py, request);
                step = call::resume(&reply);
            }
            Err(err) => break Err(err),
        }
    };
    NESTING.store(depth, Relaxed);
    recycle(request.data);
    outcome.or_raise(py)
}

/// The argument buffer is reused: a call allocates nothing in the common
/// case (a call nested in a callback makes its own).
const SPARE_CAPACITY: usize = 4096;

thread_local! {
    static SPARE_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn recycle(data: Vec<u8>) {
    if data.capacity() <= SPARE_CAPACITY {
        SPARE_BUFFER.set(data);
    }
}

/// Whether a type code can be an argument or a result.
pub fn check_usable(prim: Prim, is_result: bool) -> PyResult<()> {
    if prim.kind == Kind::Void && !is_result {
        return Err(PyTypeError::new_err("void is not a valid argument type"));
    }
    Ok(())
}
