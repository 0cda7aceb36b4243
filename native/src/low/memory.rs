//! Native memory as the guest sees it.
//!
//! Memory the guest allocated through the runtime is tracked block by block,
//! so frees of unknown or already-freed addresses and accesses that run off
//! the end of a block are refused. Freed blocks go into a bounded quarantine
//! before they are really released (as AddressSanitizer does), so a
//! use-after-free is recognised instead of reading memory that the allocator
//! has already handed to someone else. Any other address (memory that native code
//! handed out, C globals) is refused unless the policy grants raw native
//! memory (then the memory is *confined*: see `set_confined`); with the grant
//! it is copied under the fault handlers (fault.c's guarded memcpy, in the
//! host and in the --isolate-native helper alike), so reading or writing an
//! unmapped or write-protected page is an error, not a crash, and a write
//! never bypasses the page's protection. `process_vm_readv`/`writev` are
//! only a fallback where no handler is installed (they are ENOSYS under
//! qemu-user).

use std::alloc::Layout;
use std::collections::{BTreeMap, VecDeque};

use crate::middle::types::{scalar_size, Scalar};
use crate::Error as FfiError;

/// Addresses below this are never valid: the NULL page.
const NULL_PAGE: u64 = 4096;
/// Largest single transfer; bounds the host's temporary buffers.
const MAX_TRANSFER: u64 = 1 << 30;
/// Bytes of freed blocks kept reserved to catch use-after-free.
const QUARANTINE_BYTES: u64 = 16 << 20;
/// Freed blocks kept at most: small blocks churned by the million would
/// otherwise keep the quarantine (and the host's RSS) growing for long.
const QUARANTINE_BLOCKS: usize = 1024;
/// Borrowed regions (checked mode) remembered at once; the oldest go first.
const MAX_BORROWED: usize = 4096;
/// Longest borrowed string recorded from a function result.
const MAX_BORROWED_STRING: u64 = 1 << 20;

struct Block {
    size: u64,
    layout: Layout,
}

pub struct NativeMemory {
    blocks: BTreeMap<u64, Block>,
    in_use: u64,
    limit: u64,
    /// Freed but not yet released blocks, and their release order.
    quarantine: BTreeMap<u64, Block>,
    quarantine_order: VecDeque<u64>,
    quarantined: u64,
    /// Confined (no raw-memory grant): foreign addresses are refused, except
    /// reads of borrowed regions (memory a pinned signature says a function
    /// returned). `confinement` says why, for the guest's error message.
    confined: bool,
    confinement: &'static str,
    /// Set while a native call is suspended in a callback: the call may still
    /// use blocks it was handed, so blocks freed now are not released (nor
    /// their bytes given back to the limit) until it returns.
    held: bool,
    held_bytes: u64,
    borrowed: BTreeMap<u64, u64>,
    borrowed_order: VecDeque<u64>,
}

/// Where an address range lies.
pub enum Region {
    /// Inside one block the runtime allocated: safe to touch directly.
    Owned,
    /// Not the runtime's: must be accessed fault-safely.
    Foreign,
}

impl NativeMemory {
    pub fn new(limit: u64) -> Self {
        NativeMemory {
            blocks: BTreeMap::new(),
            in_use: 0,
            limit,
            quarantine: BTreeMap::new(),
            quarantine_order: VecDeque::new(),
            quarantined: 0,
            confined: false,
            confinement: "",
            held: false,
            held_bytes: 0,
            borrowed: BTreeMap::new(),
            borrowed_order: VecDeque::new(),
        }
    }

    /// Refuse foreign addresses (no raw-memory grant); `why` ends the
    /// refusal's message, e.g. "raw native memory is not granted".
    pub fn set_confined(&mut self, confined: bool, why: &'static str) {
        self.confined = confined;
        self.confinement = why;
    }

    pub fn is_confined(&self) -> bool {
        self.confined
    }

    /// Hold (`true`) or release freed blocks: see `held`.
    pub fn hold_freed(&mut self, hold: bool) {
        if self.held == hold {
            return;
        }
        self.held = hold;
        if !hold {
            self.in_use -= self.held_bytes;
            self.held_bytes = 0;
            self.evict();
        }
    }

    /// `[start, end)` of the live block containing `address`.
    pub fn block_range(&self, address: u64) -> Option<(u64, u64)> {
        self.block_containing(address)
            .map(|(start, block)| (start, start + block.size))
    }

    /// `[start, end)` of the borrowed region containing `address`.
    pub fn borrowed_range(&self, address: u64) -> Option<(u64, u64)> {
        let (&start, &len) = self.borrowed.range(..=address).next_back()?;
        (address < start + len).then_some((start, start + len))
    }

    /// Start of the freed (quarantined) block containing `address`.
    pub fn freed_block(&self, address: u64) -> Option<u64> {
        self.freed_block_containing(address)
    }

    /// Record `[address, address + len)` as borrowed, read-only memory.
    pub fn borrow(&mut self, address: u64, len: u64) {
        if address < NULL_PAGE || len == 0 || address.checked_add(len).is_none() {
            return;
        }
        if self.block_containing(address).is_some() {
            return;
        }
        if self.borrowed.insert(address, len).is_none() {
            self.borrowed_order.push_back(address);
        }
        while self.borrowed_order.len() > MAX_BORROWED {
            if let Some(old) = self.borrowed_order.pop_front() {
                self.borrowed.remove(&old);
            }
        }
    }

    /// Record the NUL-terminated string at `address` (foreign memory, read
    /// fault-safely) as borrowed; returns its length with the terminator.
    pub fn borrow_string(&mut self, address: u64) -> Option<u64> {
        if self.block_containing(address).is_some() {
            return None;
        }
        let len = foreign_string_length(address, 1, MAX_BORROWED_STRING).ok()? + 1;
        self.borrow(address, len);
        Some(len)
    }

    pub fn alloc(&mut self, size: u64, alignment: u32) -> Result<u64, FfiError> {
        if !alignment.is_power_of_two() {
            return Err(FfiError::InvalidArgument(format!(
                "alignment {alignment} is not a power of two"
            )));
        }
        let remaining = self.limit - self.in_use;
        if size > remaining {
            return Err(FfiError::LimitExceeded(format!(
                "allocating {size} bytes would exceed the native memory limit of {} bytes ({} in use)",
                self.limit, self.in_use
            )));
        }
        let layout = Layout::from_size_align(size.max(1) as usize, alignment as usize)
            .map_err(|e| FfiError::InvalidArgument(format!("allocation of {size} bytes: {e}")))?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(FfiError::LimitExceeded(format!(
                "the host could not allocate {size} bytes"
            )));
        }
        let address = ptr as u64;
        self.blocks.insert(address, Block { size, layout });
        self.in_use += size;
        Ok(address)
    }

    pub fn free(&mut self, address: u64) -> Result<(), FfiError> {
        let Some(block) = self.blocks.remove(&address) else {
            let what = if self.quarantine.contains_key(&address) {
                "it was already freed (double free)".to_owned()
            } else if let Some((start, _)) = self.block_containing(address) {
                format!("it points inside the block at {start:#x}")
            } else {
                "it is not a live allocation of this runtime".to_owned()
            };
            return Err(FfiError::BadPointer(format!(
                "cannot free {address:#x}: {what}"
            )));
        };
        if self.held {
            self.held_bytes += block.size;
        } else {
            self.in_use -= block.size;
        }
        self.quarantined += block.size.max(1);
        self.quarantine.insert(address, block);
        self.quarantine_order.push_back(address);
        self.evict();
        Ok(())
    }

    /// Release the oldest freed blocks beyond the quarantine's bounds (none
    /// while a suspended call may still use them).
    fn evict(&mut self) {
        while !self.held
            && (self.quarantined > QUARANTINE_BYTES
                || self.quarantine_order.len() > QUARANTINE_BLOCKS)
        {
            let Some(oldest) = self.quarantine_order.pop_front() else {
                break;
            };
            if let Some(block) = self.quarantine.remove(&oldest) {
                self.quarantined -= block.size.max(1);
                // SAFETY: allocated with this layout, freed by the guest, and
                // now leaving the registry for good: released exactly once.
                unsafe { std::alloc::dealloc(oldest as *mut u8, block.layout) };
            }
        }
    }

    fn freed_block_containing(&self, address: u64) -> Option<u64> {
        let (&start, block) = self.quarantine.range(..=address).next_back()?;
        (address < start + block.size.max(1)).then_some(start)
    }

    fn block_containing(&self, address: u64) -> Option<(u64, &Block)> {
        let (&start, block) = self.blocks.range(..=address).next_back()?;
        (address < start + block.size.max(1)).then_some((start, block))
    }

    /// [`Self::locate`], then in checked mode refuse foreign memory unless
    /// it is a read inside one borrowed region.
    pub fn locate_for(&self, address: u64, len: u64, write: bool) -> Result<Region, FfiError> {
        let region = self.locate(address, len)?;
        if let (Region::Foreign, true) = (&region, self.confined) {
            let end = address.checked_add(len);
            match self.borrowed_range(address) {
                Some((_, b_end)) if !write && end.is_some_and(|e| e <= b_end) => {}
                Some((start, _)) if write => {
                    return Err(FfiError::BadPointer(format!(
                        "write to {address:#x}: borrowed memory at {start:#x} is read-only"
                    )))
                }
                Some((start, b_end)) => {
                    return Err(FfiError::BadPointer(format!(
                        "access to {len} bytes at {address:#x} runs past the end of the borrowed {}-byte region at {start:#x}",
                        b_end - start
                    )))
                }
                None => {
                    return Err(FfiError::BadPointer(format!(
                        "access to {address:#x}: not memory of this runtime ({})",
                        self.confinement
                    )))
                }
            }
        }
        Ok(region)
    }

    fn locate(&self, address: u64, len: u64) -> Result<Region, FfiError> {
        if address < NULL_PAGE {
            return Err(FfiError::BadPointer(format!(
                "access to {address:#x}: NULL pointer"
            )));
        }
        if len > MAX_TRANSFER {
            return Err(FfiError::LimitExceeded(format!(
                "a single access is limited to {MAX_TRANSFER} bytes, not {len}"
            )));
        }
        match self.block_containing(address) {
            Some((start, block)) => {
                let end = address.checked_add(len);
                if end.is_some_and(|end| end <= start + block.size) {
                    Ok(Region::Owned)
                } else {
                    Err(FfiError::BadPointer(format!(
                        "access to {len} bytes at {address:#x} runs past the end of the {}-byte block at {start:#x}",
                        block.size
                    )))
                }
            }
            None => match self.freed_block_containing(address) {
                Some(start) => Err(FfiError::BadPointer(format!(
                    "access to {address:#x}: use after free of the block at {start:#x}"
                ))),
                None => Ok(Region::Foreign),
            },
        }
    }

    pub fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), FfiError> {
        match self.locate_for(address, buf.len() as u64, false)? {
            // SAFETY: the range lies inside a live block we allocated.
            Region::Owned => unsafe {
                std::ptr::copy_nonoverlapping(address as *const u8, buf.as_mut_ptr(), buf.len());
                Ok(())
            },
            Region::Foreign => {
                foreign_transfer(address, buf.as_mut_ptr(), buf.len(), Direction::Read)
            }
        }
    }

    pub fn write(&self, address: u64, data: &[u8]) -> Result<(), FfiError> {
        match self.locate_for(address, data.len() as u64, true)? {
            // SAFETY: the range lies inside a live block we allocated.
            Region::Owned => unsafe {
                std::ptr::copy_nonoverlapping(data.as_ptr(), address as *mut u8, data.len());
                Ok(())
            },
            Region::Foreign => foreign_transfer(
                address,
                data.as_ptr() as *mut u8,
                data.len(),
                Direction::Write,
            ),
        }
    }

    pub fn copy(&self, dst: u64, src: u64, len: u64) -> Result<(), FfiError> {
        if len == 0 {
            return Ok(());
        }
        let src_region = self.locate_for(src, len, false)?;
        let dst_region = self.locate_for(dst, len, true)?;
        if let (Region::Owned, Region::Owned) = (src_region, dst_region) {
            // SAFETY: both ranges lie inside live blocks; `copy` allows overlap.
            unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
            return Ok(());
        }
        let mut staging = vec![0u8; len as usize];
        self.read(src, &mut staging)?;
        self.write(dst, &staging)
    }

    pub fn fill(&self, dst: u64, byte: u8, len: u64) -> Result<(), FfiError> {
        if len == 0 {
            return Ok(());
        }
        match self.locate_for(dst, len, true)? {
            // SAFETY: the range lies inside a live block we allocated.
            Region::Owned => unsafe {
                std::ptr::write_bytes(dst as *mut u8, byte, len as usize);
                Ok(())
            },
            Region::Foreign => self.write(dst, &vec![byte; len as usize]),
        }
    }

    /// Number of `element`-byte units before the first all-zero unit.
    pub fn string_length(&self, address: u64, element: u32) -> Result<u64, FfiError> {
        if !matches!(element, 1 | 2 | 4) {
            return Err(FfiError::InvalidArgument(format!(
                "string element size {element} (expected 1, 2 or 4)"
            )));
        }
        let element = u64::from(element);
        if let Region::Owned = self.locate_for(address, element, false)? {
            let (start, block) = self.block_containing(address).expect("owned");
            let end = start + block.size;
            // SAFETY: scanning stays inside the block.
            let bytes = unsafe {
                std::slice::from_raw_parts(address as *const u8, (end - address) as usize)
            };
            return bytes
                .chunks_exact(element as usize)
                .position(|unit| unit.iter().all(|&b| b == 0))
                .map(|n| n as u64)
                .ok_or_else(|| {
                    FfiError::BadPointer(format!(
                        "string at {address:#x} is not terminated inside its {}-byte block",
                        block.size
                    ))
                });
        }
        if self.confined {
            // A borrowed region: scan only inside it.
            let (_, end) = self.borrowed_range(address).expect("checked by locate_for");
            let mut bytes = vec![0u8; (end - address) as usize];
            foreign_transfer(address, bytes.as_mut_ptr(), bytes.len(), Direction::Read)?;
            return bytes
                .chunks_exact(element as usize)
                .position(|unit| unit.iter().all(|&b| b == 0))
                .map(|n| n as u64)
                .ok_or_else(|| {
                    FfiError::BadPointer(format!(
                        "string at {address:#x} is not terminated inside its borrowed region"
                    ))
                });
        }
        foreign_string_length(address, element as u32, MAX_TRANSFER)
    }

    pub fn load(&self, address: u64, kind: Scalar) -> Result<u64, FfiError> {
        let size = checked_scalar_size(kind)?;
        let mut bytes = [0u8; 8];
        self.read(address, &mut bytes[..size])?;
        Ok(scalar_bits(kind, &bytes[..size]))
    }

    pub fn store(&self, address: u64, kind: Scalar, value: u64) -> Result<(), FfiError> {
        let size = checked_scalar_size(kind)?;
        self.write(address, &scalar_bytes(value, size)[..size])
    }
}

/// Length in `element`-byte units of the string at a foreign address,
/// read a page at a time so the scan never touches memory past the
/// terminator's page; at most `max` bytes are scanned.
fn foreign_string_length(address: u64, element: u32, max: u64) -> Result<u64, FfiError> {
    let element = u64::from(element);
    {
        let mut scanned = 0u64;
        let mut chunk = Vec::new();
        loop {
            let at = address + scanned;
            let page = page_size();
            let to_page_end = page - (at % page);
            let len = (to_page_end - to_page_end % element).max(element);
            chunk.resize(len as usize, 0);
            foreign_transfer(at, chunk.as_mut_ptr(), chunk.len(), Direction::Read)?;
            if let Some(n) = chunk
                .chunks_exact(element as usize)
                .position(|unit| unit.iter().all(|&b| b == 0))
            {
                return Ok(scanned / element + n as u64);
            }
            scanned += len;
            if scanned > max {
                return Err(FfiError::LimitExceeded(format!(
                    "no terminator within {max} bytes of {address:#x}"
                )));
            }
        }
    }
}

/// The system's page size (4 KiB on x86-64; 16 or 64 KiB on some arm64 and
/// ppc64 kernels), asked once.
fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(size)
            .ok()
            .filter(|s| s.is_power_of_two())
            .unwrap_or(4096)
    })
}

impl Drop for NativeMemory {
    fn drop(&mut self) {
        let live = std::mem::take(&mut self.blocks);
        let freed = std::mem::take(&mut self.quarantine);
        for (address, block) in live.into_iter().chain(freed) {
            // SAFETY: every registered block is live and freed once, here.
            unsafe { std::alloc::dealloc(address as *mut u8, block.layout) };
        }
    }
}

fn checked_scalar_size(kind: Scalar) -> Result<usize, FfiError> {
    match kind {
        Scalar::Void => Err(FfiError::InvalidArgument(
            "cannot load or store void".into(),
        )),
        Scalar::LongDouble => Err(FfiError::InvalidArgument(
            "long double does not fit in 64 bits: use read/write".into(),
        )),
        _ => Ok(scalar_size(kind)),
    }
}

/// Widen a scalar's native bytes (in this architecture's byte order) to 64
/// bits: sign-extended for signed integers.
pub fn scalar_bits(kind: Scalar, bytes: &[u8]) -> u64 {
    let value = match *bytes {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_ne_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_ne_bytes([a, b, c, d])),
        _ => {
            let mut raw = [0u8; 8];
            let n = bytes.len().min(8);
            raw[..n].copy_from_slice(&bytes[..n]);
            u64::from_ne_bytes(raw)
        }
    };
    int_bits(kind, value)
}

/// Narrow a 64-bit value to the scalar's C width and widen it back as the
/// ABI does: sign-extended for signed integers.
pub fn int_bits(kind: Scalar, value: u64) -> u64 {
    match kind {
        Scalar::Sint8 => value as u8 as i8 as i64 as u64,
        Scalar::Sint16 => value as u16 as i16 as i64 as u64,
        Scalar::Sint32 => value as u32 as i32 as i64 as u64,
        Scalar::Uint8 => value as u8 as u64,
        Scalar::Uint16 => value as u16 as u64,
        Scalar::Uint32 => value as u32 as u64,
        Scalar::Pointer if usize::BITS == 32 => value as u32 as u64,
        _ => value,
    }
}

/// The native bytes of a `size`-byte scalar holding `value`: the first
/// `size` bytes of the result, in this architecture's byte order.
pub fn scalar_bytes(value: u64, size: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    match size {
        1 => out[0] = value as u8,
        2 => out[..2].copy_from_slice(&(value as u16).to_ne_bytes()),
        4 => out[..4].copy_from_slice(&(value as u32).to_ne_bytes()),
        _ => out = value.to_ne_bytes(),
    }
    out
}

#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}

/// Copy between our buffer and an address we cannot vouch for, without
/// dying of it: a copy under the fault handlers (a fault is an error), or,
/// where they are not installed, the kernel's copy, which reports unmapped
/// or protected memory as EFAULT.
fn foreign_transfer(
    address: u64,
    local: *mut u8,
    len: usize,
    dir: Direction,
) -> Result<(), FfiError> {
    if len == 0 {
        return Ok(());
    }
    let verb = match dir {
        Direction::Read => "read",
        Direction::Write => "write",
    };
    // SAFETY: the local buffer is valid for `len` bytes and distinct from
    // the foreign range; a fault in the foreign range is caught.
    let guarded = unsafe {
        match dir {
            Direction::Read => crate::low::fault::guarded_copy(local, address as *const u8, len),
            Direction::Write => crate::low::fault::guarded_copy(address as *mut u8, local, len),
        }
    };
    if let Some(outcome) = guarded {
        return outcome.map_err(|signal| {
            FfiError::BadPointer(format!(
                "cannot {verb} {len} bytes at {address:#x}: {}",
                crate::low::fault::signal_name(signal)
            ))
        });
    }
    let local_iov = libc::iovec {
        iov_base: local.cast(),
        iov_len: len,
    };
    let remote_iov = libc::iovec {
        iov_base: address as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: the local buffer is valid for `len` bytes; the kernel checks the
    // remote range and fails instead of faulting.
    let done = unsafe {
        let pid = libc::getpid();
        match dir {
            Direction::Read => libc::process_vm_readv(pid, &local_iov, 1, &remote_iov, 1, 0),
            Direction::Write => libc::process_vm_writev(pid, &local_iov, 1, &remote_iov, 1, 0),
        }
    };
    if done == len as isize {
        return Ok(());
    }
    let reason = if done < 0 {
        std::io::Error::last_os_error().to_string()
    } else {
        format!("only {done} bytes accessible")
    };
    Err(FfiError::BadPointer(format!(
        "cannot {verb} {len} bytes at {address:#x}: {reason}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_free_and_bounds_are_refused() {
        let mut mem = NativeMemory::new(1 << 20);
        let a = mem.alloc(16, 8).unwrap();
        mem.write(a, &[1, 2, 3]).unwrap();
        let mut out = [0u8; 3];
        mem.read(a, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        assert!(matches!(
            mem.write(a + 10, &[0; 8]),
            Err(FfiError::BadPointer(_))
        ));
        assert!(matches!(mem.free(a + 1), Err(FfiError::BadPointer(_))));
        mem.free(a).unwrap();
        assert!(matches!(mem.free(a), Err(FfiError::BadPointer(m)) if m.contains("double free")));
        assert!(
            matches!(mem.read(a, &mut out), Err(FfiError::BadPointer(m)) if m.contains("use after free"))
        );
        assert!(matches!(
            mem.alloc(2 << 20, 8),
            Err(FfiError::LimitExceeded(_))
        ));
    }

    #[test]
    fn confined_memory_reaches_only_its_blocks() {
        let mut mem = NativeMemory::new(1 << 20);
        mem.set_confined(true, "no grant");
        let a = mem.alloc(16, 8).unwrap();
        mem.write(a, &[7; 16]).unwrap();
        let local = [1u8; 16];
        let mut out = [0u8; 8];
        for address in [local.as_ptr() as u64, a - 8, a + 16] {
            assert!(
                matches!(mem.read(address, &mut out), Err(FfiError::BadPointer(m)) if m.contains("no grant") || m.contains("past the end")),
                "{address:#x}"
            );
            assert!(matches!(
                mem.write(address, &out),
                Err(FfiError::BadPointer(_))
            ));
            assert!(mem.string_length(address, 1).is_err());
        }
        assert!(mem.copy(local.as_ptr() as u64, a, 8).is_err());
        assert!(mem.copy(a, local.as_ptr() as u64, 8).is_err());
        mem.read(a, &mut out).unwrap();
        assert_eq!(out, [7; 8]);
    }

    #[test]
    fn blocks_freed_while_held_are_not_reused_until_released() {
        let mut mem = NativeMemory::new(64 << 20);
        let a = mem.alloc(64, 8).unwrap();
        mem.hold_freed(true);
        mem.free(a).unwrap();
        // Past both quarantine bounds: nothing is released while held.
        for _ in 0..(QUARANTINE_BLOCKS + 16) {
            let b = mem.alloc(64, 8).unwrap();
            assert_ne!(b, a);
            mem.free(b).unwrap();
        }
        let big = mem.alloc(QUARANTINE_BYTES + 1, 8).unwrap();
        mem.free(big).unwrap();
        assert!(mem.quarantine.contains_key(&a));
        // Held bytes still count against the limit.
        assert!(mem.in_use >= 64);
        mem.hold_freed(false);
        assert_eq!(mem.in_use, 0);
        assert!(mem.quarantine_order.len() <= QUARANTINE_BLOCKS);
        assert!(mem.quarantined <= QUARANTINE_BYTES);
    }

    #[test]
    fn foreign_and_null_addresses_fail_cleanly() {
        // As in the host and the helper: the kernel's copy behind the guarded
        // one is ENOSYS under qemu-user.
        crate::low::fault::install();
        let mem = NativeMemory::new(1 << 20);
        let mut out = [0u8; 4];
        assert!(matches!(
            mem.read(0, &mut out),
            Err(FfiError::BadPointer(_))
        ));
        // Kernel space is never mapped for us: EFAULT, not SIGSEGV.
        assert!(matches!(
            mem.read(0xffff_8000_0000_0000, &mut out),
            Err(FfiError::BadPointer(_))
        ));
        let local = *b"hi\0!";
        assert_eq!(mem.string_length(local.as_ptr() as u64, 1).unwrap(), 2);
        assert_eq!(
            mem.load(local.as_ptr() as u64, Scalar::Uint8).unwrap(),
            u64::from(b'h')
        );
    }

    /// Raw writes go through the guarded copy: a write-protected page is an
    /// error and stays unwritten, an unmapped one too, without the kernel's
    /// process_vm_writev (ENOSYS under qemu-user).
    #[test]
    fn raw_writes_respect_protection_under_the_fault_handlers() {
        crate::low::fault::install();
        let mem = NativeMemory::new(1 << 20);
        let page = page_size() as usize;
        // SAFETY: a fresh anonymous mapping, unmapped at the end.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED);
            let at = base as u64;
            mem.write(at, b"writable").unwrap();
            libc::mprotect(base, page, libc::PROT_READ);
            libc::munmap(base.cast::<u8>().add(page).cast(), page);
            let refused = mem.write(at, b"XX");
            assert!(
                matches!(&refused, Err(FfiError::BadPointer(m)) if m.contains("SIGSEGV")),
                "{refused:?}"
            );
            let mut back = [0u8; 8];
            mem.read(at, &mut back).unwrap();
            assert_eq!(&back, b"writable");
            let unmapped = at + page as u64;
            assert!(mem.write(unmapped, b"X").is_err());
            assert!(mem.read(unmapped, &mut back).is_err());
            assert!(mem.fill(unmapped - 2, 0, 4).is_err());
            assert_eq!(mem.string_length(at, 1).unwrap(), 8);
            libc::munmap(base, page);
        }
    }
}
