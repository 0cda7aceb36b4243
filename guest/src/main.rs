//! The Python guest: RustPython with its standard library frozen in, plus
//! the native modules that reach native code through the host (`_rawffi`).

mod bindings;
mod ctypes;
mod ffi;
mod mixed;
mod probe;
mod rawffi;
mod sqlite3;
mod zlib;

use rustpython::{InterpreterBuilder, InterpreterBuilderExt, RunMode};
use rustpython_vm::{scope::Scope, PyResult, VirtualMachine};

fn main() {
    let (settings, run_mode) = match rustpython::parse_opts() {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("{err}");
            bindings::process::exit(2);
            return;
        }
    };
    let builder = InterpreterBuilder::new().init_stdlib();
    let rawffi_def = rawffi::module_def(&builder.ctx);
    let ctypes_def = ctypes::module_def(&builder.ctx);
    // Mixed modules backed by typed host interfaces (sqlite3, zlib, _probe).
    let mixed_defs = mixed::module_defs(&builder.ctx);
    let interpreter = builder
        .settings(settings)
        .add_native_module(rawffi_def)
        .add_native_module(ctypes_def)
        .add_native_modules(&mixed_defs)
        // CPython's ctypes package, adapted to the host (see ctypes/py/)
        .add_frozen_modules(ctypes::frozen_package())
        .interpreter();
    let status = interpreter.enter(move |vm| {
        let outcome = run(vm, run_mode);
        shut_down(vm, outcome)
    });
    if status != 0 {
        // WASI p2's exit carries only ok/err; this keeps the number.
        bindings::process::exit(status.min(255) as u8);
    }
}

/// CPython's shutdown, as `Interpreter::finalize` does it, less its
/// `import threading` (for `threading._shutdown()`): there are no threads on
/// wasm32-wasip2, and that import alone took ~150 ms of every run.
fn shut_down(vm: &VirtualMachine, outcome: PyResult<()>) -> u32 {
    let flush = |vm: &VirtualMachine| {
        ["stdout", "stderr"].iter().all(|stream| {
            vm.sys_module
                .get_attr(*stream, vm)
                .and_then(|s| vm.call_method(&s, "flush", ()))
                .is_ok()
        })
    };
    // SystemExit's status, or the traceback of an uncaught exception.
    let status = match outcome {
        Ok(()) => 0,
        Err(exc) => vm.handle_exit_exception(exc),
    };
    if let Ok(atexit) = vm.import("atexit", 0) {
        let _ = vm.call_method(&atexit, "_run_exitfuncs", ());
    }
    let flushed = flush(vm);
    vm.state
        .finalizing
        .store(true, std::sync::atomic::Ordering::Release);
    // __del__ methods and buffered files still get their chance.
    rustpython_vm::gc_state::gc_state().collect_force(2);
    vm.finalize_modules();
    match (flushed, status) {
        // As CPython: a failed flush of stdout turns success into 120.
        (false, 0) => 120,
        (_, status) => status,
    }
}

/// `python FILE | -c CODE | -m MODULE`, as CPython's `pymain_run_python`.
fn run(vm: &VirtualMachine, mode: RunMode) -> PyResult<()> {
    let scope = vm.new_scope_with_main()?;
    let _ = vm.import("warnings", 0);
    // site before sys.path[0], as CPython does.
    let _ = vm.import("site", 0);
    match mode {
        RunMode::Command(code) => {
            vm.insert_sys_path(vm.new_pyobj(""))?;
            vm.run_string(scope, &code, "<string>".to_owned()).map(drop)
        }
        RunMode::Module(module) => {
            let cwd = std::env::current_dir()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            vm.insert_sys_path(vm.new_pyobj(cwd))?;
            vm.run_module(&module)
        }
        RunMode::Script(path) => run_script(vm, scope, &path),
        RunMode::Repl | RunMode::InstallPip(_) => Err(vm.new_runtime_error(
            "wasmffi runs a script, -c CODE or -m MODULE; the REPL is not available",
        )),
    }
}

fn run_script(vm: &VirtualMachine, scope: Scope, path: &str) -> PyResult<()> {
    let dir = std::path::Path::new(path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    vm.insert_sys_path(vm.new_pyobj(dir))?;
    vm.run_any_file(scope, path)
}
