//! Prepared signatures and the native calls through them.
//!
//! A call's arguments arrive as one buffer: each argument in a slot at an
//! offset fixed when the signature was prepared (8-aligned, or more for
//! over-aligned types), scratch space after the slots. The executor points
//! libffi at those slots, calls, and reads errno before anything else can
//! touch it.

use std::ffi::c_void;
use std::ops::Deref;

use libffi::middle::{Cif, Type};
use serde::{Deserialize, Serialize};

use crate::low::memory::scalar_bits;
use crate::middle::types::{lay_out, Scalar, Ty};
use crate::{Crash, Error};

/// Argument count past which a signature is refused (libffi and sanity).
pub const MAX_ARGS: usize = 1024;
/// Argument buffers up to this many 16-byte words are staged on the stack.
pub const STACK_WORDS: usize = 32;
/// Argument pointer arrays and result buffers up to these sizes live on the stack.
const STACK_ARGS: usize = 16;
pub const STACK_RESULT_WORDS: usize = 4;

/// A signature as it crosses between host and executor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SigShape {
    pub args: Vec<Ty>,
    pub ret: Ty,
    /// Set for a variadic function: how many arguments are fixed.
    pub fixed_args: Option<u32>,
}

/// An argument as checked mode sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ArgKind {
    Scalar(Scalar),
    /// Offsets of the pointers inside (None: a union holding pointers).
    Struct {
        size: u32,
        pointers: Option<Vec<u32>>,
    },
}

/// What the result buffer holds after a call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Return {
    Void,
    Scalar(Scalar, usize),
    /// Struct, union or long double: returned as bytes.
    Bytes(usize),
}

impl Return {
    pub fn buffer_size(self) -> usize {
        match self {
            Return::Void => 8,
            // libffi widens small integer results to a full `ffi_arg`.
            Return::Scalar(_, size) => size.max(8),
            Return::Bytes(size) => size.max(8),
        }
    }
}

/// Where a signature's arguments go and what it returns, on the
/// architecture that prepared it: plain data, sent by a helper to the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SigLayout {
    /// Where each argument's slot starts in the argument buffer.
    pub arg_offsets: Vec<u32>,
    /// Sizes of the arguments' C types (the slots may be larger).
    pub arg_sizes: Vec<u32>,
    /// Total size of the slot area; scratch space follows it.
    pub slots_size: u32,
    pub ret: Return,
    /// What each argument is (checked mode and pinned signatures).
    pub kinds: Vec<ArgKind>,
    pub fixed_args: Option<u32>,
    pub ret_long_double: bool,
    pub shape: SigShape,
}

/// A signature prepared for calls: its layout and, where it was prepared
/// in this process, the libffi CIF.
pub struct Prepared {
    layout: SigLayout,
    cif: Option<FfiCif>,
    /// Set when the call needs no libffi (see [`direct_words`]): each
    /// argument's slot offset and type.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(dead_code)
    )]
    direct: Option<Box<[(u32, Scalar)]>>,
}

impl Deref for Prepared {
    type Target = SigLayout;
    fn deref(&self) -> &SigLayout {
        &self.layout
    }
}

/// libffi's CIFs are plain data without thread affinity.
struct FfiCif(Cif);
unsafe impl Send for FfiCif {}
unsafe impl Sync for FfiCif {}

/// Whether a call can skip libffi: not variadic, at most six arguments,
/// each an integer or a pointer, and an integer, pointer or void result.
/// These pass in the first integer registers on the targets this is
/// compiled for, however the function is declared.
fn direct_words(
    kinds: &[ArgKind],
    offsets: &[u32],
    ret: Return,
    variadic: bool,
) -> Option<Box<[(u32, Scalar)]>> {
    let word = |s: Scalar| {
        !matches!(
            s,
            Scalar::Void | Scalar::Float32 | Scalar::Float64 | Scalar::LongDouble
        )
    };
    let ret_ok = match ret {
        Return::Void => true,
        Return::Scalar(s, _) => word(s),
        Return::Bytes(_) => false,
    };
    if variadic
        || !ret_ok
        || kinds.len() > 6
        || !cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
    {
        return None;
    }
    kinds
        .iter()
        .zip(offsets)
        .map(|(kind, &offset)| match kind {
            ArgKind::Scalar(s) if word(*s) => Some((offset, *s)),
            _ => None,
        })
        .collect()
}

impl Prepared {
    /// Lay out `shape` with this architecture's libffi and build its CIF.
    pub fn new(shape: SigShape) -> Result<Prepared, Error> {
        if shape.args.len() > MAX_ARGS {
            return Err(Error::LimitExceeded(format!(
                "{} arguments (at most {MAX_ARGS})",
                shape.args.len()
            )));
        }
        let mut arg_types: Vec<Type> = Vec::with_capacity(shape.args.len());
        let mut arg_offsets = Vec::with_capacity(shape.args.len());
        let mut arg_sizes = Vec::with_capacity(shape.args.len());
        let mut kinds = Vec::with_capacity(shape.args.len());
        let mut cursor = 0usize;
        for (index, arg) in shape.args.iter().enumerate() {
            if *arg == Ty::Scalar(Scalar::Void) {
                return Err(Error::InvalidArgument(format!(
                    "argument {index} cannot be void"
                )));
            }
            let laid = lay_out(arg)?;
            let (size, align) = (laid.layout.size as usize, laid.layout.alignment as usize);
            let offset = cursor.next_multiple_of(align.max(8));
            arg_offsets.push(offset as u32);
            arg_sizes.push(size as u32);
            cursor = offset + size.next_multiple_of(8);
            arg_types.push(laid.ffi.0);
            kinds.push(kind_of(arg, size as u32, laid.layout.pointers));
        }
        let ret = lay_out(&shape.ret)?;
        let ret_size = ret.layout.size as usize;
        let ret_kind = match &shape.ret {
            Ty::Scalar(Scalar::Void) => Return::Void,
            Ty::Scalar(Scalar::LongDouble) => Return::Bytes(ret_size),
            Ty::Scalar(kind) => Return::Scalar(*kind, ret_size),
            Ty::Aggregate { .. } => Return::Bytes(ret_size),
        };
        let count = shape.args.len();
        let cif = match shape.fixed_args {
            None => Cif::try_new(arg_types, ret.ffi.0),
            Some(fixed) => {
                if fixed as usize > count {
                    return Err(Error::InvalidArgument(format!(
                        "{fixed} fixed arguments but only {count} arguments"
                    )));
                }
                Cif::try_new_variadic(arg_types, fixed as usize, ret.ffi.0)
            }
        }
        .map_err(|e| {
            Error::InvalidArgument(format!("libffi cannot prepare this signature: {e:?}"))
        })?;
        let direct = direct_words(&kinds, &arg_offsets, ret_kind, shape.fixed_args.is_some());
        Ok(Prepared {
            direct,
            cif: Some(FfiCif(cif)),
            layout: SigLayout {
                arg_offsets,
                arg_sizes,
                slots_size: cursor as u32,
                ret: ret_kind,
                kinds,
                fixed_args: shape.fixed_args,
                ret_long_double: shape.ret == Ty::Scalar(Scalar::LongDouble),
                shape,
            },
        })
    }

    /// A signature another process prepared (a helper for another
    /// architecture): its layout only, never called here.
    pub fn remote(layout: SigLayout) -> Prepared {
        Prepared {
            layout,
            cif: None,
            direct: None,
        }
    }

    pub fn layout(&self) -> &SigLayout {
        &self.layout
    }

    /// The CIF; `None` for a [`Prepared::remote`] signature.
    pub fn cif_ptr(&self) -> Option<*mut libffi::low::ffi_cif> {
        self.cif.as_ref().map(|c| c.0.as_raw_ptr())
    }
}

fn kind_of(ty: &Ty, size: u32, pointers: Option<Vec<u32>>) -> ArgKind {
    match ty {
        Ty::Scalar(s) => ArgKind::Scalar(*s),
        Ty::Aggregate { .. } => ArgKind::Struct { size, pointers },
    }
}

/// Run the native call: errno set just before, read right after, on this
/// thread. `staged` holds the argument slots; `ret` receives the result.
/// Returns errno, or the signal that ended the call if native code crashed.
///
/// # Safety
/// `staged` must hold the slots `sig` describes and `ret` must be at least
/// `sig.ret.buffer_size()` bytes, 16-byte aligned; `sig` must have been
/// prepared in this process.
pub unsafe fn call_native(
    sig: &Prepared,
    address: u64,
    staged: *mut u8,
    ret: *mut u128,
    errno: Option<i32>,
) -> Result<i32, i32> {
    let code: unsafe extern "C" fn() = std::mem::transmute(address as usize);
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    if let Some(direct) = &sig.direct {
        let mut words = [0u64; 6];
        for (word, &(offset, kind)) in words.iter_mut().zip(direct.iter()) {
            let slot = std::slice::from_raw_parts(
                staged.add(offset as usize),
                crate::middle::types::scalar_size(kind),
            );
            // Widened as libffi widens: sign- or zero-extended.
            *word = scalar_bits(kind, slot);
        }
        let errno_slot = libc::__errno_location();
        if let Some(value) = errno {
            *errno_slot = value;
        }
        let value = crate::low::fault::guarded_words_call(code, &words)?;
        // As libffi leaves it: a full register (`finish` keeps the C width).
        ret.cast::<u64>().write(value);
        return Ok(*errno_slot);
    }
    let cif = sig
        .cif_ptr()
        .expect("a signature prepared elsewhere is never called here");
    let mut stack_ptrs = [std::ptr::null_mut::<c_void>(); STACK_ARGS];
    let mut heap_ptrs = Vec::new();
    let arg_ptrs: &mut [*mut c_void] = if sig.arg_offsets.len() <= STACK_ARGS {
        &mut stack_ptrs[..sig.arg_offsets.len()]
    } else {
        heap_ptrs.resize(sig.arg_offsets.len(), std::ptr::null_mut());
        &mut heap_ptrs
    };
    for (ptr, &offset) in arg_ptrs.iter_mut().zip(&sig.arg_offsets) {
        *ptr = staged.add(offset as usize).cast();
    }
    let errno_slot = libc::__errno_location();
    if let Some(value) = errno {
        *errno_slot = value;
    }
    // The function's address and signature are the caller's claim (ctypes
    // semantics under the trusted memory mode).
    crate::low::fault::guarded_call(cif, code, ret.cast(), arg_ptrs.as_mut_ptr())?;
    Ok(*errno_slot)
}

thread_local! {
    /// The argument buffer of the latest call that passed strings by value.
    static RETAINED_SCRATCH: std::cell::RefCell<Vec<u128>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keep a finished call's argument buffer until the next such call ends: a
/// `char *` result may point into a string passed by value (`strchr(b"abc",
/// ...)`), and the guest reads it right after the call, as CPython does
/// while the argument object is still alive.
pub fn retain_scratch(staged: Vec<u128>) {
    RETAINED_SCRATCH.with(|r| *r.borrow_mut() = staged);
}

/// A finished call: its result (a scalar widened to 64 bits, or the bytes
/// of a struct, union or long double) and errno.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub value: u64,
    pub bytes: Option<Vec<u8>>,
    pub errno: i32,
}

/// What the caller hears when native code crashed in this process.
pub fn crash_report(function: &str, signal: i32) -> Crash {
    Crash {
        signal,
        signal_name: crate::low::fault::signal_name(signal),
        function: function.to_owned(),
        recoverable: false,
    }
}

/// Turn a finished call's result buffer into what the caller gets.
pub fn finish(sig: &SigLayout, ret: &[u128], errno: i32) -> Done {
    // SAFETY: plain bytes of the result buffer.
    let ret_bytes =
        unsafe { std::slice::from_raw_parts(ret.as_ptr().cast::<u8>(), ret.len() * 16) };
    match sig.ret {
        Return::Void => Done {
            value: 0,
            bytes: None,
            errno,
        },
        Return::Scalar(kind, size) => {
            let value = match kind {
                Scalar::Float32 | Scalar::Float64 | Scalar::Pointer => {
                    scalar_bits(kind, &ret_bytes[..size])
                }
                // Integers come back widened to ffi_arg (a pointer's width),
                // 64-bit ones in full; keep the C width.
                _ => {
                    let word = if size == 8 {
                        u64::from_ne_bytes(ret_bytes[..8].try_into().expect("8 bytes"))
                    } else {
                        let width = std::mem::size_of::<usize>();
                        let mut raw = [0u8; 8];
                        raw[..width].copy_from_slice(&ret_bytes[..width]);
                        usize::from_ne_bytes(raw[..width].try_into().expect("a word")) as u64
                    };
                    crate::low::memory::int_bits(kind, word)
                }
            };
            Done {
                value,
                bytes: None,
                errno,
            }
        }
        Return::Bytes(size) => {
            let mut bytes = ret_bytes[..size].to_vec();
            // long double crosses in the wire's order, like the argument slots.
            if sig.ret_long_double && cfg!(target_endian = "big") {
                bytes.reverse();
            }
            Done {
                value: 0,
                bytes: Some(bytes),
                errno,
            }
        }
    }
}
