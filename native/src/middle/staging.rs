//! Staging a call's arguments: the guest's bytes copied once into
//! 16-byte-aligned memory that libffi reads each slot from, with pointers
//! into the call's scratch area rebased to where the bytes now lie.

use std::mem::MaybeUninit;

use crate::middle::signature::{
    retain_scratch, ArgKind, SigLayout, STACK_RESULT_WORDS, STACK_WORDS,
};
use crate::Error as FfiError;

/// A call's arguments as the guest packed them (slots, then scratch), with
/// the offsets of the slots whose value is an offset into them.
#[derive(Clone, Copy)]
pub struct ArgView<'a> {
    pub data: &'a [u8],
    pub relocations: &'a [u32],
}

/// A call's argument bytes in 16-byte-aligned memory (libffi reads each slot
/// as its C type), not yet relocated.
pub enum Staging<'a> {
    /// The caller's stack: for a call that passes no scratch and cannot call back.
    Borrowed(&'a mut [u8]),
    /// The heap, `len` bytes: kept after the call (scratch a result may point
    /// into) or moved onto the coroutine of a call that may call back.
    Owned(Vec<u128>, usize),
}

impl Staging<'_> {
    /// Copy `data` to the heap.
    pub fn owned(data: &[u8]) -> Staging<'static> {
        let mut words = vec![0u128; data.len().div_ceil(16)];
        // SAFETY: u128 storage viewed as bytes; `words * 16 >= len`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                words.as_mut_ptr().cast::<u8>(),
                data.len(),
            )
        };
        Staging::Owned(words, data.len())
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Staging::Borrowed(bytes) => bytes,
            // SAFETY: u128 storage viewed as bytes; `len <= words * 16`.
            Staging::Owned(words, len) => unsafe {
                std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), *len)
            },
        }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Staging::Borrowed(bytes) => bytes,
            // SAFETY: as in `bytes`.
            Staging::Owned(words, len) => unsafe {
                std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), *len)
            },
        }
    }

    /// Move the staged (and relocated) arguments where a coroutine can
    /// own them. Only a borrowed buffer moves, and it holds no relocated
    /// pointer (a call with scratch is staged on the heap).
    pub fn into_staged(self, retain: bool) -> Staged {
        match self {
            Staging::Borrowed(bytes) if bytes.len() <= STACK_WORDS * 16 => {
                let mut words = [MaybeUninit::<u128>::uninit(); STACK_WORDS];
                // SAFETY: `bytes.len()` bytes fit in the array.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        bytes.as_ptr(),
                        words.as_mut_ptr().cast::<u8>(),
                        bytes.len(),
                    )
                };
                Staged::Inline(words)
            }
            Staging::Borrowed(bytes) => match Staging::owned(bytes) {
                Staging::Owned(words, _) => Staged::Heap { words, retain },
                Staging::Borrowed(_) => unreachable!(),
            },
            Staging::Owned(words, _) => Staged::Heap { words, retain },
        }
    }
}

/// A call's arguments owned by the coroutine it runs on: inline when they
/// fit (nothing to allocate per call), else on the heap, kept after the call
/// when they hold scratch a result may point into (see `retain_scratch`).
pub enum Staged {
    Inline([MaybeUninit<u128>; STACK_WORDS]),
    Heap { words: Vec<u128>, retain: bool },
}

impl Staged {
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            Staged::Inline(words) => words.as_mut_ptr().cast(),
            Staged::Heap { words, .. } => words.as_mut_ptr().cast(),
        }
    }

    /// After the call: keep the scratch if there is any.
    pub fn finish(self) {
        if let Staged::Heap {
            words,
            retain: true,
        } = self
        {
            retain_scratch(words);
        }
    }
}

/// A call's result buffer: inline unless the result is big.
pub enum RetWords {
    Inline([u128; STACK_RESULT_WORDS]),
    Heap(Vec<u128>),
}

impl RetWords {
    pub fn new(sig: &SigLayout) -> RetWords {
        let words = sig.ret.buffer_size().div_ceil(16);
        if words <= STACK_RESULT_WORDS {
            RetWords::Inline([0; STACK_RESULT_WORDS])
        } else {
            RetWords::Heap(vec![0; words])
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut u128 {
        match self {
            RetWords::Inline(words) => words.as_mut_ptr(),
            RetWords::Heap(words) => words.as_mut_ptr(),
        }
    }

    pub fn as_slice(&self) -> &[u128] {
        match self {
            RetWords::Inline(words) => words,
            RetWords::Heap(words) => words,
        }
    }
}

/// Stage the guest's bytes in 16-byte-aligned memory (`stack` if it is big
/// enough, else `heap`) and rebase pointers into the scratch area (the
/// --isolate-native helper's calls).
pub fn stage<'a>(
    sig: &SigLayout,
    args: ArgView<'_>,
    stack: &'a mut [u128],
    heap: &'a mut Vec<u128>,
) -> Result<&'a mut [u8], FfiError> {
    let len = args.data.len();
    let words = len.div_ceil(16);
    let storage: &mut [u128] = if words <= stack.len() {
        &mut stack[..words]
    } else {
        heap.resize(words, 0);
        heap.as_mut_slice()
    };
    // SAFETY: u128 storage viewed as bytes; `words * 16 >= len`.
    let bytes = unsafe { std::slice::from_raw_parts_mut(storage.as_mut_ptr().cast::<u8>(), len) };
    bytes.copy_from_slice(args.data);
    relocate(sig, bytes, args.relocations)?;
    Ok(bytes)
}

/// Check the staged buffer against the signature and rebase pointers into
/// the scratch area.
pub fn relocate(sig: &SigLayout, bytes: &mut [u8], relocations: &[u32]) -> Result<(), FfiError> {
    let len = bytes.len();
    if len < sig.slots_size as usize {
        return Err(FfiError::InvalidArgument(format!(
            "argument buffer has {len} bytes, the signature needs at least {}",
            sig.slots_size
        )));
    }
    wire_order(sig, bytes, relocations);
    let base = bytes.as_ptr() as u64;
    for &reloc in relocations {
        let at = reloc as usize;
        if at % 8 != 0 || at + 8 > sig.slots_size as usize {
            return Err(FfiError::InvalidArgument(format!(
                "relocation at {at} is not an 8-byte pointer slot inside the {}-byte slot area",
                sig.slots_size
            )));
        }
        // The guest writes the offset as a little-endian u64.
        let target = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        if target >= len as u64 {
            return Err(FfiError::InvalidArgument(format!(
                "relocation at {at} points to {target}, outside the {len}-byte argument buffer"
            )));
        }
        // A pointer as this architecture's C reads it from the slot's start.
        let pointer = ((base + target) as usize).to_ne_bytes();
        bytes[at..at + 8].fill(0);
        bytes[at..at + pointer.len()].copy_from_slice(&pointer);
    }
    Ok(())
}

/// Swap the scalar argument slots of `bytes` between the wire's byte order
/// and this architecture's: the guest (wasm32) packs and unpacks slots
/// little-endian, so on a big-endian architecture each scalar is reversed
/// in place (the same swap both ways). Struct slots hold bytes copied from
/// native memory, already in native order; slots at `relocations` hold an
/// offset that `relocate` rewrites itself. A no-op on little-endian targets.
pub fn wire_order(sig: &SigLayout, bytes: &mut [u8], relocations: &[u32]) {
    if cfg!(target_endian = "little") {
        return;
    }
    for ((kind, &offset), &size) in sig.kinds.iter().zip(&sig.arg_offsets).zip(&sig.arg_sizes) {
        if matches!(kind, ArgKind::Scalar(_)) && !relocations.contains(&offset) {
            if let Some(slot) = bytes.get_mut(offset as usize..(offset + size) as usize) {
                slot.reverse();
            }
        }
    }
}
