//! `_host_platform`: which system native code runs on, for the standard
//! library's `os.uname()` (replaced at start-up, [`install`]) and
//! `platform.libc_ver()` (patched by scripts/cpython_wasi.py). The interpreter is WASI's (`sys.platform` stays
//! "wasi"), but every library a program loads through ctypes is the host's,
//! and packages ask `platform.system()`/`machine()` to pick library names and
//! struct layouts. The facts are the host's (`wasmffi:ffi/platform`), never
//! the guest's guess; unlike `_probe` this needs no grant: `_ctypes` exposes
//! the same facts.

#[pyo3::pymodule]
pub(crate) mod _host_platform {
    use pyo3::prelude::*;

    use crate::ffi::platform::facts;

    /// `uname`'s (sysname, machine) of the host: ("Linux", "x86_64").
    #[pyfunction]
    fn system_and_machine() -> (String, String) {
        let raw = &facts().raw;
        let system = match raw.os.as_str() {
            "linux" => "Linux".to_owned(),
            "macos" => "Darwin".to_owned(),
            "freebsd" => "FreeBSD".to_owned(),
            "netbsd" => "NetBSD".to_owned(),
            "openbsd" => "OpenBSD".to_owned(),
            other => other.to_owned(),
        };
        (system, raw.arch.clone())
    }

    /// `os.uname()` with the host's sysname and machine; node name, release
    /// and version stay WASI's (the host's name is not the guest's to know).
    #[pyfunction]
    fn uname<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let wasi = py.import("posix")?.getattr("uname")?.call0()?;
        let (system, machine) = system_and_machine();
        let fields = (
            system,
            wasi.getattr("nodename")?,
            wasi.getattr("release")?,
            wasi.getattr("version")?,
            machine,
        );
        wasi.get_type().call1((fields,))
    }

    /// The host's C library as `platform.libc_ver()` names it: ("glibc", "2.36").
    #[pyfunction]
    fn libc() -> (String, String) {
        let description = &facts().raw.libc;
        match description.split_once(' ') {
            Some((name, version)) => (name.to_owned(), version.to_owned()),
            None => (description.clone(), String::new()),
        }
    }
}

/// Make `os.uname` the host-facing one, before the program runs (`os` is
/// frozen into the interpreter, so its source cannot be patched).
pub fn install(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
    use pyo3::types::PyAnyMethods;
    let uname = py.import("_host_platform")?.getattr("uname")?;
    py.import("os")?.setattr("uname", uname)
}
