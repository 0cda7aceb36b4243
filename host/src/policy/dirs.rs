//! Directories the guest sees: the preopens a policy grants, and the mapping
//! of guest paths to host paths through them (for mixed modules' files and
//! for libraries opened by their guest path).

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

use crate::bindings::FfiError;

/// A host directory made visible to the guest. Read-only (`writable:
/// false`) means the guest can list and read it but not create, write,
/// rename or delete anything in it (WASI refuses, Python raises OSError);
/// sqlite opens its databases read-only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// A directory the guest sees, and where it is on the host.
#[derive(Clone, Debug)]
pub struct GuestDir {
    /// Absolute guest path, normalised, without a trailing `/` (except `/`).
    pub guest: String,
    /// Canonical host path.
    pub host: PathBuf,
    pub writable: bool,
}

/// A guest path resolved to a host path inside one of the preopened directories.
#[derive(Debug)]
pub struct Resolved {
    pub host: PathBuf,
    pub writable: bool,
}

/// Map the guest path `path` to the host through `dirs`, refusing anything
/// outside them (after resolving symlinks on the host).
pub fn resolve_in(dirs: &[GuestDir], path: &str) -> Result<Resolved, FfiError> {
    {
        let outside =
            || FfiError::NotPermitted(format!("{path}: outside the guest's preopened directories"));
        if !path.starts_with('/') {
            return Err(FfiError::InvalidArgument(format!(
                "{path}: expected an absolute guest path"
            )));
        }
        let normal = normalise(path).ok_or_else(outside)?;
        // The longest guest directory containing the path wins.
        let dir = dirs
            .iter()
            .filter(|d| {
                d.guest == "/" || normal == d.guest || normal.starts_with(&format!("{}/", d.guest))
            })
            .max_by_key(|d| d.guest.len())
            .ok_or_else(outside)?;
        let rest = normal[dir.guest.len()..].trim_start_matches('/');
        let host = if rest.is_empty() {
            dir.host.clone()
        } else {
            dir.host.join(rest)
        };
        // Symlinks (the guest may create them) must not lead out.
        let real = real_path(&host).ok_or_else(outside)?;
        if !real.starts_with(&dir.host) {
            return Err(outside());
        }
        Ok(Resolved {
            host: real,
            writable: dir.writable,
        })
    }
}

/// Lexically normalise an absolute path; `None` if `..` climbs above `/`.
pub fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The real path of `path`, which may not exist yet (its directory must).
pub fn real_path(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Some(real);
    }
    // A file to be created: resolve the directory, keep the name, and refuse
    // a dangling symlink under that name.
    if std::fs::symlink_metadata(path).is_ok() {
        return None;
    }
    let name = path.file_name()?;
    if path.components().next_back() != Some(Component::Normal(name)) {
        return None;
    }
    Some(path.parent()?.canonicalize().ok()?.join(name))
}

/// Parse `HOST[::GUEST][:ro|:rw]` as the CLI's `--dir` takes it: without a
/// suffix the directory is writable (`:rw`), with `:ro` read-only. A host
/// path that itself ends in `:ro` or `:rw` needs an explicit suffix after it.
pub fn parse_preopen(spec: &str) -> Result<Preopen> {
    let (spec, writable) = match spec
        .strip_suffix(":ro")
        .map(|s| (s, false))
        .or_else(|| spec.strip_suffix(":rw").map(|s| (s, true)))
    {
        Some(("", _)) => bail!("--dir expects HOST[::GUEST][:ro|:rw], got {spec:?}"),
        // `HOST::ro` is a guest path "ro", not a mode.
        Some((rest, writable)) if !rest.ends_with(':') => (rest, writable),
        _ => (spec, true),
    };
    let (host, guest) = match spec.split_once("::") {
        Some((host, guest)) => (host, guest.to_owned()),
        None => (spec, spec.to_owned()),
    };
    if host.is_empty() || guest.is_empty() {
        bail!("--dir expects HOST[::GUEST][:ro|:rw], got {spec:?}");
    }
    Ok(Preopen {
        host: host.into(),
        guest,
        writable,
    })
}
