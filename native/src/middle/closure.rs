//! What a native call's caller sees of callbacks: how a call's crossing
//! ends ([`Step`]), a callback's arguments packed like a call's, and its
//! result written where libffi expects it. The closures and coroutines of
//! callbacks in this process are in `coroutine.rs` (feature `in-process`);
//! a helper process serves callbacks without them (`high::executor`).

use std::ffi::c_void;

use crate::low::memory::{int_bits, scalar_bytes};
use crate::middle::signature::{Done, Prepared, Return, SigLayout};
use crate::middle::types::Scalar;

#[cfg(feature = "in-process")]
pub use crate::middle::coroutine::{Callbacks, Slot};

/// How a native call's crossing ends: done, or calling back with a
/// callback's arguments (kept inline when few).
pub enum Step {
    Done(Done),
    Callback { id: u32, args: Bytes },
}

/// Bytes kept inline when they are few (a callback's arguments and result
/// are mostly a few scalars), so delivering a callback allocates nothing.
pub enum Bytes {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(Vec<u8>),
}

const INLINE: usize = 64;

impl Bytes {
    pub fn zeroed(len: usize) -> Bytes {
        if len <= INLINE {
            Bytes::Inline {
                len: len as u8,
                data: [0; INLINE],
            }
        } else {
            Bytes::Heap(vec![0; len])
        }
    }

    pub fn from_slice(bytes: &[u8]) -> Bytes {
        let mut out = Bytes::zeroed(bytes.len());
        out.as_mut_slice().copy_from_slice(bytes);
        out
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, data } => &data[..*len as usize],
            Bytes::Heap(v) => v,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Bytes::Inline { len, data } => &mut data[..*len as usize],
            Bytes::Heap(v) => v,
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Bytes::Inline { .. } => self.as_slice().to_vec(),
            Bytes::Heap(v) => v,
        }
    }
}

/// A closure's C arguments, packed in slots like a call's.
///
/// # Safety
/// `args` must be the argument array libffi passed for `sig`.
pub unsafe fn pack_args(sig: &Prepared, args: *const *const c_void) -> Vec<u8> {
    let mut packed = vec![0u8; sig.slots_size as usize];
    pack_args_into(sig, args, &mut packed);
    packed
}

/// [`pack_args`] into `packed`, `sig.slots_size` zeroed bytes.
///
/// # Safety
/// As [`pack_args`].
pub(crate) unsafe fn pack_args_into(sig: &Prepared, args: *const *const c_void, packed: &mut [u8]) {
    debug_assert_eq!(packed.len(), sig.slots_size as usize);
    for (index, (offset, &size)) in sig.arg_offsets.iter().zip(&sig.arg_sizes).enumerate() {
        let from = *args.add(index) as *const u8;
        std::ptr::copy_nonoverlapping(
            from,
            packed.as_mut_ptr().add(*offset as usize),
            size as usize,
        );
    }
    crate::middle::staging::wire_order(sig, packed, &[]);
}

/// Store the guest's reply where libffi expects the closure's result:
/// integers narrower than a register are widened to a full `ffi_arg`. The
/// reply is in the wire's byte order (little-endian, see
/// [`crate::middle::staging::wire_order`]).
pub unsafe fn write_result(sig: &SigLayout, reply: &[u8], result: *mut u8) {
    match sig.ret {
        Return::Void => {}
        Return::Scalar(kind, size) if reply.len() >= size => {
            let mut bytes = [0u8; 8];
            bytes[..size].copy_from_slice(&reply[..size]);
            let bits = u64::from_le_bytes(bytes);
            match kind {
                Scalar::Float32 | Scalar::Float64 | Scalar::Pointer => {
                    let native = scalar_bytes(bits, size);
                    std::ptr::copy_nonoverlapping(native.as_ptr(), result, size)
                }
                // `ffi_arg` is as wide as a pointer.
                _ => {
                    let word = (int_bits(kind, bits) as usize).to_ne_bytes();
                    std::ptr::copy_nonoverlapping(word.as_ptr(), result, word.len())
                }
            }
        }
        Return::Bytes(size) if reply.len() >= size => {
            std::ptr::copy_nonoverlapping(reply.as_ptr(), result, size);
            if sig.ret_long_double && cfg!(target_endian = "big") {
                std::slice::from_raw_parts_mut(result, size).reverse();
            }
        }
        // A short reply (the guest's callback failed): leave the zeroes.
        _ => {}
    }
}
