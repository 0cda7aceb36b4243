//! The embedding API: a [`Runtime`] holds the compiled guest and a policy and
//! runs Python programs in fresh, isolated instances.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::error::Context;
use wasmtime::{bail, Result};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::CommandPre;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::bindings::Ffi;
pub use crate::policy::dirs::{parse_preopen, Preopen};
use crate::policy::Policy;
use crate::state::HostState;

pub(crate) mod cache;

/// Exit status when the guest traps (a bug in the guest or runtime, never
/// something Python code can cause on purpose).
pub const TRAP_STATUS: i32 = 70;

pub use crate::policy::limits::DEADLINE_STATUS;

/// Exit status when the guest needed more linear memory than the policy's
/// `limits.linear_memory` and could not recover (most often Python raises
/// MemoryError instead).
pub const MEMORY_LIMIT_STATUS: i32 = 125;

/// How the guest learns the policy's site directories (guest/src/main.rs
/// adds them to the module search path).
const SITE_ENV: &str = "WASMFFI_SITE";

/// Captured output is limited to this many bytes per stream.
const CAPTURE_LIMIT: usize = 64 << 20;

/// A deep wasm stack lets the interpreter reach its own recursion limit and
/// raise RecursionError instead of trapping; wasm runs on the host thread's
/// stack, so each run gets a thread with room for it.
const WASM_STACK: usize = 256 << 20;
const RUN_THREAD_STACK: usize = WASM_STACK + (16 << 20);

/// What to run: like `python FILE`, `python -c CODE`, `python -m MODULE`.
#[derive(Clone, Debug)]
pub enum Program {
    File(PathBuf),
    Code(String),
    Module(String),
}

#[derive(Clone, Debug, Default)]
pub enum Stdio {
    #[default]
    Inherit,
    /// Capture output into [`Outcome`]; for stdin, read these bytes.
    Capture(Vec<u8>),
}

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `sys.argv[1:]`.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Preopens of this run, beside the policy's ([`Policy::preopens`]);
    /// one here replaces the policy's at the same guest path.
    pub dirs: Vec<Preopen>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
}

#[derive(Debug)]
pub struct Outcome {
    /// As with `python`: 0, the `sys.exit` status, 1 for an uncaught exception.
    pub status: i32,
    /// Captured output (empty where the stream was inherited).
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub struct Runtime {
    /// Advances the epoch while the runtime lives, when the policy has a deadline.
    _ticker: Option<crate::policy::limits::Ticker>,
    engine: Engine,
    pre: CommandPre<HostState>,
    policy: Arc<Policy>,
    /// Also where mixed modules cache (the probe's answers).
    cache_dir: PathBuf,
    /// The host directory mounted read-only as the guest's standard library.
    stdlib_dir: PathBuf,
}

impl Runtime {
    /// A runtime with the given policy and the default cache directory.
    pub fn new(policy: Policy) -> Result<Self> {
        Self::with_cache_dir(policy, &crate::runtime::cache::default_dir())
    }

    /// A runtime with the given policy, caching the compiled guest (and the
    /// standard library it mounts) in `cache_dir`.
    pub fn with_cache_dir(policy: Policy, cache_dir: &Path) -> Result<Self> {
        // Policies built in Rust are finished here (files and the CLI check
        // it as they load).
        if let Err(err) = policy.validate_raw_memory() {
            bail!("{err:#}");
        }
        if let Some(arch) = &policy.native_arch {
            if policy.memory_checked() {
                bail!(
                    "checked memory mode cannot be combined with --native-arch yet; \
                     use trusted libraries with it"
                );
            }
            if let Err(why) = crate::policy::native_helper::for_arch(arch) {
                bail!("{why}");
            }
        }
        if policy.isolate_native && policy.memory_checked() {
            // The checks run against the host's block registry, but under
            // isolation the helper process owns native memory: refuse rather
            // than run with the checks silently off.
            bail!(
                "checked memory mode cannot be combined with --isolate-native yet; \
                 use trusted libraries with isolation, or checked ones without it"
            );
        }
        let mut config = Config::new();
        // The guest never re-enters itself (callbacks are a step/resume
        // protocol), so the component-model concurrency machinery only costs:
        // it doubles the price of every import call.
        config.concurrency_support(false);
        config.max_wasm_stack(WASM_STACK);
        // Checked against the above even though we never run wasm on fibers.
        config.async_stack_size(WASM_STACK + (1 << 20));
        // The deadline (`limits.cpu_time`) needs epoch checks compiled into
        // every loop and call of the guest; they cost about a fifth of the
        // interpreter's speed, so only runs with a deadline pay for them
        // (each configuration has its own cached guest).
        let deadline = policy.limits.cpu_time.is_some();
        config.epoch_interruption(deadline);
        // `WASMFFI_PERFMAP=1`: name the guest's JIT code for `perf record`
        // (/tmp/perf-PID.map), to see where guest time goes.
        if std::env::var_os("WASMFFI_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let started = std::time::Instant::now();
        let engine = Engine::new(&config).context("configuring wasmtime")?;
        let ticker = match policy.limits.cpu_time {
            Some(_) => Some(
                crate::policy::limits::Ticker::start(&engine)
                    .context("starting the epoch ticker")?,
            ),
            None => None,
        };
        // After wasmtime's own signal handlers, so that ours come first and
        // hand wasm traps on.
        crate::fault::install();
        let component = crate::runtime::cache::load_guest(&engine, cache_dir)?;
        let stdlib_dir = crate::runtime::cache::cpython_stdlib_dir(cache_dir)?;
        tracing::debug!(elapsed = ?started.elapsed(), "guest component loaded");

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).context("linking WASI")?;
        Ffi::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
            .context("linking the FFI interfaces")?;
        crate::door::add_to_linker(&mut linker).context("linking the FFI door's hot path")?;
        let pre = linker
            .instantiate_pre(&component)
            .context("resolving the guest's imports")?;
        let pre = CommandPre::new(pre).context("the guest is not a wasi:cli command")?;
        Ok(Runtime {
            _ticker: ticker,
            engine,
            pre,
            policy: Arc::new(policy),
            cache_dir: cache_dir.to_owned(),
            stdlib_dir,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Run one program in a fresh instance and return how it ended.
    pub fn run(&self, program: &Program, options: &RunOptions) -> Result<Outcome> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("wasmffi-guest".into())
                .stack_size(RUN_THREAD_STACK)
                .spawn_scoped(scope, || self.run_here(program, options))
                .context("starting the guest's thread")?
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Run on the current thread, which must have a stack of at least
    /// `RUN_THREAD_STACK` bytes.
    fn run_here(&self, program: &Program, options: &RunOptions) -> Result<Outcome> {
        let mut wasi = WasiCtxBuilder::new();
        // The policy's preopens, then the run's (which win at the same guest path).
        let preopens: Vec<&Preopen> = self
            .policy
            .preopens()
            .iter()
            .filter(|p| !options.dirs.iter().any(|d| d.guest == p.guest))
            .chain(&options.dirs)
            .collect();
        // The preopens as mixed modules see them (guest paths to host paths).
        let mut guest_dirs = Vec::new();
        let mut argv = vec!["wasmffi".to_owned()];
        match program {
            Program::File(path) => {
                let script = path
                    .canonicalize()
                    .with_context(|| format!("cannot open script {}", path.display()))?;
                let dir = script.parent().context("script has no directory")?;
                // Python puts the script's directory on sys.path; make it
                // readable (only it) so sibling imports work as usual.
                if !preopens.iter().any(|d| d.guest == dir.to_string_lossy()) {
                    wasi.preopened_dir(dir, dir.to_string_lossy(), FsPerms::ReadOnly)
                        .with_context(|| format!("opening {}", dir.display()))?;
                    guest_dirs.extend(guest_dir(dir, &dir.to_string_lossy(), false));
                }
                argv.push(script.to_string_lossy().into_owned());
            }
            Program::Code(code) => argv.extend(["-c".to_owned(), code.clone()]),
            Program::Module(module) => argv.extend(["-m".to_owned(), module.clone()]),
        }
        argv.extend(options.args.iter().cloned());
        wasi.args(&argv);
        for (key, value) in &options.env {
            wasi.env(key, value);
        }
        if !self.policy.sites().is_empty() {
            // read and removed by the guest's start-up, before Python runs
            wasi.env(SITE_ENV, self.policy.sites().join(":"));
        }
        for dir in preopens {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .with_context(|| format!("cannot preopen directory {}", dir.host.display()))?;
            guest_dirs.extend(guest_dir(&dir.host, &dir.guest, dir.writable));
        }
        wasi.preopened_dir(
            &self.stdlib_dir,
            crate::runtime::cache::CPYTHON_STDLIB_GUEST_DIR,
            FsPerms::ReadOnly,
        )
        .context("mounting the standard library")?;
        match &options.stdin {
            Stdio::Inherit => {
                wasi.inherit_stdin();
            }
            Stdio::Capture(bytes) => {
                wasi.stdin(MemoryInputPipe::new(bytes.clone()));
            }
        }
        let stdout = capture(&options.stdout);
        let stderr = capture(&options.stderr);
        match &stdout {
            Some(pipe) => wasi.stdout(pipe.clone()),
            None => wasi.inherit_stdout(),
        };
        match &stderr {
            Some(pipe) => wasi.stderr(pipe.clone()),
            None => wasi.inherit_stderr(),
        };

        let mut state = HostState::new(wasi.build(), self.policy.clone());
        state.mixed = crate::mixed::MixedState::new(guest_dirs, self.cache_dir.clone());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if let Some(cpu_time) = self.policy.limits.cpu_time {
            store.set_epoch_deadline(crate::policy::limits::ticks(cpu_time));
            store.epoch_deadline_trap();
        }
        let started = std::time::Instant::now();
        let _running = crate::fault::RunGuard::enter();
        let _watchdog = match self.policy.limits.cpu_time {
            Some(limit) => {
                let helper = store.data().isolated.as_ref().map(|i| i.pid());
                Some(
                    crate::policy::limits::Watchdog::start(started, limit, helper)
                        .context("starting the deadline's watchdog")?,
                )
            }
            None => None,
        };
        let command = self.pre.instantiate(&mut store)?;
        tracing::debug!(elapsed = ?started.elapsed(), "guest instantiated");
        let ran = command.wasi_cli_run().call_run(&mut store);
        tracing::debug!(elapsed = ?started.elapsed(), "guest finished");
        let status = match ran {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(err) => match err.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None if err.downcast_ref::<wasmtime::Trap>()
                    == Some(&wasmtime::Trap::Interrupt) =>
                {
                    let limit = self.policy.limits.cpu_time.unwrap_or_default();
                    eprintln!(
                        "wasmffi: the guest ran past its time limit of {:.3}s (limits.cpu_time) and was stopped",
                        limit.as_secs_f64()
                    );
                    DEADLINE_STATUS
                }
                None if store.data().limiter.refused.is_some() => {
                    eprintln!(
                        "wasmffi: the guest ran out of memory: it asked for {} bytes of linear memory, \
                         the policy's limit is {} bytes (limits.linear_memory)",
                        store.data().limiter.refused.unwrap_or(0),
                        self.policy.limits.linear_memory
                    );
                    MEMORY_LIMIT_STATUS
                }
                None => {
                    eprintln!("wasmffi: the guest trapped: {err:?}");
                    TRAP_STATUS
                }
            },
        };
        // What the deadline interrupted inside the host (a sqlite statement,
        // a busy wait) comes back to the guest as an exception, and a fast
        // interpreter can fail with it and exit before the next epoch tick
        // traps it: a run that fails past its deadline was stopped by it.
        let status = match self.policy.limits.cpu_time {
            Some(limit)
                if status != 0 && status != DEADLINE_STATUS && started.elapsed() >= limit =>
            {
                eprintln!(
                    "wasmffi: the guest ran past its time limit of {:.3}s (limits.cpu_time) and was stopped",
                    limit.as_secs_f64()
                );
                DEADLINE_STATUS
            }
            _ => status,
        };
        let contents = |pipe: Option<MemoryOutputPipe>| {
            pipe.map(|p| p.contents().to_vec()).unwrap_or_default()
        };
        Ok(Outcome {
            status,
            stdout: contents(stdout),
            stderr: contents(stderr),
        })
    }
}

/// A preopen as the mixed modules resolve guest paths against it.
fn guest_dir(host: &Path, guest: &str, writable: bool) -> Option<crate::policy::dirs::GuestDir> {
    let host = host.canonicalize().ok()?;
    let trimmed = guest.trim_end_matches('/');
    let guest = if guest.starts_with('/') {
        if trimmed.is_empty() { "/" } else { trimmed }.to_owned()
    } else {
        // WASI resolves relative preopen names against `/`.
        format!("/{}", guest.trim_start_matches("./").trim_end_matches('/'))
    };
    Some(crate::policy::dirs::GuestDir {
        guest,
        host,
        writable,
    })
}

fn capture(stdio: &Stdio) -> Option<MemoryOutputPipe> {
    match stdio {
        Stdio::Inherit => None,
        Stdio::Capture(_) => Some(MemoryOutputPipe::new(CAPTURE_LIMIT)),
    }
}
