//! Libraries opened through the host (`dlopen`), by handle: the guest
//! cannot see the host's real `dlopen` handles, so `_handle` is a small
//! number naming an entry of this table (never reused).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rustpython_vm::{PyResult, VirtualMachine};

use crate::bindings::library::Library;
use crate::ffi::errors::OrRaise;

thread_local! {
    static LIBRARIES: RefCell<(u64, HashMap<u64, Rc<Library>>)> = RefCell::new((0, HashMap::new()));
}

/// Handles start here so that they never look like NULL or a small int.
const FIRST_HANDLE: u64 = 0x1000;

pub fn open(vm: &VirtualMachine, name: Option<&str>, mode: i32) -> PyResult<u64> {
    let lib = Library::open(name, mode).or_raise(vm)?;
    Ok(LIBRARIES.with(|l| {
        let mut l = l.borrow_mut();
        l.0 += 1;
        let handle = FIRST_HANDLE + l.0 * 16;
        l.1.insert(handle, Rc::new(lib));
        handle
    }))
}

pub fn get(vm: &VirtualMachine, handle: u64) -> PyResult<Rc<Library>> {
    LIBRARIES
        .with(|l| l.borrow().1.get(&handle).cloned())
        .ok_or_else(|| vm.new_os_error(format!("invalid library handle {handle:#x}")))
}

pub fn close(vm: &VirtualMachine, handle: u64) -> PyResult<()> {
    LIBRARIES
        .with(|l| l.borrow_mut().1.remove(&handle))
        .map(drop)
        .ok_or_else(|| vm.new_os_error(format!("invalid library handle {handle:#x}")))
}

pub fn symbol(vm: &VirtualMachine, handle: u64, name: &str) -> PyResult<u64> {
    let lib = get(vm, handle)?;
    lib.symbol(name).map_err(|e| match e {
        crate::bindings::types::FfiError::NoSuchSymbol(_) => {
            vm.new_attribute_error(format!("{}: undefined symbol: {name}", lib.path()))
        }
        other => crate::ffi::errors::to_py(vm, other),
    })
}
