//! Policy files (TOML), named presets, and printing the effective policy.
//!
//! ```toml
//! extends = "libc-math"          # a preset, or another file (relative path)
//! raw_memory = false             # any host address through the memory interface
//!
//! [limits]
//! cpu_time = "30s"               # wall-clock deadline of the guest
//! linear_memory = "512MiB"       # the guest's wasm memory
//! native_memory = "64MiB"        # what it may allocate through the runtime
//! libraries = 8                  # open at once
//! handles = 10000                # live FFI handles of all kinds
//! callbacks = 64                 # live callbacks
//! sqlite_memory = "64MiB"        # sqlite3's heap and temporary files
//!
//! [modules]
//! allow = ["probe"]              # mixed modules (probe runs the C compiler)
//! deny = ["sqlite3"]
//!
//! [[library]]
//! name = "libz.so.1"             # soname, absolute path, "@process" or "*"
//! memory = "checked"             # or "trusted" (the default)
//! symbols = ["zlibVersion"]      # optional allowlist
//! [library.signatures]
//! zlibVersion = "const char *zlibVersion(void)"
//!
//! [[dir]]
//! host = "data"                  # relative to this file, or absolute
//! guest = "/data"                # where the guest sees it
//! mode = "ro"                    # or "rw" (default "ro")
//! ```
//!
//! A file is read only if it is a regular file of at most
//! [`MAX_POLICY_FILE_BYTES`] outside /proc, /dev and /sys; `extends` chains
//! at most [`MAX_EXTENDS_DEPTH`] files deep and never in a cycle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use toml::Spanned;

use crate::policy::dirs::Preopen;
use crate::policy::{
    LibraryRule, LibrarySettings, MemoryMode, Policy, MIXED_MODULES, PROCESS_RULE,
};

/// The largest policy file read, in bytes (16 MiB, about 400,000 one-line
/// `[[library]]` entries): anything bigger is refused before it is parsed.
pub const MAX_POLICY_FILE_BYTES: u64 = 16 << 20;

/// How many files an `extends` chain may hold, the first one included.
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// The named presets, for `--preset` and `extends`.
pub const PRESETS: &[(&str, &str)] = &[
    ("none", "no native library at all (the default)"),
    (
        "libc-math",
        "libc and libm in checked mode, read-mostly symbols with pinned signatures",
    ),
    ("trusted", "any library, trusted memory (ctypes semantics)"),
];

/// Name accepted in `[[library]] name` for "any library".
pub const ANY_LIBRARY: &str = "*";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    extends: Option<Spanned<String>>,
    preset: Option<Spanned<String>>,
    raw_memory: Option<Spanned<bool>>,
    native_arch: Option<Spanned<String>>,
    #[serde(default)]
    library: Vec<FileLibrary>,
    #[serde(default)]
    dir: Vec<FileDir>,
    #[serde(default)]
    site: Vec<sites::FileSite>,
    limits: Option<FileLimits>,
    modules: Option<FileModules>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLibrary {
    name: Spanned<String>,
    memory: Option<MemoryMode>,
    symbols: Option<Vec<String>>,
    #[serde(default)]
    signatures: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDir {
    host: Spanned<String>,
    guest: Spanned<String>,
    mode: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    cpu_time: Option<Spanned<Quantity>>,
    linear_memory: Option<Spanned<Quantity>>,
    native_memory: Option<Spanned<Quantity>>,
    libraries: Option<u32>,
    handles: Option<u32>,
    callbacks: Option<u32>,
    sqlite_memory: Option<Spanned<Quantity>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModules {
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error_at(
        &self,
        span: std::ops::Range<usize>,
        reason: impl std::fmt::Display,
    ) -> anyhow::Error {
        let (line, col) = line_col(self.text, span.start);
        anyhow!("{}:{line}:{col}: {reason}", self.path.display())
    }
}

impl Policy {
    /// A named preset (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Policy> {
        match name {
            "none" => Ok(Policy::default()),
            "trusted" => Ok(Policy::default().allow_any_library(MemoryMode::Trusted)),
            "libc-math" => libc_math(),
            other => bail!(
                "unknown preset {other:?} (presets: {})",
                PRESETS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Read and validate a policy file (errors name the file, line and reason).
    pub fn from_file(path: &Path) -> Result<Policy> {
        load_file(path, Policy::default(), &mut Vec::new())
    }

    /// Apply a policy file on top of `self` (its `extends` applies first).
    pub fn with_file(self, path: &Path) -> Result<Policy> {
        load_file(path, self, &mut Vec::new())
    }

    /// Parse policy TOML given as a string; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Policy> {
        apply_doc(text, origin, Policy::default(), &mut Vec::new())
    }

    /// The effective policy as a policy file (`wasmffi policy show`).
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# The effective wasmffi policy.\n\n");
        let raw = self.raw_memory();
        // Only an explicit word is a setting; an implied one is shown as a
        // comment, so that the shown policy read back stays implied (and a
        // checked library added to it later does not meet a stale grant).
        let explicit = self.raw_memory_grant().is_some() && !self.memory_checked();
        if let Some(arch) = &self.native_arch {
            let _ = writeln!(
                out,
                "native_arch = {arch:?}  # native code runs in the {arch} helper, under qemu-user"
            );
        }
        let _ = writeln!(
            out,
            "{}raw_memory = {}  # {}\n\n[limits]",
            if explicit { "" } else { "# " },
            raw.granted(),
            raw.explanation()
        );
        let l = &self.limits;
        if let Some(t) = l.cpu_time {
            let _ = writeln!(out, "cpu_time = {:?}", format_duration(t));
        }
        let _ = writeln!(out, "linear_memory = {:?}", format_size(l.linear_memory));
        let _ = writeln!(out, "native_memory = {:?}", format_size(l.native_memory));
        let _ = writeln!(out, "libraries = {}", l.libraries);
        let _ = writeln!(out, "handles = {}", l.handles);
        let _ = writeln!(out, "callbacks = {}", l.callbacks);
        let _ = writeln!(out, "sqlite_memory = {:?}", format_size(l.sqlite_memory));
        let (allow, deny): (Vec<_>, Vec<_>) = MIXED_MODULES
            .iter()
            .map(|(n, _)| *n)
            .partition(|n| self.module_allowed(n));
        let list = |v: &[&str]| {
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "\n[modules]\nallow = [{}]\ndeny = [{}]",
            list(&allow),
            list(&deny)
        );
        let entries = self
            .libraries()
            .iter()
            .map(|r| match r {
                LibraryRule::Soname(s) => s.clone(),
                LibraryRule::Path(p) | LibraryRule::Dir(p) => p.display().to_string(),
                LibraryRule::Process => PROCESS_RULE.to_owned(),
            })
            .zip(self.settings.iter().cloned())
            .chain(
                self.any_library
                    .iter()
                    .map(|s| (ANY_LIBRARY.to_owned(), s.clone())),
            );
        for (name, settings) in entries {
            let _ = writeln!(out, "\n[[library]]\nname = {}", toml_str(&name));
            let mode = match settings.memory {
                MemoryMode::Trusted => "trusted",
                MemoryMode::Checked => "checked",
            };
            let _ = writeln!(out, "memory = \"{mode}\"");
            if let Some(symbols) = &settings.symbols {
                let items: Vec<String> = symbols.iter().map(|s| toml_str(s)).collect();
                let _ = writeln!(out, "symbols = [{}]", items.join(", "));
            }
            if !settings.signatures.is_empty() {
                let _ = writeln!(out, "[library.signatures]");
                for (symbol, (text, _)) in &settings.signatures {
                    let _ = writeln!(out, "{symbol} = {}", toml_str(text));
                }
            }
        }
        for dir in self.preopens() {
            if self.sites().contains(&dir.guest) {
                continue; // a [[site]] below
            }
            let _ = writeln!(
                out,
                "\n[[dir]]\nhost = {}\nguest = {}\nmode = \"{}\"",
                toml_str(&dir.host.to_string_lossy()),
                toml_str(&dir.guest),
                if dir.writable { "rw" } else { "ro" }
            );
        }
        sites::write_toml(self, &mut out);
        out
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn load_file(path: &Path, base: Policy, chain: &mut Vec<PathBuf>) -> Result<Policy> {
    let real = path
        .canonicalize()
        .with_context(|| format!("policy file {}", path.display()))?;
    if let Some(i) = chain.iter().position(|p| *p == real) {
        let cycle: Vec<String> = chain[i..]
            .iter()
            .chain([&real])
            .map(|p| p.display().to_string())
            .collect();
        bail!(
            "{}: `extends` forms a cycle: {}",
            path.display(),
            cycle.join(" -> ")
        );
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        bail!(
            "{}: `extends` chains more than {MAX_EXTENDS_DEPTH} policy files deep",
            path.display()
        );
    }
    let text = read_policy_file(path, &real)?;
    chain.push(real);
    let policy = apply_doc(&text, path, base, chain);
    chain.pop();
    policy
}

/// The text of a policy file, if it is one: a regular file (not a FIFO,
/// device, socket or directory) outside /proc, /dev and /sys, of at most
/// [`MAX_POLICY_FILE_BYTES`]. Opened without blocking and checked on the
/// open descriptor, so a file swapped after `real` was resolved is still
/// checked; the read is bounded even if the file grows meanwhile.
fn read_policy_file(path: &Path, real: &Path) -> Result<String> {
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    let shown = path.display();
    if ["/proc", "/dev", "/sys"]
        .iter()
        .any(|root| real.starts_with(root))
    {
        bail!(
            "{shown}: not a policy file: {} is inside /proc, /dev or /sys",
            real.display()
        );
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(real)
        .with_context(|| format!("reading policy file {shown}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading policy file {shown}"))?;
    let kind = meta.file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    };
    if let Some(what) = what {
        bail!("{shown}: not a policy file: it is {what}, not a regular file");
    }
    let too_big = |size: u64| {
        anyhow!(
            "{shown}: policy file too large: {size} bytes, the limit is {} (MAX_POLICY_FILE_BYTES)",
            format_size(MAX_POLICY_FILE_BYTES)
        )
    };
    if meta.len() > MAX_POLICY_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_POLICY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading policy file {shown}"))?;
    if bytes.len() as u64 > MAX_POLICY_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{shown}: not a policy file: invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to()
        )
    })
}

fn apply_doc(
    text: &str,
    path: &Path,
    mut policy: Policy,
    chain: &mut Vec<PathBuf>,
) -> Result<Policy> {
    let src = Source { path, text };
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let reason = e.message().trim().to_owned();
        match e.span() {
            Some(span) => src.error_at(span, reason),
            None => anyhow!("{}: {reason}", path.display()),
        }
    })?;
    if let (Some(_), Some(p)) = (&doc.extends, &doc.preset) {
        return Err(src.error_at(p.span(), "give either `extends` or `preset`, not both"));
    }
    if let Some(name) = &doc.preset {
        policy = merge(
            policy,
            Policy::preset(name.get_ref()).map_err(|e| src.error_at(name.span(), e))?,
        );
    }
    if let Some(ext) = &doc.extends {
        let target = ext.get_ref();
        if target.contains('/') || target.ends_with(".toml") {
            let file = path.parent().unwrap_or(Path::new(".")).join(target);
            policy = load_file(&file, policy, chain)
                .map_err(|e| src.error_at(ext.span(), format!("{e:#}")))?;
        } else {
            policy = merge(
                policy,
                Policy::preset(target).map_err(|e| src.error_at(ext.span(), e))?,
            );
        }
    }
    if let Some(limits) = doc.limits {
        let l = &mut policy.limits;
        let size = |q: &Spanned<Quantity>| -> Result<u64> {
            match q.get_ref() {
                Quantity::Int(n) => Ok(*n),
                Quantity::Text(t) => parse_size(t).map_err(|e| src.error_at(q.span(), e)),
                Quantity::Float(_) => Err(src.error_at(
                    q.span(),
                    "a size is a whole number of bytes or a string like \"64MiB\"",
                )),
            }
        };
        if let Some(q) = &limits.cpu_time {
            let d = match q.get_ref() {
                Quantity::Int(n) => parse_duration(&n.to_string()),
                Quantity::Float(f) => parse_duration(&f.to_string()),
                Quantity::Text(t) => parse_duration(t),
            };
            l.cpu_time = Some(d.map_err(|e| src.error_at(q.span(), e))?);
        }
        if let Some(q) = &limits.linear_memory {
            let n = size(q)?;
            if n < (16 << 20) {
                return Err(src.error_at(
                    q.span(),
                    "linear_memory below 16MiB cannot start the interpreter",
                ));
            }
            l.linear_memory = n;
        }
        if let Some(q) = &limits.native_memory {
            l.native_memory = size(q)?;
        }
        if let Some(n) = limits.libraries {
            l.libraries = n;
        }
        if let Some(n) = limits.handles {
            l.handles = n;
        }
        if let Some(n) = limits.callbacks {
            l.callbacks = n;
        }
        if let Some(q) = &limits.sqlite_memory {
            l.sqlite_memory = size(q)?;
        }
    }
    if let Some(modules) = doc.modules {
        for (list, allow) in [(&modules.allow, true), (&modules.deny, false)] {
            for m in list {
                if !MIXED_MODULES.iter().any(|(n, _)| n == m.get_ref()) {
                    return Err(src.error_at(
                        m.span(),
                        format!(
                            "no mixed module {:?} (modules: {})",
                            m.get_ref(),
                            MIXED_MODULES
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                policy = if allow {
                    policy.allow_module(m.get_ref())
                } else {
                    policy.deny_module(m.get_ref())
                };
            }
        }
    }
    for lib in doc.library {
        let name = lib.name.get_ref();
        let mut settings = LibrarySettings::new(lib.memory.unwrap_or_default());
        if let Some(symbols) = lib.symbols {
            settings.symbols = Some(symbols.into_iter().collect());
        }
        for (symbol, text) in &lib.signatures {
            let sig = crate::policy::csig::parse(text.get_ref(), symbol).map_err(|e| {
                src.error_at(text.span(), format!("bad signature for {symbol}: {e}"))
            })?;
            settings
                .signatures
                .insert(symbol.clone(), (text.get_ref().clone(), sig));
        }
        if name == ANY_LIBRARY {
            policy.any_library = Some(Arc::new(settings));
            continue;
        }
        policy = policy
            .allow_library_with(name, settings)
            .map_err(|e| src.error_at(lib.name.span(), format!("{e:#}")))?;
    }
    // Host paths are relative to this file (as `extends` is).
    let here = path.parent().unwrap_or(Path::new("."));
    policy = sites::apply(policy, doc.site, here, &src)?;
    for dir in doc.dir {
        let given = Path::new(dir.host.get_ref());
        let host = if given.is_absolute() {
            given.to_owned()
        } else {
            here.join(given)
        };
        let host = host.canonicalize().map_err(|e| {
            src.error_at(
                dir.host.span(),
                format!("directory {}: {e}", host.display()),
            )
        })?;
        if !host.is_dir() {
            return Err(src.error_at(
                dir.host.span(),
                format!("{} is not a directory", host.display()),
            ));
        }
        let guest = dir.guest.get_ref();
        if !guest.starts_with('/')
            || Path::new(guest)
                .components()
                .any(|c| c == Component::ParentDir)
        {
            return Err(src.error_at(
                dir.guest.span(),
                format!("guest path {guest:?} must be absolute, without '..'"),
            ));
        }
        let writable = match dir.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
            None | Some(("ro", _)) => false,
            Some(("rw", _)) => true,
            Some((other, span)) => {
                return Err(src.error_at(
                    span,
                    format!("mode {other:?}: a directory is \"ro\" (read-only) or \"rw\""),
                ))
            }
        };
        policy = policy.preopen_dir(Preopen {
            host,
            guest: guest.clone(),
            writable,
        });
    }
    if let Some(arch) = &doc.native_arch {
        if crate::policy::native_helper::arch(arch.get_ref()).is_none() {
            return Err(src.error_at(
                arch.span(),
                format!(
                    "native_arch {:?}: {}",
                    arch.get_ref(),
                    crate::policy::native_helper::supported()
                ),
            ));
        }
        policy.native_arch = Some(arch.get_ref().clone());
    }
    // After `extends`: this file's word wins over the one it extends.
    if let Some(raw) = &doc.raw_memory {
        policy = policy.grant_raw_memory(*raw.get_ref());
    }
    if let Err(e) = policy.validate_raw_memory() {
        return Err(match &doc.raw_memory {
            Some(raw) => src.error_at(raw.span(), e),
            None => anyhow!("{}: {e}", path.display()),
        });
    }
    Ok(policy)
}

/// `over` on top of `base`: its libraries and directories replace or add to
/// base's; its explicit raw-memory word, limits and module rules that differ
/// from the defaults win. Linear in the number of rules (an indexed lookup
/// per rule).
pub fn merge(mut base: Policy, over: Policy) -> Policy {
    for (rule, settings) in over.libraries().iter().zip(&over.settings) {
        base.push_rule(rule.clone(), settings.clone());
    }
    if over.any_library.is_some() {
        base.any_library = over.any_library.clone();
    }
    if let Some(grant) = over.raw_memory_grant() {
        base = base.grant_raw_memory(grant);
    }
    if over.native_arch.is_some() {
        base.native_arch = over.native_arch.clone();
    }
    for dir in over.preopens() {
        base = base.preopen_dir(dir.clone());
    }
    for site in over.sites() {
        base.add_site(site);
    }
    let d = crate::policy::Limits::default();
    let (b, o) = (&mut base.limits, &over.limits);
    if o.native_memory != d.native_memory {
        b.native_memory = o.native_memory;
    }
    if o.cpu_time.is_some() {
        b.cpu_time = o.cpu_time;
    }
    if o.linear_memory != d.linear_memory {
        b.linear_memory = o.linear_memory;
    }
    if o.libraries != d.libraries {
        b.libraries = o.libraries;
    }
    if o.handles != d.handles {
        b.handles = o.handles;
    }
    if o.callbacks != d.callbacks {
        b.callbacks = o.callbacks;
    }
    if o.sqlite_memory != d.sqlite_memory {
        b.sqlite_memory = o.sqlite_memory;
    }
    for (name, _) in MIXED_MODULES {
        if over.module_allowed(name) != Policy::default().module_allowed(name) {
            base = if over.module_allowed(name) {
                base.allow_module(name)
            } else {
                base.deny_module(name)
            };
        }
    }
    base
}

mod presets;
mod quantities;
mod sites;
#[cfg(test)]
mod tests;

use presets::libc_math;
use quantities::{format_duration, format_size, Quantity};
pub use quantities::{parse_duration, parse_size};
