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
}

#[derive(clap::Args)]
struct RunArgs {
    /// Program passed in as a string.
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "module")]
    code: Option<String>,
    /// Run a library module as a script.
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,
    /// Preopen a host directory, at GUEST (default: the same path) in the guest.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set an environment variable in the guest.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Allow the guest to open a native library (soname, absolute path, or
    /// `@process` for the process's global namespace). Repeatable.
    #[arg(long = "allow-lib", value_name = "NAME_OR_PATH")]
    allow_libs: Vec<String>,
    /// The script, then its arguments (with -c/-m: only arguments).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SCRIPT [ARGS]"
    )]
    rest: Vec<String>,
}

fn main() -> ExitCode {
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
    let mut policy = Policy::default();
    for lib in &args.allow_libs {
        policy = policy
            .try_allow_library(lib)
            .with_context(|| format!("--allow-lib {lib}"))?;
    }
    let mut options = RunOptions {
        args: rest.collect(),
        ..RunOptions::default()
    };
    for spec in &args.dirs {
        options.dirs.push(wasmffi::parse_preopen(spec)?);
    }
    for pair in &args.env {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--env expects KEY=VALUE, got {pair:?}"))?;
        options.env.push((key.to_owned(), value.to_owned()));
    }
    let runtime = Runtime::new(policy)?;
    Ok(runtime.run(&program, &options)?.status)
}
