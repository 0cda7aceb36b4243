//! Run limits: counted FFI handles, the guest's linear-memory cap, and the
//! epoch ticker behind the wall-clock deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::bindings::FfiError;
use crate::policy::Limits;

/// How often the engine's epoch advances when a run has a deadline.

/// Exit status when the guest ran past the policy's time limit
/// (`limits.cpu_time`), as with GNU `timeout`.
pub const DEADLINE_STATUS: i32 = 124;

pub const TICK: Duration = Duration::from_millis(10);

/// Kinds of FFI handles the guest can hold.
#[derive(Clone, Copy, Debug)]
pub enum Handle {
    Library,
    Signature,
    Function,
    StructType,
    Callback,
}

/// Live handles of one run, against the policy's limits.
pub struct Counters {
    limits: Limits,
    handles: u32,
    libraries: u32,
    callbacks: u32,
    /// The run's live callbacks by address, with their signatures: the only
    /// values checked mode accepts for a function-pointer parameter, and the
    /// only addresses a confined guest may call (with the same signature).
    pub callback_addresses: HashMap<u64, wasmffi_native::middle::signature::SigShape>,
}

impl Counters {
    pub fn new(limits: &Limits) -> Self {
        Counters {
            limits: limits.clone(),
            handles: 0,
            libraries: 0,
            callbacks: 0,
            callback_addresses: HashMap::new(),
        }
    }

    /// Count a new handle, or `limit-exceeded` naming the limit.
    pub fn acquire(&mut self, kind: Handle) -> Result<(), FfiError> {
        if self.handles >= self.limits.handles {
            return Err(FfiError::LimitExceeded(format!(
                "the guest holds {} FFI handles, the policy's limit (limits.handles); drop some first",
                self.handles
            )));
        }
        match kind {
            Handle::Library if self.libraries >= self.limits.libraries => {
                return Err(FfiError::LimitExceeded(format!(
                    "{} native libraries are open, the policy's limit (limits.libraries)",
                    self.libraries
                )))
            }
            Handle::Callback if self.callbacks >= self.limits.callbacks => {
                return Err(FfiError::LimitExceeded(format!(
                    "{} callbacks are live, the policy's limit (limits.callbacks)",
                    self.callbacks
                )))
            }
            Handle::Library => self.libraries += 1,
            Handle::Callback => self.callbacks += 1,
            _ => {}
        }
        self.handles += 1;
        Ok(())
    }

    pub fn release(&mut self, kind: Handle) {
        self.handles = self.handles.saturating_sub(1);
        match kind {
            Handle::Library => self.libraries = self.libraries.saturating_sub(1),
            Handle::Callback => self.callbacks = self.callbacks.saturating_sub(1),
            _ => {}
        }
    }
}

/// Caps the guest's linear memory; remembers whether it refused a growth
/// so that the trap that usually follows can be explained.
pub struct GuestLimiter {
    pub max_memory: usize,
    pub refused: Option<usize>,
}

impl GuestLimiter {
    pub fn new(limits: &Limits) -> Self {
        GuestLimiter {
            max_memory: usize::try_from(limits.linear_memory).unwrap_or(usize::MAX),
            refused: None,
        }
    }
}

impl wasmtime::ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.refused = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 24)
    }
}

/// Advances an engine's epoch every [`TICK`] until dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub fn start(engine: &wasmtime::Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("wasmffi-epoch".into())
            .spawn(move || {
                crate::fault::runtime_thread();
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks for a deadline (at least one).
pub fn ticks(deadline: Duration) -> u64 {
    (deadline.as_nanos().div_ceil(TICK.as_nanos()) as u64).max(1)
}

/// How long past its deadline a run may stay outside wasm (inside a native
/// call, or blocked in the host) before the watchdog ends it.
pub const WATCHDOG_GRACE: Duration = Duration::from_millis(500);

/// Ends a run that is past its deadline but out of reach of epoch
/// interruption, which only stops wasm code: a native call that blocks
/// (`pause()`, a read on a pipe) or loops. Under --isolate-native it kills
/// the helper, so the call returns a crash and the guest's next wasm
/// instruction meets the deadline; in-process native code cannot be stopped
/// safely, so it ends the process with [`DEADLINE_STATUS`].
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
}

impl Watchdog {
    /// Watch a run that started at `started` with `limit`; `helper` is the
    /// pid of the --isolate-native helper (0 while none runs).
    pub fn start(
        started: Instant,
        limit: Duration,
        helper: Option<Arc<AtomicI32>>,
    ) -> std::io::Result<Watchdog> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let watched = done.clone();
        std::thread::Builder::new()
            .name("wasmffi-watchdog".into())
            .spawn(move || {
                crate::fault::runtime_thread();
                let wait_until = |until: Instant| {
                    let (lock, ended) = &*watched;
                    let mut finished = lock.lock().unwrap_or_else(|p| p.into_inner());
                    while !*finished {
                        let now = Instant::now();
                        if now >= until {
                            return false;
                        }
                        finished = ended
                            .wait_timeout(finished, until - now)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                    true
                };
                let deadline = started + limit + WATCHDOG_GRACE;
                if wait_until(deadline) {
                    return;
                }
                if let Some(pid) = helper.as_ref().map(|p| p.load(Ordering::SeqCst)) {
                    if pid > 0 {
                        // SAFETY: signalling our own child process.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                        if wait_until(Instant::now() + WATCHDOG_GRACE) {
                            return;
                        }
                    }
                }
                eprintln!(
                    "wasmffi: the guest ran past its time limit of {:.3}s (limits.cpu_time) \
                     inside native code or a blocking call, and the process was ended",
                    limit.as_secs_f64()
                );
                // SAFETY: ends the process without running anything else;
                // the guest's thread is stuck where nothing can unwind it.
                unsafe { libc::_exit(DEADLINE_STATUS) };
            })?;
        Ok(Watchdog { done })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, ended) = &*self.done;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        ended.notify_all();
    }
}
