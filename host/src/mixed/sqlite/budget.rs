//! The memory budget of the `sqlite3` mixed module (`limits.sqlite_memory`).
//!
//! sqlite allocates through [`ALLOCATOR`] (installed once per process with
//! `SQLITE_CONFIG_MALLOC`): each block records which run's [`Budget`] it was
//! charged to, the budget being the one of the host call that runs sqlite on
//! this thread ([`Charging`]). A run past its budget gets NULL from the
//! allocator (SQLITE_NOMEM: MemoryError in the guest); the temporary files of
//! the VFS (sqlite_vfs.rs) are charged to the same budget.

use std::cell::Cell;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use libsqlite3_sys as ffi;

/// What one run's sqlite may hold: heap blocks and temporary files.
pub(crate) struct Budget {
    pub(crate) limit: u64,
    used: AtomicU64,
    /// Set when a charge was refused, taken by the next error message.
    hit: AtomicBool,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicU64::new(0),
            hit: AtomicBool::new(false),
        })
    }

    pub(crate) fn charge(&self, n: u64) -> bool {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.limit {
            self.used.fetch_sub(n, Ordering::Relaxed);
            self.hit.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub(crate) fn release(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }

    /// Whether a charge was refused since the last call.
    pub(crate) fn take_hit(&self) -> bool {
        self.hit.swap(false, Ordering::Relaxed)
    }
}

thread_local! {
    /// The budget sqlite's allocations on this thread are charged to.
    static CURRENT: Cell<*const Budget> = const { Cell::new(std::ptr::null()) };
}

/// Charges sqlite's allocations on this thread to a budget while alive.
pub(crate) struct Charging {
    previous: *const Budget,
    _budget: Option<Arc<Budget>>,
}

impl Charging {
    pub(crate) fn new(budget: Option<Arc<Budget>>) -> Charging {
        let ptr = budget.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
        let previous = CURRENT.with(|c| c.replace(ptr));
        Charging {
            previous,
            _budget: budget,
        }
    }
}

impl Drop for Charging {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// The budget this thread charges now, for work that suspends mid-way
/// (sqlite/steps.rs) to put back what it found.
pub(crate) fn current() -> *const Budget {
    CURRENT.with(|c| c.get())
}

pub(crate) fn set_current(budget: *const Budget) {
    CURRENT.with(|c| c.set(budget));
}

/// Every block starts with its size and the budget it was charged to (a
/// strong count of it, or NULL), keeping the 8-byte alignment sqlite needs.
const HEADER: usize = 16;

fn round8(n: c_int) -> usize {
    (n.max(0) as usize + 7) & !7
}

unsafe extern "C" fn mem_malloc(n: c_int) -> *mut c_void {
    if n < 0 {
        return std::ptr::null_mut();
    }
    let size = round8(n);
    let budget = CURRENT.with(|c| c.get());
    if !budget.is_null() {
        if !(*budget).charge((size + HEADER) as u64) {
            return std::ptr::null_mut();
        }
        Arc::increment_strong_count(budget);
    }
    let block = libc::malloc(size + HEADER) as *mut u8;
    if block.is_null() {
        if !budget.is_null() {
            (*budget).release((size + HEADER) as u64);
            Arc::decrement_strong_count(budget);
        }
        return std::ptr::null_mut();
    }
    (block as *mut u64).write(size as u64);
    (block.add(8) as *mut *const Budget).write(budget);
    block.add(HEADER) as *mut c_void
}

unsafe extern "C" fn mem_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    let block = (p as *mut u8).sub(HEADER);
    let size = (block as *const u64).read() as usize;
    let budget = (block.add(8) as *const *const Budget).read();
    libc::free(block as *mut c_void);
    if !budget.is_null() {
        (*budget).release((size + HEADER) as u64);
        Arc::decrement_strong_count(budget);
    }
}

unsafe extern "C" fn mem_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        return mem_malloc(n);
    }
    if n < 0 {
        return std::ptr::null_mut();
    }
    let block = (p as *mut u8).sub(HEADER);
    let old = (block as *const u64).read() as usize;
    // The block stays charged to the budget it was first charged to.
    let budget = (block.add(8) as *const *const Budget).read();
    let new = round8(n);
    if new > old && !budget.is_null() && !(*budget).charge((new - old) as u64) {
        return std::ptr::null_mut();
    }
    let moved = libc::realloc(block as *mut c_void, new + HEADER) as *mut u8;
    if moved.is_null() {
        if new > old && !budget.is_null() {
            (*budget).release((new - old) as u64);
        }
        return std::ptr::null_mut();
    }
    if new < old && !budget.is_null() {
        (*budget).release((old - new) as u64);
    }
    (moved as *mut u64).write(new as u64);
    moved.add(HEADER) as *mut c_void
}

unsafe extern "C" fn mem_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    ((p as *const u8).sub(HEADER) as *const u64).read() as c_int
}

unsafe extern "C" fn mem_roundup(n: c_int) -> c_int {
    round8(n) as c_int
}

unsafe extern "C" fn mem_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn mem_shutdown(_: *mut c_void) {}

/// `sqlite3_mem_methods` holds a raw pointer (`pAppData`, NULL here).
struct Methods(ffi::sqlite3_mem_methods);
// SAFETY: immutable, and its only pointer is NULL.
unsafe impl Sync for Methods {}

static ALLOCATOR: Methods = Methods(ffi::sqlite3_mem_methods {
    xMalloc: Some(mem_malloc),
    xFree: Some(mem_free),
    xRealloc: Some(mem_realloc),
    xSize: Some(mem_size),
    xRoundup: Some(mem_roundup),
    xInit: Some(mem_init),
    xShutdown: Some(mem_shutdown),
    pAppData: std::ptr::null_mut(),
});

/// Process-wide settings, made while sqlite is shut down (before any
/// database of this process is open): the accounting allocator, and no
/// memory-mapped I/O. Returns whether the allocator is in place.
pub(crate) unsafe fn configure_process() -> bool {
    ffi::sqlite3_config(ffi::SQLITE_CONFIG_MMAP_SIZE, 0i64, 0i64);
    ffi::sqlite3_config(
        ffi::SQLITE_CONFIG_MALLOC,
        &ALLOCATOR.0 as *const ffi::sqlite3_mem_methods,
    ) == ffi::SQLITE_OK
}
