//! Run limits: counted FFI handles, the guest's linear-memory cap, and the
//! epoch ticker behind the wall-clock deadline.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::bindings::FfiError;
use crate::policy::Limits;

/// How often the engine's epoch advances when a run has a deadline.
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
    /// Addresses of the run's live callbacks: the only values checked mode
    /// accepts for a function-pointer parameter.
    pub callback_addresses: HashSet<u64>,
}

impl Counters {
    pub fn new(limits: &Limits) -> Self {
        Counters {
            limits: limits.clone(),
            handles: 0,
            libraries: 0,
            callbacks: 0,
            callback_addresses: HashSet::new(),
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
