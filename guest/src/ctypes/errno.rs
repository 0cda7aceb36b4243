//! errno numbers across the boundary. Native code sets the host's errno
//! (Linux: ENOENT is 2); the guest's `errno` module, `os.strerror` and the
//! `OSError` subclasses use WASI's numbers (ENOENT is 44). ctypes'
//! `get_errno`/`set_errno` translate by name, so `get_errno() == errno.ENOENT`
//! and `OSError(get_errno(), ...)` work as on CPython. A number with no
//! counterpart passes through unchanged. (`_rawffi` stays raw: host numbers,
//! with `_rawffi.errno_codes` to interpret them.)

use std::cell::OnceCell;
use std::collections::HashMap;

use rustpython_vm::builtins::PyInt;
use rustpython_vm::VirtualMachine;

use crate::ffi::platform::facts;

struct Maps {
    host_to_guest: HashMap<i32, i32>,
    guest_to_host: HashMap<i32, i32>,
}

thread_local! {
    static MAPS: OnceCell<Maps> = const { OnceCell::new() };
}

fn with_maps<R>(vm: &VirtualMachine, f: impl FnOnce(&Maps) -> R) -> R {
    MAPS.with(|cell| f(cell.get_or_init(|| build(vm))))
}

fn build(vm: &VirtualMachine) -> Maps {
    let guest_codes = guest_codes(vm);
    let mut maps = Maps {
        host_to_guest: HashMap::new(),
        guest_to_host: HashMap::new(),
    };
    for (name, host) in &facts().raw.errno_codes {
        if let Some(&guest) = guest_codes.get(name.as_str()) {
            // aliases (EWOULDBLOCK = EAGAIN): the first name wins both ways
            maps.host_to_guest.entry(*host).or_insert(guest);
            maps.guest_to_host.entry(guest).or_insert(*host);
        }
    }
    maps
}

/// The guest's `errno` module constants by name.
fn guest_codes(vm: &VirtualMachine) -> HashMap<String, i32> {
    let mut codes = HashMap::new();
    let Ok(module) = vm.import("errno", 0) else {
        return codes;
    };
    let Some(dict) = module.dict() else {
        return codes;
    };
    for (name, value) in &dict {
        let (Some(name), Some(value)) = (
            name.downcast_ref::<rustpython_vm::builtins::PyStr>(),
            value.downcast_ref::<PyInt>(),
        ) else {
            continue;
        };
        if let (Some(name), Ok(value)) = (name.to_str(), value.try_to_primitive::<i32>(vm)) {
            if name.starts_with('E') {
                codes.insert(name.to_owned(), value);
            }
        }
    }
    codes
}

pub fn to_guest(vm: &VirtualMachine, host: i32) -> i32 {
    with_maps(vm, |m| m.host_to_guest.get(&host).copied().unwrap_or(host))
}

pub fn to_host(vm: &VirtualMachine, guest: i32) -> i32 {
    with_maps(vm, |m| {
        m.guest_to_host.get(&guest).copied().unwrap_or(guest)
    })
}
