//! The compiled guest, cached as a precompiled artifact and mmapped on later
//! runs so that a warm start never compiles.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use wasmtime::component::Component;
use wasmtime::error::Context;
use wasmtime::Engine;
use wasmtime::Result;

/// The guest component (CPython 3.11 and wasmffi's modules, built by
/// `build.rs`), and its content hash, which keys the compiled artifact.
static GUEST_WASM: &[u8] = include_bytes!(env!("WASMFFI_GUEST_WASM"));
const GUEST_HASH: &str = env!("WASMFFI_GUEST_HASH");

/// `$WASMFFI_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmffi`, else `~/.cache/wasmffi`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WASMFFI_CACHE_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("wasmffi")
}

/// Load the guest compiled for `engine`, compiling and caching it on first use.
pub fn load_guest(engine: &Engine, dir: &std::path::Path) -> Result<Component> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path = dir.join(format!("guest-{GUEST_HASH}-{:016x}.cwasm", hasher.finish()));

    if path.exists() {
        // SAFETY: the file was written by `precompile_component` of an engine
        // with the same compatibility hash (it is in the name), and only this
        // tool writes into its cache directory.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(err) => {
                tracing::warn!(
                    "discarding unusable cached guest {}: {err:#}",
                    path.display()
                )
            }
        }
    }

    eprintln!(
        "wasmffi: compiling the Python guest for this machine (once; cached in {})",
        dir.display()
    );
    let started = std::time::Instant::now();
    let compiled = engine
        .precompile_component(GUEST_WASM)
        .context("compiling the guest component")?;
    eprintln!(
        "wasmffi: compiled in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    match store(dir, &path, &compiled) {
        // SAFETY: as above; we just wrote it.
        Ok(()) => unsafe { Component::deserialize_file(engine, &path) }
            .with_context(|| format!("loading {}", path.display())),
        Err(err) => {
            // A read-only or missing cache directory costs a compile per
            // run, not the run.
            eprintln!("wasmffi: not caching the compiled guest: {err:#}");
            // SAFETY: produced by `precompile_component` of this engine.
            unsafe { Component::deserialize(engine, &compiled) }
                .context("loading the compiled guest")
        }
    }
}

/// Write the compiled guest to `path` in `dir`, atomically.
fn store(dir: &std::path::Path, path: &std::path::Path, compiled: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Write under a unique name and rename: concurrent first runs must not
    // see each other's half-written files.
    let partial = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&partial, compiled).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// The guest's standard library (a stored zip of sources and precompiled
/// bytecode), built with the host.
static CPYTHON_STDLIB: &[u8] = include_bytes!(env!("WASMFFI_CPYTHON_STDLIB"));
const CPYTHON_STDLIB_HASH: &str = env!("WASMFFI_CPYTHON_STDLIB_HASH");

/// The guest path the guest imports its standard library from:
/// `python311.zip` in it (guest/src/main.rs).
pub const CPYTHON_STDLIB_GUEST_DIR: &str = "/usr/local/lib";

/// A directory holding `python311.zip`, written once into the cache; the
/// runtime mounts it read-only at [`CPYTHON_STDLIB_GUEST_DIR`].
pub fn cpython_stdlib_dir(dir: &std::path::Path) -> Result<PathBuf> {
    let stdlib = dir.join(format!("stdlib-{CPYTHON_STDLIB_HASH}"));
    let zip = stdlib.join("python311.zip");
    if !zip.exists() {
        store(&stdlib, &zip, CPYTHON_STDLIB).context("writing the guest's standard library")?;
    }
    Ok(stdlib)
}
