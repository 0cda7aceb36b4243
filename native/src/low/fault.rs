//! Native fault containment: a fatal signal raised by native
//! code during a call unwinds to the host (fault.c beside this file does the
//! sigsetjmp/siglongjmp) and the call reports which function crashed instead
//! of the process dying silently. A fault on a thread that native code
//! created, while a run is going on, is reported as the guest's thread would
//! report it and ends the process with 128 + the signal. Faults anywhere else
//! (wasm traps, which wasmtime handles through the same signals) go to the
//! previous handler.

use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

use libffi::low::ffi_cif;

extern "C" {
    fn wasmffi_guarded_ffi_call(
        cif: *mut ffi_cif,
        function: Option<unsafe extern "C" fn()>,
        result: *mut c_void,
        args: *mut *mut c_void,
    ) -> c_int;
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn wasmffi_guarded_words_call(
        function: unsafe extern "C" fn(u64, u64, u64, u64, u64, u64) -> u64,
        args: *const u64,
        result: *mut u64,
    ) -> c_int;
    fn wasmffi_guarded_copy(dst: *mut c_void, src: *const c_void, len: usize) -> c_int;
    fn wasmffi_fault_escape(signal: c_int);
    fn wasmffi_fault_disarm() -> *mut c_void;
    fn wasmffi_fault_rearm(target: *mut c_void);
}

const SIGNALS: [c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGABRT,
];

/// The handlers that were installed before ours, to chain to.
static mut PREVIOUS: [libc::sigaction; SIGNALS.len()] = unsafe { std::mem::zeroed() };

/// Set once the handlers are installed (the host after wasmtime's, the
/// --isolate-native helper at start).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Install the handlers (once per process). Call after wasmtime has set up
/// its own, so that ours runs first and passes non-native faults on.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| unsafe {
        for (index, &signal) in SIGNALS.iter().enumerate() {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            // NODEFER: the jump out of the handler leaves the mask as it
            // was, so sigsetjmp need not save it (a syscall per call).
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let previous = std::ptr::addr_of_mut!(PREVIOUS[index]);
            libc::sigaction(signal, &action, previous);
        }
        INSTALLED.store(true, Ordering::Release);
    });
}

/// Copy `len` bytes from `src` to `dst`, either of which may be an address
/// nobody vouches for: a fault comes back as its signal instead of ending
/// the process. `None` where the handlers are not installed (the caller then
/// asks the kernel to copy, which is a system call or two per access).
///
/// # Safety
/// `dst` and `src` must not overlap; whatever memory they name may be read
/// or written (that is the caller's policy decision).
pub unsafe fn guarded_copy(dst: *mut u8, src: *const u8, len: usize) -> Option<Result<(), c_int>> {
    if !INSTALLED.load(Ordering::Acquire) {
        return None;
    }
    Some(match wasmffi_guarded_copy(dst.cast(), src.cast(), len) {
        0 => Ok(()),
        signal => Err(signal),
    })
}

/// Runs going on in this process.
static RUNS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the threads the runtime itself starts (the guest's, the
    /// ticker's, the watchdog's): faults there are not native code's.
    static RUNTIME_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Mark the calling thread as one of the runtime's own.
pub fn runtime_thread() {
    RUNTIME_THREAD.with(|t| t.set(true));
}

/// Counts a run as going on while alive.
pub struct RunGuard(());

impl RunGuard {
    pub fn enter() -> RunGuard {
        runtime_thread();
        RUNS.fetch_add(1, Ordering::SeqCst);
        RunGuard(())
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        RUNS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A fatal signal on a thread native code created: nothing can be unwound
/// there and the guest cannot run on it, so report (with async-signal-safe
/// writes only) and end the process as an in-process crash does.
unsafe fn native_thread_crash(signal: c_int) -> ! {
    let name: &[u8] = match signal {
        libc::SIGSEGV => b"Segmentation fault (SIGSEGV)",
        libc::SIGBUS => b"Bus error (SIGBUS)",
        libc::SIGILL => b"Illegal instruction (SIGILL)",
        libc::SIGFPE => b"Floating point exception (SIGFPE)",
        _ => b"Aborted (SIGABRT)",
    };
    let parts: [&[u8]; 3] = [
        b"Fatal Python error: ",
        name,
        b" in native code: on a thread that native code created\n\n\
          Python stack: not available (the guest does not run on that thread)\n",
    ];
    for part in parts {
        libc::write(2, part.as_ptr().cast(), part.len());
    }
    libc::_exit(128 + signal);
}

extern "C" fn handler(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    unsafe {
        // Does not return if this thread is inside a native call.
        wasmffi_fault_escape(signal);
        if RUNS.load(Ordering::SeqCst) > 0 && !RUNTIME_THREAD.with(|t| t.get()) {
            native_thread_crash(signal);
        }
        let Some(index) = SIGNALS.iter().position(|&s| s == signal) else {
            return;
        };
        let previous = &*std::ptr::addr_of!(PREVIOUS[index]);
        match previous.sa_sigaction {
            libc::SIG_IGN => {}
            libc::SIG_DFL => {
                // Restore the default action and let the fault happen again.
                libc::sigaction(signal, previous, std::ptr::null_mut());
                if signal == libc::SIGABRT {
                    libc::raise(signal);
                }
            }
            chained if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                let chained: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    std::mem::transmute(chained);
                chained(signal, info, context);
            }
            chained => {
                let chained: extern "C" fn(c_int) = std::mem::transmute(chained);
                chained(signal);
            }
        }
    }
}

/// `ffi_call` that comes back with the signal number if native code crashed.
///
/// # Safety
/// As `ffi_call`: the CIF, function, result and argument pointers must match.
pub unsafe fn guarded_call(
    cif: *mut ffi_cif,
    function: unsafe extern "C" fn(),
    result: *mut c_void,
    args: *mut *mut c_void,
) -> Result<(), c_int> {
    match wasmffi_guarded_ffi_call(cif, Some(function), result, args) {
        0 => Ok(()),
        signal => Err(signal),
    }
}

/// A call of a function whose arguments are at most six integer or pointer
/// words and whose result is one (or void), without libffi, under the same
/// fault containment as [`guarded_call`].
///
/// # Safety
/// `function` must take at most six integer or pointer arguments, not be
/// variadic, and return an integer, a pointer or nothing; `args` holds each
/// argument widened to 64 bits as the ABI expects (sign- or zero-extended).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub unsafe fn guarded_words_call(
    function: unsafe extern "C" fn(),
    args: &[u64; 6],
) -> Result<u64, c_int> {
    let function: unsafe extern "C" fn(u64, u64, u64, u64, u64, u64) -> u64 =
        std::mem::transmute(function);
    let mut result = 0u64;
    match wasmffi_guarded_words_call(function, args.as_ptr(), &mut result) {
        0 => Ok(result),
        signal => Err(signal),
    }
}

/// End the process of `signal` as if no handler had caught it, so that
/// whoever waits for it (the host, for the --isolate-native helper) sees the
/// signal in its exit status.
pub fn die_of(signal: c_int) -> ! {
    // SAFETY: resetting a disposition and raising are async-signal-safe and
    // leave no Rust state behind; the process ends here.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
        libc::_exit(128 + signal)
    }
}

/// Run `f` (which leaves native code, to run the guest) with native fault
/// handling switched off on this thread.
pub fn outside_native<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: plain thread-local bookkeeping in fault.c.
    let target = unsafe { wasmffi_fault_disarm() };
    let result = f();
    unsafe { wasmffi_fault_rearm(target) };
    result
}

pub fn signal_name(signal: c_int) -> String {
    let abbrev = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    };
    // SAFETY: strsignal returns a static or thread-local string.
    let description = unsafe {
        let text = libc::strsignal(signal);
        if text.is_null() {
            String::new()
        } else {
            CStr::from_ptr(text).to_string_lossy().into_owned()
        }
    };
    format!("{description} ({abbrev})")
}

/// "symbol in /path/lib.so" for an address, via the dynamic loader.
pub fn describe_address(address: u64) -> String {
    // SAFETY: dladdr only reads loader tables.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(address as *const c_void, &mut info) == 0 {
            return format!("code at {address:#x}");
        }
        let text = |p: *const libc::c_char| {
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        };
        match (text(info.dli_sname), text(info.dli_fname)) {
            (Some(symbol), Some(file)) => format!("{symbol} in {file}"),
            (None, Some(file)) => format!("code at {address:#x} in {file}"),
            _ => format!("code at {address:#x}"),
        }
    }
}
