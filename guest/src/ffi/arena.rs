//! Small native blocks for ctypes objects, carved from big host blocks.
//!
//! A ctypes object's buffer must be host memory (its address is what native
//! code sees), but a host allocation and a host free per `c_int()` or per
//! callback argument cost two crossings. Small buffers are carved from 64 KiB
//! host blocks instead, one size class per block, with free lists kept here:
//! a new object costs at most one crossing (zeroing a reused slot), a freed
//! one none. In checked memory mode every object stays a host block of its
//! own, so the runtime keeps checking its exact bounds.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use pyo3::prelude::*;

use super::errors::OrRaise;
use super::wit::memory;

const CHUNK: u64 = 64 << 10;
const CLASSES: [u64; 5] = [16, 32, 64, 128, 256];
/// Slots are aligned to this; stricter alignments go to the host directly.
const SLOT_ALIGN: u32 = 16;

#[derive(Default)]
struct Class {
    free: Vec<u64>,
    /// The unused tail of the class's newest chunk.
    next: u64,
    end: u64,
}

#[derive(Default)]
struct Arena {
    /// `None` until the host has said whether memory is checked.
    enabled: Option<bool>,
    classes: [Class; CLASSES.len()],
    /// Chunk start -> size class index.
    chunks: BTreeMap<u64, usize>,
    /// Slots handed out and not yet given back. After [`forget_native_memory`]
    /// a new chunk may sit where a lost one was: only slots of the current
    /// chunks may go back on a free list.
    live: HashSet<u64>,
}

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena::default());
}

fn class_of(size: u64, align: u32) -> Option<usize> {
    if align > SLOT_ALIGN {
        return None;
    }
    CLASSES.iter().position(|&c| size <= c)
}

/// Zeroed native memory for `size` bytes aligned to `align`.
pub fn alloc(py: Python<'_>, size: u64, align: u32) -> PyResult<u64> {
    allocate(py, size, align, true)
}

/// Native memory holding `data` (aligned to `align`): one crossing at most.
pub fn alloc_with(py: Python<'_>, data: &[u8], align: u32) -> PyResult<u64> {
    if data.is_empty() {
        return alloc(py, 1, align);
    }
    let address = allocate(py, data.len() as u64, align, false)?;
    super::memory::write(py, address, data)?;
    Ok(address)
}

fn allocate(py: Python<'_>, size: u64, align: u32, zeroed: bool) -> PyResult<u64> {
    let size = size.max(1);
    let class = ARENA.with(|a| {
        let mut a = a.borrow_mut();
        let enabled = *a.enabled.get_or_insert_with(|| !memory::checked());
        enabled.then(|| class_of(size, align)).flatten()
    });
    let Some(class) = class else {
        return memory::alloc(size, align).or_raise(py);
    };
    let reused = ARENA.with(|a| {
        let mut a = a.borrow_mut();
        let slot = a.classes[class].free.pop();
        if let Some(slot) = slot {
            a.live.insert(slot);
        }
        slot
    });
    if let Some(slot) = reused {
        if zeroed {
            memory::fill(slot, 0, size).or_raise(py)?;
        }
        return Ok(slot);
    }
    ARENA.with(|a| {
        let mut a = a.borrow_mut();
        let c = &mut a.classes[class];
        if c.next + CLASSES[class] > c.end {
            let chunk = memory::alloc(CHUNK, SLOT_ALIGN).or_raise(py)?;
            c.next = chunk;
            c.end = chunk + CHUNK;
            a.chunks.insert(chunk, class);
        }
        let c = &mut a.classes[class];
        let slot = c.next;
        c.next += CLASSES[class];
        a.live.insert(slot);
        // Fresh chunks come zeroed from the host.
        Ok(slot)
    })
}

/// Give back memory from [`alloc`].
pub fn free(address: u64) {
    let class = ARENA.with(|a| {
        let mut a = a.borrow_mut();
        if !a.live.remove(&address) {
            return None;
        }
        let (&start, &class) = a.chunks.range(..=address).next_back()?;
        (address < start + CHUNK).then_some(class)
    });
    match class {
        Some(class) => ARENA.with(|a| a.borrow_mut().classes[class].free.push(address)),
        None => {
            // A block of its own, or a slot of a chunk that was lost with a
            // crashed helper (then the host refuses the free: nothing to do).
            let _ = memory::free(address);
        }
    }
}

/// The native helper (--isolate-native) crashed and took every chunk with
/// it: start over, so new objects get memory of the fresh helper instead of
/// addresses that no longer exist there.
pub fn forget_native_memory() {
    ARENA.with(|a| {
        let mut a = a.borrow_mut();
        let enabled = a.enabled;
        *a = Arena::default();
        a.enabled = enabled;
    });
}
