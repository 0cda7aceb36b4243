//! `from_buffer()` over guest memory (a `bytearray`, `array.array`, `mmap`).
//!
//! CPython's result aliases the buffer. Here native code cannot see guest
//! memory, so the ctypes object works on a host copy that is kept coherent
//! with the buffer: synchronised before and after every ctypes access to the
//! object (fields, items, `.value`) and around every foreign call, `memmove`
//! and `memset`. Synchronising is a three-way merge against the contents at
//! the last synchronisation, so changes made on either side survive: Python
//! writing into the `bytearray`, native code or a raw address writing into
//! the host copy. Only changes made while no ctypes operation runs and then
//! read from the other side without one (a native thread writing later) are
//! not seen; the guest has no threads.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use rustpython_vm::protocol::PyBuffer;
use rustpython_vm::{PyObject, PyResult, VirtualMachine};

use super::cdata::{cdata, root_of};
use crate::ffi::memory as mem;

pub struct Shadow {
    /// Holds the export: the source cannot resize while it is shadowed.
    buffer: PyBuffer,
    offset: usize,
    host: u64,
    len: usize,
    /// The contents at the last synchronisation.
    snapshot: RefCell<Vec<u8>>,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("host", &self.host)
            .field("len", &self.len)
            .finish()
    }
}

thread_local! {
    static LIVE: RefCell<Vec<Weak<Shadow>>> = const { RefCell::new(Vec::new()) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

impl Drop for Shadow {
    fn drop(&mut self) {
        COUNT.with(|c| c.set(c.get() - 1));
    }
}

impl Shadow {
    /// Shadow `len` bytes of `buffer` from `offset` in the host block at
    /// `host`, which already holds a copy of them.
    pub fn register(buffer: PyBuffer, offset: usize, host: u64, len: usize) -> Rc<Shadow> {
        let snapshot = buffer.obj_bytes()[offset..offset + len].to_vec();
        let shadow = Rc::new(Shadow {
            buffer,
            offset,
            host,
            len,
            snapshot: RefCell::new(snapshot),
        });
        COUNT.with(|c| c.set(c.get() + 1));
        LIVE.with(|live| {
            let mut live = live.borrow_mut();
            live.retain(|w| w.strong_count() > 0);
            live.push(Rc::downgrade(&shadow));
        });
        shadow
    }

    pub fn sync(&self, vm: &VirtualMachine) -> PyResult<()> {
        let host = mem::read(vm, self.host, self.len)?;
        let guest = self.buffer.obj_bytes()[self.offset..self.offset + self.len].to_vec();
        let mut snapshot = self.snapshot.borrow_mut();
        let host_changed = host != *snapshot;
        let guest_changed = guest != *snapshot;
        let merged = match (host_changed, guest_changed) {
            (false, false) => return Ok(()),
            (true, false) => host,
            (false, true) => guest,
            (true, true) => guest
                .iter()
                .zip(&host)
                .zip(snapshot.iter())
                .map(|((&g, &h), &s)| if g != s { g } else { h })
                .collect(),
        };
        if guest_changed {
            mem::write(vm, self.host, &merged)?;
        }
        if host_changed {
            self.buffer.obj_bytes_mut()[self.offset..self.offset + self.len]
                .copy_from_slice(&merged);
        }
        *snapshot = merged;
        Ok(())
    }
}

fn any_live() -> bool {
    COUNT.with(Cell::get) > 0
}

/// Run `f`, an access to `obj`'s memory, with that memory coherent with the
/// guest buffer it shadows (if it shadows one) before and after.
pub fn coherent<R>(
    vm: &VirtualMachine,
    obj: &PyObject,
    f: impl FnOnce() -> PyResult<R>,
) -> PyResult<R> {
    if !any_live() {
        return f();
    }
    let root = root_of(obj);
    let Some(shadow) = cdata(&root).and_then(|cd| cd.shadow()) else {
        return f();
    };
    shadow.sync(vm)?;
    let result = f();
    shadow.sync(vm)?;
    result
}

/// Bring every shadowed buffer and its host copy into agreement (around
/// foreign calls and raw memory operations, which may touch any of them).
pub fn sync_all(vm: &VirtualMachine) -> PyResult<()> {
    if !any_live() {
        return Ok(());
    }
    let live: Vec<Rc<Shadow>> =
        LIVE.with(|live| live.borrow().iter().filter_map(Weak::upgrade).collect());
    for shadow in live {
        shadow.sync(vm)?;
    }
    Ok(())
}
