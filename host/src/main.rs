//! The `wasmffi` command line.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use wasmffi::{Policy, Program, RunOptions, Runtime};

#[derive(Parser)]
#[command(
    name = "wasmffi",
    version,
    about = "Run Python in a WebAssembly sandbox with curated access to native libraries"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Python script, `-c CODE` or `-m MODULE`, like `python` does.
    Run(RunArgs),
    /// Validate or print policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file: exit 0 if it is good, else print FILE:LINE:COL: reason.
    Check {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Print the effective policy (as TOML) of the given file, preset and flags.
    Show(PolicyArgs),
}

/// The policy of a run: a preset, a file on top, then flags on top.
#[derive(clap::Args)]
struct PolicyArgs {
    /// Start from a named preset: none (default), libc-math, trusted.
    #[arg(long = "preset", value_name = "NAME")]
    preset: Option<String>,
    /// A policy file (TOML; see README "Policy"), applied over the preset.
    #[arg(long = "policy", value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// Allow the guest to open a native library (soname, absolute path, or
    /// `@process` for the process's global namespace). Repeatable.
    #[arg(long = "allow-lib", value_name = "NAME_OR_PATH")]
    allow_libs: Vec<String>,
    /// Like --allow-lib, in checked memory mode. Repeatable.
    #[arg(long = "allow-lib-checked", value_name = "NAME_OR_PATH")]
    allow_libs_checked: Vec<String>,
    /// Grant raw native memory: the guest may read and write any host
    /// address through the memory interface and call any address. A trusted
    /// library implies it; refused beside a checked library.
    #[arg(long = "allow-raw-memory")]
    allow_raw_memory: bool,
    /// Preopen a host directory at GUEST (default: the same path) in the
    /// guest; `:rw` (the default) writable, `:ro` read-only. Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro|:rw]")]
    dirs: Vec<String>,
    /// Make the packages in a directory importable (read-only, at its own
    /// path or at GUEST), e.g. one filled by `pip install --target DIR`.
    /// Native libraries inside it need `--allow-lib DIR` too. Repeatable
    #[arg(long = "site", value_name = "DIR[::GUEST]")]
    sites: Vec<String>,
    /// Make a virtual environment's packages importable (its
    /// lib/python3.*/site-packages, as --site). Repeatable
    #[arg(long = "venv", value_name = "PATH")]
    venvs: Vec<std::path::PathBuf>,
    /// Give the guest the mixed module `_probe` (platform probing), which
    /// compiles and runs small C programs with the host's C compiler.
    #[arg(long = "allow-probe")]
    allow_probe: bool,
    /// Run native code in a helper process: a crash there (a segfault, an
    /// abort) becomes an OSError in the guest and the run goes on.
    #[arg(long = "isolate-native")]
    isolate_native: bool,
    /// Run native code under another architecture's ABI (aarch64, s390x,
    /// i686, armhf): in the wasmffi-native helper built for it, under
    /// qemu-user, while the guest runs here.
    #[arg(long = "native-arch", value_name = "ARCH")]
    native_arch: Option<String>,
    /// Take a mixed module (sqlite3, zlib) away from the guest: importing it
    /// raises ImportError. Repeatable.
    #[arg(long = "deny-module", value_name = "NAME")]
    deny_modules: Vec<String>,
    /// Stop the guest after this long (e.g. 30, 30s, 500ms); exit status 124.
    #[arg(long = "cpu-time", value_name = "DURATION")]
    cpu_time: Option<String>,
    /// Cap the guest's linear memory (e.g. 512MiB).
    #[arg(long = "max-memory", value_name = "SIZE")]
    max_memory: Option<String>,
    /// Cap the native memory the guest may allocate through the runtime.
    #[arg(long = "max-native-memory", value_name = "SIZE")]
    max_native_memory: Option<String>,
    /// Native libraries open at once.
    #[arg(long = "max-libraries", value_name = "N")]
    max_libraries: Option<u32>,
    /// Live FFI handles of all kinds.
    #[arg(long = "max-handles", value_name = "N")]
    max_handles: Option<u32>,
    /// Live callbacks.
    #[arg(long = "max-callbacks", value_name = "N")]
    max_callbacks: Option<u32>,
    /// Cap sqlite3's heap and temporary files (e.g. 64MiB; default 256MiB).
    #[arg(long = "max-sqlite-memory", value_name = "SIZE")]
    max_sqlite_memory: Option<String>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Program passed in as a string.
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "module")]
    code: Option<String>,
    /// Run a library module as a script.
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,
    /// Set an environment variable in the guest.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// The script, then its arguments (with -c/-m: only arguments).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SCRIPT [ARGS]"
    )]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(wasmffi::NATIVE_WORKER_ARG) {
        wasmffi::native_worker_main(&args[2..]);
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WASMFFI_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(status) => ExitCode::from(status.clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("wasmffi: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run_program(args),
        Command::Policy(PolicyCommand::Check { file }) => {
            let policy = Policy::from_file(&file)?;
            let raw = policy.raw_memory();
            println!(
                "{}: ok ({} libraries{}{}{}; raw_memory = {}: {})",
                file.display(),
                policy.libraries().len(),
                if policy.memory_checked() {
                    ", checked memory"
                } else {
                    ""
                },
                match policy.limits.cpu_time {
                    Some(t) => format!(", deadline {:.3}s", t.as_secs_f64()),
                    None => String::new(),
                },
                match policy.preopens().len() {
                    0 => String::new(),
                    n => format!(", {n} directories"),
                },
                raw.granted(),
                raw.explanation()
            );
            Ok(0)
        }
        Command::Policy(PolicyCommand::Show(args)) => {
            print!("{}", build_policy(&args)?.to_toml());
            Ok(0)
        }
    }
}

fn run_program(args: RunArgs) -> Result<i32> {
    let mut rest = args.rest.into_iter();
    let program = match (args.code, args.module) {
        (Some(code), _) => Program::Code(code),
        (None, Some(module)) => Program::Module(module),
        (None, None) => Program::File(
            rest.next()
                .context("nothing to run: give a SCRIPT, -c CODE or -m MODULE")?
                .into(),
        ),
    };
    let policy = build_policy(&args.policy)?;
    let mut options = RunOptions {
        args: rest.collect(),
        ..RunOptions::default()
    };
    for pair in &args.env {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--env expects KEY=VALUE, got {pair:?}"))?;
        options.env.push((key.to_owned(), value.to_owned()));
    }
    let runtime = Runtime::with_cache_dir(policy, &wasmffi::cache_dir())?;
    Ok(runtime.run(&program, &options)?.status)
}

/// The policy a run's flags describe: preset, then file, then flags.
fn build_policy(args: &PolicyArgs) -> Result<Policy> {
    let mut policy = match &args.preset {
        Some(name) => Policy::preset(name).with_context(|| format!("--preset {name}"))?,
        None => Policy::default(),
    };
    if let Some(file) = &args.policy {
        policy = policy.with_file(file)?;
    }
    for lib in &args.allow_libs {
        policy = policy
            .try_allow_library(lib)
            .with_context(|| format!("--allow-lib {lib}"))?;
    }
    if args.allow_probe {
        policy = policy.allow_module("probe");
    }
    policy.isolate_native |= args.isolate_native;
    if let Some(arch) = &args.native_arch {
        policy.native_arch = Some(arch.clone());
    }
    for name in &args.deny_modules {
        if !wasmffi::policy::MIXED_MODULES
            .iter()
            .any(|(n, _)| n == name)
        {
            anyhow::bail!("--deny-module {name}: no such mixed module");
        }
        policy = policy.deny_module(name);
    }
    for lib in &args.allow_libs_checked {
        policy = policy
            .memory_mode(lib, wasmffi::policy::MemoryMode::Checked)
            .with_context(|| format!("--allow-lib-checked {lib}"))?;
    }
    let limits = &mut policy.limits;
    if let Some(t) = &args.cpu_time {
        limits.cpu_time = Some(
            wasmffi::policy_file::parse_duration(t)
                .map_err(|e| anyhow::anyhow!("--cpu-time: {e}"))?,
        );
    }
    if let Some(n) = &args.max_memory {
        limits.linear_memory = wasmffi::policy_file::parse_size(n)
            .map_err(|e| anyhow::anyhow!("--max-memory: {e}"))?;
    }
    if let Some(n) = &args.max_native_memory {
        limits.native_memory = wasmffi::policy_file::parse_size(n)
            .map_err(|e| anyhow::anyhow!("--max-native-memory: {e}"))?;
    }
    if let Some(n) = args.max_libraries {
        limits.libraries = n;
    }
    if let Some(n) = args.max_handles {
        limits.handles = n;
    }
    if let Some(n) = args.max_callbacks {
        limits.callbacks = n;
    }
    if let Some(n) = &args.max_sqlite_memory {
        limits.sqlite_memory = wasmffi::policy_file::parse_size(n)
            .map_err(|e| anyhow::anyhow!("--max-sqlite-memory: {e}"))?;
    }
    for spec in &args.dirs {
        let mut dir = wasmffi::parse_preopen(spec)?;
        dir.host = dir
            .host
            .canonicalize()
            .with_context(|| format!("--dir {spec}: {}", dir.host.display()))?;
        policy = policy.preopen_dir(dir);
    }
    for venv in &args.venvs {
        policy = policy
            .venv(venv)
            .with_context(|| format!("--venv {}", venv.display()))?;
    }
    for site in &args.sites {
        let (host, guest) = match site.split_once("::") {
            Some((host, guest)) => (host, Some(guest)),
            None => (site.as_str(), None),
        };
        policy = policy
            .site_dir_at(std::path::Path::new(host), guest)
            .with_context(|| format!("--site {site}"))?;
    }
    if args.allow_raw_memory {
        policy = policy.grant_raw_memory(true);
    }
    policy
        .validate_raw_memory()
        .context(if args.allow_raw_memory {
            "--allow-raw-memory"
        } else {
            "the policy"
        })?;
    Ok(policy)
}
