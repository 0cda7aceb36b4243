//! What wasi-sdk's emulation libraries (`-lwasi-emulated-signal`,
//! `-getpid`, `-process-clocks`) and `-ldl` would give `libpython3.11.a`:
//! Rust's wasm32-wasip2 sysroot has none of them.
//!
//! Signals are a table of handlers that only `raise` consults, as in
//! wasi-libc's emulation: WASI delivers no signals.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::bindings;

type Handler = usize;
const SIG_DFL: Handler = 0;
const NSIG: usize = 65;
static HANDLERS: [AtomicUsize; NSIG] = [const { AtomicUsize::new(SIG_DFL) }; NSIG];

#[no_mangle]
pub extern "C" fn __SIG_IGN(_: c_int) {}

#[no_mangle]
pub extern "C" fn __SIG_ERR(_: c_int) {}

fn sig_err() -> Handler {
    __SIG_ERR as extern "C" fn(c_int) as Handler
}

fn sig_ign() -> Handler {
    __SIG_IGN as extern "C" fn(c_int) as Handler
}

#[no_mangle]
pub extern "C" fn signal(sig: c_int, handler: Handler) -> Handler {
    match usize::try_from(sig) {
        Ok(n) if (1..NSIG).contains(&n) => HANDLERS[n].swap(handler, Ordering::SeqCst),
        _ => sig_err(),
    }
}

#[no_mangle]
pub extern "C" fn raise(sig: c_int) -> c_int {
    let Ok(n) = usize::try_from(sig) else {
        return -1;
    };
    if !(1..NSIG).contains(&n) {
        return -1;
    }
    match HANDLERS[n].load(Ordering::SeqCst) {
        SIG_DFL => {
            // The default action of every signal CPython raises is to end
            // the process, as a native kill would report it.
            bindings::process::exit((128 + sig).min(255) as u8);
            0
        }
        h if h == sig_ign() || h == sig_err() => 0,
        h => {
            // SAFETY: `h` was installed through `signal` as a C handler.
            let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(h) };
            handler(sig);
            0
        }
    }
}

#[no_mangle]
pub extern "C" fn strsignal(sig: c_int) -> *const c_char {
    let name: &'static [u8] = match sig {
        1 => b"Hangup\0",
        2 => b"Interrupt\0",
        3 => b"Quit\0",
        4 => b"Illegal instruction\0",
        5 => b"Trace/breakpoint trap\0",
        6 => b"Aborted\0",
        7 => b"Bus error\0",
        8 => b"Floating point exception\0",
        9 => b"Killed\0",
        10 => b"User defined signal 1\0",
        11 => b"Segmentation fault\0",
        12 => b"User defined signal 2\0",
        13 => b"Broken pipe\0",
        14 => b"Alarm clock\0",
        15 => b"Terminated\0",
        _ => b"Unknown signal\0",
    };
    name.as_ptr().cast()
}

/// wasi-libc's emulated pid.
#[no_mangle]
pub extern "C" fn getpid() -> c_int {
    42
}

fn started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Process CPU time as wasi-libc emulates it: time since start
/// (`CLOCKS_PER_SEC` is 1e9 there).
#[no_mangle]
pub extern "C" fn clock() -> i64 {
    started().elapsed().as_nanos() as i64
}

#[repr(C)]
pub struct Tms {
    utime: i64,
    stime: i64,
    cutime: i64,
    cstime: i64,
}

#[no_mangle]
pub extern "C" fn times(buf: *mut Tms) -> i64 {
    let now = clock();
    if !buf.is_null() {
        // SAFETY: the caller passes a `struct tms`.
        unsafe {
            buf.write(Tms {
                utime: now,
                stime: 0,
                cutime: 0,
                cstime: 0,
            })
        };
    }
    now
}

// There are no shared objects in the guest: the native libraries a program
// uses are the host's, reached through `_rawffi`/`ctypes`.
const NO_DLOPEN: &[u8] = b"dynamic loading is not available inside the wasmffi guest\0";

#[no_mangle]
pub extern "C" fn dlopen(_path: *const c_char, _flags: c_int) -> *mut c_void {
    std::ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn dlsym(_handle: *mut c_void, _name: *const c_char) -> *mut c_void {
    std::ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn dlerror() -> *const c_char {
    NO_DLOPEN.as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn dlclose(_handle: *mut c_void) -> c_int {
    0
}

extern "C" {
    fn __real__Exit(status: c_int) -> !;
}

/// C's `_Exit`, where `exit` and `_exit` end, keeping the status: WASI p2's
/// own exit carries only ok/err.
#[no_mangle]
pub extern "C" fn __wrap__Exit(status: c_int) -> ! {
    if status != 0 {
        bindings::process::exit(status.clamp(0, 255) as u8);
    }
    // SAFETY: libc's _Exit, for a clean status.
    unsafe { __real__Exit(0) }
}

/// `os._exit`'s `_exit`: wasi-libc defines it beside `_Exit`, so the call
/// between them is not wrapped.
#[no_mangle]
pub extern "C" fn __wrap__exit(status: c_int) -> ! {
    __wrap__Exit(status)
}
