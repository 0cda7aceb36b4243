//! The Python guest on CPython 3.11: the interpreter is `libpython3.11.a`
//! linked in (see build.rs), its standard library a zip the host serves
//! read-only at `/usr/local/lib/python311.zip`, and the modules that reach
//! native code through the host are Rust on CPython's C API (PyO3).

mod bindings;
mod wasi_libc;

use std::ffi::{c_char, c_int, CString};

use pyo3::ffi;

/// `wchar_t` on wasm32-wasi.
#[allow(non_camel_case_types)]
type libc_wchar = i32;

/// Where the host mounts the standard library (see host/src/stdlib.rs).
const HOME: &str = "/usr/local";
const STDLIB_ZIP: &str = "/usr/local/lib/python311.zip";

fn main() {
    let status = run_python();
    if status != 0 {
        // WASI p2's exit carries only ok/err; this keeps the number.
        bindings::process::exit(status.clamp(0, 255) as u8);
    }
}

/// `python ARGS...` as CPython's `Py_BytesMain`, configured for the sandbox:
/// a fixed home and module path, and no bytecode written.
fn run_python() -> c_int {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()).unwrap_or_default())
        .collect();
    let mut argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: the interpreter is not initialised yet; every pointer handed to
    // CPython outlives the call that takes it (PyConfig copies strings).
    unsafe {
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        let outcome = configure(&mut config, &mut argv);
        let status = match outcome {
            Ok(()) => ffi::Py_InitializeFromConfig(&config),
            Err(status) => status,
        };
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            if ffi::PyStatus_IsExit(status) != 0 {
                return status.exitcode;
            }
            ffi::Py_ExitStatusException(status);
        }
        ffi::Py_RunMain()
    }
}

unsafe fn configure(
    config: &mut ffi::PyConfig,
    argv: &mut [*const c_char],
) -> Result<(), ffi::PyStatus> {
    let check = |status: ffi::PyStatus| {
        if ffi::PyStatus_Exception(status) != 0 {
            Err(status)
        } else {
            Ok(())
        }
    };
    check(ffi::PyConfig_SetBytesArgv(
        config,
        argv.len() as ffi::Py_ssize_t,
        argv.as_mut_ptr(),
    ))?;
    let home = wide(HOME);
    check(ffi::PyConfig_SetString(
        config,
        &mut config.home,
        home.as_ptr(),
    ))?;
    let zip = wide(STDLIB_ZIP);
    config.module_search_paths_set = 1;
    check(ffi::PyWideStringList_Append(
        &mut config.module_search_paths,
        zip.as_ptr(),
    ))?;
    // The standard library is read-only and precompiled; a user's
    // directories may be too, and short raw writes over 64 KiB on wasip2
    // would leave truncated .pyc files behind.
    config.write_bytecode = 0;
    Ok(())
}

/// A NUL-terminated `wchar_t` string (32-bit on wasm32-wasi).
fn wide(s: &str) -> Vec<libc_wchar> {
    s.chars().map(|c| c as libc_wchar).chain([0]).collect()
}
