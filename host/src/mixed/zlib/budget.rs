//! What zlib's host half holds, counted against the policy's
//! `limits.linear_memory`.
//!
//! Everything the host allocates for the guest's zlib is charged to one
//! [`Account`]: libz's own state for every live stream (through `zalloc`,
//! so deflate's ~270 KiB, inflate's window and the copies `copy()` makes
//! are all in), the copies a decompressor keeps (`zdict`, `unused_data`,
//! `unconsumed_tail`), the input a call was handed, and the output a call
//! is building. Output counts twice: it is built on the host and then
//! copied into the guest's linear memory, and both copies exist at once.
//! Anything that would take the account past the limit is a `MemoryError`
//! and the partial output is freed, so a decompression bomb stops at the
//! limit instead of taking the host's memory with it.
//!
//! Why `limits.linear_memory`: whatever zlib produces must land in the
//! guest's linear memory anyway, so an output the limit could not hold is
//! useless to build, and a policy author already sizes that limit as "what
//! this guest may make the host hold".
//!
//! One account per thread: a run's host calls all come on the thread that
//! runs its store, and runs on one thread follow each other (a store drops
//! its streams, and with them their charges, before the next run starts).
//! The limit is refreshed from the calling run's policy on every call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use libz_sys as z;

use crate::bindings::wasmffi::ffi::zlib::ZlibError;

/// Host bytes a stream object costs besides what libz allocates (the boxed
/// `z_stream`, the resource entry, bookkeeping).
pub(super) const STREAM_OVERHEAD: u64 = 1024;

/// Room in front of every libz allocation for its size (16 keeps
/// `calloc`'s alignment).
const HEADER: usize = 16;

#[derive(Default)]
pub struct Account {
    held: AtomicU64,
    limit: AtomicU64,
    streams: AtomicU64,
}

thread_local! {
    static ACCOUNT: Arc<Account> = Arc::new(Account::default());
}

/// This thread's account, its limit set to `limit`.
pub(super) fn account(limit: u64) -> Arc<Account> {
    ACCOUNT.with(|a| {
        a.limit.store(limit, Ordering::Relaxed);
        a.clone()
    })
}

impl Account {
    /// Add `n` if the total stays within the limit.
    fn try_add(&self, n: u64) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        self.held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(n).filter(|&t| t <= limit)
            })
            .is_ok()
    }

    fn add(&self, n: u64) {
        self.held.fetch_add(n, Ordering::Relaxed);
    }

    fn sub(&self, n: u64) {
        self.held.fetch_sub(n, Ordering::Relaxed);
    }

    pub(super) fn stream_opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
        self.add(STREAM_OVERHEAD);
    }

    pub(super) fn stream_closed(&self) {
        self.streams.fetch_sub(1, Ordering::Relaxed);
        self.sub(STREAM_OVERHEAD);
    }

    /// Bytes that may still be charged.
    pub(super) fn room(&self) -> u64 {
        self.limit
            .load(Ordering::Relaxed)
            .saturating_sub(self.held())
    }

    /// Bytes held now (for tests and messages).
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// The `MemoryError` for `what` ("Out of memory while decompressing
    /// data"), saying which limit and what holds the memory.
    pub(super) fn exhausted(&self, what: &str) -> ZlibError {
        let mib = |n: u64| n as f64 / (1 << 20) as f64;
        ZlibError::Memory(format!(
            "{what}: zlib's host buffers would pass the policy's limits.linear_memory \
             ({:.0} MiB; {:.1} MiB held, {} live zlib streams)",
            mib(self.limit.load(Ordering::Relaxed)),
            mib(self.held()),
            self.streams.load(Ordering::Relaxed),
        ))
    }

    /// Charge `n` bytes for as long as the returned guard lives.
    pub(super) fn charge(self: &Arc<Self>, n: u64, what: &str) -> Result<Charge, ZlibError> {
        let mut c = Charge::empty(self);
        if !c.grow(n) {
            return Err(self.exhausted(what));
        }
        Ok(c)
    }
}

/// Bytes charged to an account until dropped.
pub(super) struct Charge {
    account: Arc<Account>,
    bytes: u64,
}

impl Charge {
    pub(super) fn empty(account: &Arc<Account>) -> Charge {
        Charge {
            account: account.clone(),
            bytes: 0,
        }
    }

    /// Charge `n` more bytes; false (and nothing charged) past the limit.
    pub(super) fn grow(&mut self, n: u64) -> bool {
        if !self.account.try_add(n) {
            return false;
        }
        self.bytes += n;
        true
    }

    /// Make the charge `n` bytes, limit or not: for memory that already
    /// exists (copies a decompressor keeps), so that the next allocation
    /// sees it.
    pub(super) fn set(&mut self, n: u64) {
        if n > self.bytes {
            self.account.add(n - self.bytes);
        } else {
            self.account.sub(self.bytes - n);
        }
        self.bytes = n;
    }

    pub(super) fn account(&self) -> &Arc<Account> {
        &self.account
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.account.sub(self.bytes);
    }
}

/// libz's allocator: `opaque` is the stream's [`Account`] (kept alive by
/// the stream's `Arc`; `deflateCopy`/`inflateCopy` pass it on to the copy,
/// which holds its own `Arc` to the same account). NULL past the limit,
/// which libz reports as `Z_MEM_ERROR`.
pub(super) unsafe extern "C" fn zalloc(
    opaque: z::voidpf,
    items: z::uInt,
    size: z::uInt,
) -> z::voidpf {
    let account = &*(opaque as *const Account);
    let Some(n) = (items as usize)
        .checked_mul(size as usize)
        .and_then(|n| n.checked_add(HEADER))
    else {
        return std::ptr::null_mut();
    };
    if !account.try_add(n as u64) {
        return std::ptr::null_mut();
    }
    let p = libc::calloc(1, n) as *mut u8;
    if p.is_null() {
        account.sub(n as u64);
        return std::ptr::null_mut();
    }
    (p as *mut usize).write(n);
    p.add(HEADER) as z::voidpf
}

pub(super) unsafe extern "C" fn zfree(opaque: z::voidpf, address: z::voidpf) {
    if address.is_null() {
        return;
    }
    let account = &*(opaque as *const Account);
    let base = (address as *mut u8).sub(HEADER);
    let n = (base as *const usize).read();
    account.sub(n as u64);
    libc::free(base as *mut libc::c_void);
}

/// The `opaque` value for a stream charged to `account`.
pub(super) fn opaque(account: &Arc<Account>) -> z::voidpf {
    Arc::as_ptr(account) as z::voidpf
}
