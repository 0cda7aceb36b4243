//! Mixed modules backed by typed host interfaces: the one place they are
//! registered. Each is a Rust part (`<name>/mod.rs`, a `#[pymodule]`) plus an
//! optional application-level `app.py` run in the module at import; each
//! calls [`enable`] first, so the host's policy decides whether it imports.

use rustpython_vm::builtins::{PyModuleDef, PyModuleSlots};
use rustpython_vm::{Context, PyResult, VirtualMachine};

use crate::bindings::types::FfiError;

/// Every mixed module, added to the interpreter after the standard library
/// so that a name here replaces RustPython's own module of that name.
pub fn module_defs(ctx: &Context) -> Vec<&'static PyModuleDef> {
    vec![
        crate::sqlite3::module_def(ctx),
        crate::zlib::module_def(ctx),
        crate::probe::module_def(ctx),
        guest_zlib(ctx),
    ]
}

/// The policy check every mixed module makes when it is imported: ImportError
/// (with the host's reason) when the guest does not get `name`.
pub fn enable(vm: &VirtualMachine, module: &str, policy_name: &str) -> PyResult<()> {
    match crate::bindings::mixed::enable(policy_name) {
        Ok(()) => Ok(()),
        Err(FfiError::NotPermitted(msg)) => Err(vm.new_import_error(
            format!("cannot import {module}: {msg}"),
            vm.ctx.new_str(module),
        )),
        Err(other) => Err(crate::ffi::errors::to_py(vm, other)),
    }
}

/// RustPython's own, in-guest `zlib` (pure Rust), kept importable as
/// `_zlib_guest` now that `zlib` is the host's (the benchmark compares them).
fn guest_zlib(ctx: &Context) -> &'static PyModuleDef {
    // Called once, when the interpreter is built.
    let original = rustpython_stdlib::stdlib_module_defs(ctx)
        .into_iter()
        .find(|d| d.name.as_str() == "zlib")
        .expect("RustPython has a zlib module");
    Box::leak(Box::new(PyModuleDef {
        name: ctx.intern_str("_zlib_guest"),
        doc: original.doc,
        methods: original.methods,
        slots: PyModuleSlots {
            create: original.slots.create,
            exec: original.slots.exec,
        },
    }))
}
