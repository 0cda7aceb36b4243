//! Host errors as Python exceptions.

use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::VirtualMachine;

use crate::bindings::types::{FfiError, NativeCrash};

/// The exception type raised for bad pointers; each Python module that
/// exposes the FFI picks its own (`_rawffi.SegfaultException`, ...).
pub fn to_py(vm: &VirtualMachine, err: FfiError) -> PyBaseExceptionRef {
    let ex = &vm.ctx.exceptions;
    match err {
        // OSError subtypes must be built as such: RustPython reads their
        // payload as PyOSError.
        FfiError::NotPermitted(msg) => vm
            .new_os_subtype_error(ex.permission_error.to_owned(), None, msg)
            .upcast(),
        FfiError::LoadFailed(msg) => vm.new_os_error(msg),
        FfiError::NoSuchSymbol(msg) => vm.new_attribute_error(msg),
        FfiError::InvalidArgument(msg) => vm.new_value_error(msg),
        FfiError::BadPointer(msg) => segfault(vm, msg),
        FfiError::LimitExceeded(msg) => vm.new_memory_error(msg),
        FfiError::Unsupported(msg) => vm.new_not_implemented_error(msg),
        FfiError::SignatureMismatch(msg) => vm.new_type_error(msg),
        FfiError::Crashed(crash) if crash.recoverable => {
            super::arena::forget_native_memory();
            vm.new_os_error(format!(
                "native code crashed: {} in {}",
                crash.signal_name, crash.function
            ))
        }
        FfiError::Crashed(crash) => fatal_native_crash(vm, &crash),
    }
}

/// Native code crashed inside this process: its state may be corrupt, so
/// report like CPython's faulthandler (what crashed, then the Python stack)
/// and end the run with 128 + the signal number, as a shell would.
fn fatal_native_crash(vm: &VirtualMachine, crash: &NativeCrash) -> ! {
    eprintln!(
        "Fatal Python error: {} in native code: {}\n\nPython stack (most recent call last):",
        crash.signal_name, crash.function
    );
    let _ = vm
        .import("traceback", 0)
        .and_then(|tb| tb.get_attr("print_stack", vm))
        .and_then(|print_stack| print_stack.call((), vm));
    for stream in ["stdout", "stderr"] {
        let _ = vm
            .sys_module
            .get_attr(stream, vm)
            .and_then(|s| vm.call_method(&s, "flush", ()));
    }
    crate::bindings::process::exit((128 + crash.signal).clamp(1, 255) as u8);
    unreachable!("process.exit returned")
}

/// `_rawffi.SegfaultException`: memory the runtime refused to touch.
pub fn segfault(vm: &VirtualMachine, msg: String) -> PyBaseExceptionRef {
    let class = vm
        .import("_rawffi", 0)
        .and_then(|m| m.get_attr("SegfaultException", vm))
        .ok()
        .and_then(|c| c.downcast().ok());
    match class {
        Some(class) => vm.new_exception_msg(class, msg.into()),
        None => vm.new_runtime_error(msg),
    }
}

/// Extension for `Result<T, FfiError>`.
pub trait OrRaise<T> {
    fn or_raise(self, vm: &VirtualMachine) -> rustpython_vm::PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, FfiError> {
    fn or_raise(self, vm: &VirtualMachine) -> rustpython_vm::PyResult<T> {
        self.map_err(|e| to_py(vm, e))
    }
}

/// A Python `str` as UTF-8, refusing lone surrogates.
pub fn utf8<'a>(
    vm: &VirtualMachine,
    s: &'a rustpython_vm::builtins::PyStr,
) -> rustpython_vm::PyResult<&'a str> {
    s.to_str()
        .ok_or_else(|| vm.new_unicode_encode_error("surrogates are not allowed here"))
}
