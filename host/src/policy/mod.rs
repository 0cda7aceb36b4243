//! What a guest may touch: which native libraries it may open, and limits.
//!
//! The same model backs the CLI flags and the embedding API. Library rules
//! are resolved on the host: a rule with a `/` names a file and is matched by
//! its real path (symlinks resolved), anything else is a soname passed to the
//! dynamic loader as is.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bindings::FfiError;

mod arch_libs;
pub mod csig;
pub mod dirs;
pub mod file;
#[cfg(test)]
mod library_dirs_tests;
pub(crate) mod limits;
mod loader_cache;
pub(crate) mod native_helper;

/// A library the policy allows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LibraryRule {
    /// A soname such as `libm.so.6`, found by the dynamic loader's search.
    Soname(String),
    /// An absolute file, kept as its canonical real path.
    Path(PathBuf),
    /// Every library file inside a directory (a package directory that ships
    /// its own libraries), kept as its canonical real path.
    Dir(PathBuf),
    /// The host process's global namespace (`dlopen(NULL)`, ctypes' `CDLL(None)`).
    Process,
}

/// Name of the rule that allows `dlopen(NULL)`.
pub const PROCESS_RULE: &str = "@process";

#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Bytes of native memory the guest may hold through `memory.alloc`.
    pub native_memory: u64,
    /// Wall-clock time the guest may run; past it the run ends with
    /// [`limits::DEADLINE_STATUS`]. Checked while wasm runs (not
    /// inside a native call). `None`: no deadline.
    pub cpu_time: Option<Duration>,
    /// Bytes of linear memory the guest's wasm may grow to.
    pub linear_memory: u64,
    /// Native libraries open at once.
    pub libraries: u32,
    /// Live FFI handles of all kinds (libraries, signatures, functions,
    /// struct types, callbacks).
    pub handles: u32,
    /// Live callbacks.
    pub callbacks: u32,
    /// Bytes the `sqlite3` module may hold on the guest's behalf: sqlite's
    /// heap (page caches, in-memory databases, sorts) and its temporary
    /// files, which are kept in memory.
    pub sqlite_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            native_memory: 1 << 30,
            cpu_time: None,
            linear_memory: 4 << 30,
            libraries: 64,
            handles: 100_000,
            callbacks: 4096,
            sqlite_memory: 256 << 20,
        }
    }
}

/// How the runtime treats pointers for a library's functions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryMode {
    /// ctypes semantics: addresses are the guest's claim.
    #[default]
    Trusted,
    /// Only memory the runtime allocated (or a pinned signature declares
    /// borrowed) can be named; see README "Checked memory".
    Checked,
}

/// What the policy says about one allowed library.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LibrarySettings {
    pub memory: MemoryMode,
    /// Symbols that may be looked up; `None`: any. Pinned symbols are
    /// always allowed.
    pub symbols: Option<BTreeSet<String>>,
    /// Pinned signatures by symbol: the source text and its parse.
    pub signatures: BTreeMap<String, (String, crate::policy::csig::CSignature)>,
}

impl LibrarySettings {
    pub fn new(memory: MemoryMode) -> Self {
        LibrarySettings {
            memory,
            ..Default::default()
        }
    }

    /// `not-permitted` unless `symbol` may be looked up.
    pub fn check_symbol(&self, library: &str, symbol: &str) -> Result<(), FfiError> {
        match &self.symbols {
            Some(allowed) if !allowed.contains(symbol) && !self.signatures.contains_key(symbol) => {
                Err(FfiError::NotPermitted(format!(
                    "{library}: symbol {symbol} is not allowed by the policy"
                )))
            }
            _ => Ok(()),
        }
    }

    pub fn pinned(&self, symbol: &str) -> Option<&(String, crate::policy::csig::CSignature)> {
        self.signatures.get(symbol)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    libraries: Vec<LibraryRule>,
    /// Index of each rule in `libraries`, so that adding rules stays linear
    /// for policies with many entries.
    rule_index: HashMap<LibraryRule, usize>,
    /// Settings of each rule of `libraries`, at the same index.
    pub(crate) settings: Vec<Arc<LibrarySettings>>,
    /// Settings for any library not listed (the `trusted` preset); `None`:
    /// unlisted libraries are refused.
    pub(crate) any_library: Option<Arc<LibrarySettings>>,
    pub limits: Limits,
    /// Mixed modules (host-backed WIT interfaces) allowed or denied beyond
    /// the defaults of [`MIXED_MODULES`]; the last rule for a name wins.
    module_rules: Vec<(String, bool)>,
    /// Run native code in a helper process (--isolate-native): a crash there
    /// is an exception in the guest and the run goes on.
    pub isolate_native: bool,
    /// Run native code under another architecture's ABI (--native-arch
    /// ARCH, `native_arch` in a policy file): in the wasmffi-native helper
    /// built for ARCH, under qemu-user (see README "Other architectures").
    pub native_arch: Option<String>,
    /// The explicit raw-memory grant (`raw_memory` in a policy file,
    /// `--allow-raw-memory`); `None`: implied, see [`Policy::raw_memory`].
    raw_memory_grant: Option<bool>,
    /// Host directories preopened for the guest (`[[dir]]` in a policy file,
    /// `--dir`); one per guest path, the last one given wins.
    preopens: Vec<dirs::Preopen>,
    /// Index of each guest path in `preopens` (adding stays linear).
    preopen_index: HashMap<String, usize>,
    /// Guest directories whose packages are importable (`--site`,
    /// `--venv`): added to the guest's module search path, after the
    /// standard library.
    sites: Vec<String>,
}

/// Why a policy gives or withholds raw native memory (`policy show` says it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawMemory {
    /// Granted explicitly.
    Granted,
    /// Implied: a trusted library can be handed any address anyway.
    ImpliedByTrustedLibrary,
    /// Withheld explicitly, trusted libraries notwithstanding.
    Withheld,
    /// A checked library relies on the memory interface being checked.
    WithheldForCheckedLibrary,
    /// No library is trusted: nothing implies it.
    NotGranted,
}

impl RawMemory {
    pub fn granted(self) -> bool {
        matches!(
            self,
            RawMemory::Granted | RawMemory::ImpliedByTrustedLibrary
        )
    }

    pub fn explanation(self) -> &'static str {
        match self {
            RawMemory::Granted => "granted explicitly",
            RawMemory::ImpliedByTrustedLibrary => {
                "implied by a trusted library, which can be handed any address"
            }
            RawMemory::Withheld => "withheld explicitly",
            RawMemory::WithheldForCheckedLibrary => {
                "withheld: a checked library relies on the memory interface being checked"
            }
            RawMemory::NotGranted => "not granted: no library is trusted",
        }
    }

    /// How a refused access ends its message: what withholds it, and the
    /// grant that would allow it.
    pub fn refusal(self) -> &'static str {
        match self {
            RawMemory::WithheldForCheckedLibrary => "checked memory mode refuses foreign addresses",
            RawMemory::Withheld => "the policy withholds raw native memory (raw_memory = false)",
            _ => {
                "the policy grants no raw native memory; --allow-raw-memory \
                 (raw_memory = true) or a trusted library would"
            }
        }
    }
}

/// The mixed modules the host implements, and whether a guest gets each by
/// default. `probe` runs the host's C compiler, so it is off unless asked for.
pub const MIXED_MODULES: &[(&str, bool)] = &[("sqlite3", true), ("zlib", true), ("probe", false)];

/// How a permitted `library.open` request is to be loaded.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadTarget {
    Process,
    Soname(String),
    Path(PathBuf),
}

impl Policy {
    /// Allow a library by soname, by absolute path, or `@process` for the
    /// process's global namespace. Paths are resolved when the rule is added.
    pub fn allow_library(mut self, name_or_path: &str) -> Self {
        // A rule naming a file that does not exist can never match; keep the
        // policy usable and let `open` report the missing file.
        let rule = parse_rule(name_or_path)
            .unwrap_or_else(|_| LibraryRule::Path(PathBuf::from(name_or_path)));
        self.add_rule(rule);
        self
    }

    pub(crate) fn push_rule(&mut self, rule: LibraryRule, settings: Arc<LibrarySettings>) {
        let i = self.add_rule(rule);
        self.settings[i] = settings;
    }

    fn add_rule(&mut self, rule: LibraryRule) -> usize {
        if let Some(&i) = self.rule_index.get(&rule) {
            return i;
        }
        let i = self.libraries.len();
        self.rule_index.insert(rule.clone(), i);
        self.libraries.push(rule);
        self.settings.push(Arc::default());
        i
    }

    fn rule_position(&self, rule: &LibraryRule) -> Option<usize> {
        self.rule_index.get(rule).copied()
    }

    /// Allow a library (like [`Policy::try_allow_library`]) with these
    /// settings, replacing any it had.
    pub fn allow_library_with(
        mut self,
        name_or_path: &str,
        settings: LibrarySettings,
    ) -> Result<Self> {
        let i = self.add_rule(parse_rule(name_or_path)?);
        self.settings[i] = Arc::new(settings);
        Ok(self)
    }

    /// Set the memory mode of an allowed library.
    pub fn memory_mode(mut self, name_or_path: &str, mode: MemoryMode) -> Result<Self> {
        let i = self.add_rule(parse_rule(name_or_path)?);
        Arc::make_mut(&mut self.settings[i]).memory = mode;
        Ok(self)
    }

    /// Restrict an allowed library's symbols to `symbols` (added to any
    /// already listed).
    pub fn allow_symbols(mut self, name_or_path: &str, symbols: &[&str]) -> Result<Self> {
        let i = self.add_rule(parse_rule(name_or_path)?);
        let set = Arc::make_mut(&mut self.settings[i])
            .symbols
            .get_or_insert_with(BTreeSet::new);
        set.extend(symbols.iter().map(|s| s.to_string()));
        Ok(self)
    }

    /// Pin the C signature `symbol` of an allowed library may be bound with
    /// (see [`crate::policy::csig`] for the syntax).
    pub fn pin_signature(
        mut self,
        name_or_path: &str,
        symbol: &str,
        signature: &str,
    ) -> Result<Self> {
        let sig = crate::policy::csig::parse(signature, symbol)
            .map_err(|e| anyhow::anyhow!("signature of {symbol} ({signature:?}): {e}"))?;
        let i = self.add_rule(parse_rule(name_or_path)?);
        Arc::make_mut(&mut self.settings[i])
            .signatures
            .insert(symbol.to_owned(), (signature.to_owned(), sig));
        Ok(self)
    }

    /// Allow every library (soname or absolute path; `@process` too) not
    /// listed otherwise, with `mode`.
    pub fn allow_any_library(mut self, mode: MemoryMode) -> Self {
        self.any_library = Some(Arc::new(LibrarySettings::new(mode)));
        self
    }

    /// Whether any library the policy allows is in checked mode: then the
    /// `memory` interface refuses foreign addresses and `from-address` is
    /// refused for the whole run.
    pub fn memory_checked(&self) -> bool {
        self.settings
            .iter()
            .chain(&self.any_library)
            .any(|s| s.memory == MemoryMode::Checked)
    }

    /// Grant (`true`) or withhold (`false`) raw native memory explicitly:
    /// reading and writing any host address through the memory interface and
    /// calling any address through `function.from-address`. Without an
    /// explicit word, a trusted library implies it (see [`Policy::raw_memory`]).
    pub fn grant_raw_memory(mut self, grant: bool) -> Self {
        self.raw_memory_grant = Some(grant);
        self
    }

    /// The explicit raw-memory word, if any (what a policy file says).
    pub fn raw_memory_grant(&self) -> Option<bool> {
        self.raw_memory_grant
    }

    /// Whether the guest may name host memory the runtime did not hand out,
    /// and why. Without it the memory interface only reaches the run's own
    /// blocks and borrowed results, and only live callbacks can be called by
    /// address. A checked library always withholds it: its checks rest on the
    /// guest being unable to forge or plant pointers ([`Policy::validate_raw_memory`]
    /// refuses an explicit grant beside one).
    pub fn raw_memory(&self) -> RawMemory {
        if self.memory_checked() {
            return RawMemory::WithheldForCheckedLibrary;
        }
        match self.raw_memory_grant {
            Some(true) => RawMemory::Granted,
            Some(false) => RawMemory::Withheld,
            None if self
                .settings
                .iter()
                .chain(&self.any_library)
                .any(|s| s.memory == MemoryMode::Trusted) =>
            {
                RawMemory::ImpliedByTrustedLibrary
            }
            None => RawMemory::NotGranted,
        }
    }

    /// An explicit raw-memory grant beside a checked library is a
    /// contradiction: refuse it rather than quietly weaken the checks.
    pub fn validate_raw_memory(&self) -> Result<()> {
        if self.raw_memory_grant == Some(true) && self.memory_checked() {
            bail!(
                "raw_memory = true cannot be combined with a checked library: checked mode \
                 relies on the guest being unable to read or write arbitrary host memory"
            );
        }
        Ok(())
    }

    /// Preopen a host directory for the guest (read-only unless
    /// `dir.writable`), replacing any earlier preopen at the same guest path.
    pub fn preopen_dir(mut self, dir: dirs::Preopen) -> Self {
        match self.preopen_index.get(&dir.guest) {
            Some(&i) => self.preopens[i] = dir,
            None => {
                self.preopen_index
                    .insert(dir.guest.clone(), self.preopens.len());
                self.preopens.push(dir);
            }
        }
        self
    }

    /// The directories the policy preopens, in order.
    pub fn preopens(&self) -> &[dirs::Preopen] {
        &self.preopens
    }

    /// The settings of the rule that allowed `target`.
    pub fn settings_for(&self, target: &LoadTarget) -> Arc<LibrarySettings> {
        let rule = match target {
            LoadTarget::Process => LibraryRule::Process,
            LoadTarget::Soname(s) => LibraryRule::Soname(s.clone()),
            LoadTarget::Path(p) => LibraryRule::Path(p.clone()),
        };
        let inside_dir = || match target {
            LoadTarget::Path(p) => self.dir_rule_of(p),
            _ => None,
        };
        self.rule_position(&rule)
            .or_else(inside_dir)
            .map(|i| self.settings[i].clone())
            .or_else(|| self.any_library.clone())
            .unwrap_or_default()
    }

    /// Like [`Policy::allow_library`], but a rule that cannot be resolved is an error.
    pub fn try_allow_library(mut self, name_or_path: &str) -> Result<Self> {
        let rule = parse_rule(name_or_path)?;
        self.add_rule(rule);
        Ok(self)
    }

    pub fn libraries(&self) -> &[LibraryRule] {
        &self.libraries
    }

    /// The directory rule (`--allow-lib DIR`) that contains the real path
    /// `path`, the innermost if several do.
    fn dir_rule_of(&self, path: &Path) -> Option<usize> {
        self.libraries
            .iter()
            .enumerate()
            .filter_map(|(i, rule)| match rule {
                LibraryRule::Dir(dir) if path.starts_with(dir) => Some((i, dir.as_os_str().len())),
                _ => None,
            })
            .max_by_key(|&(_, len)| len)
            .map(|(i, _)| i)
    }

    /// Make the packages in the host directory `dir` importable: it is
    /// preopened read-only at its own path (so paths a package computes
    /// from `__file__` name the same files on both sides) and added to the
    /// guest's module search path. Libraries inside it still need a grant
    /// (`--allow-lib DIR`).
    pub fn site_dir(self, dir: &Path) -> Result<Self> {
        self.site_dir_at(dir, None)
    }

    /// [`Policy::site_dir`] at the guest path `guest` (absolute) instead of
    /// the directory's own path. A library the guest opens there by its
    /// guest path is mapped back to the host.
    pub fn site_dir_at(mut self, dir: &Path, guest: Option<&str>) -> Result<Self> {
        let real = dir
            .canonicalize()
            .with_context(|| format!("site directory {}", dir.display()))?;
        if !real.is_dir() {
            bail!("site directory {}: not a directory", dir.display());
        }
        let guest = match guest {
            Some(g) => dirs::normalise(g)
                .filter(|_| g.starts_with('/'))
                .with_context(|| format!("site directory {g}: not an absolute guest path"))?,
            None => real
                .to_str()
                .with_context(|| format!("site directory {}: not UTF-8", real.display()))?
                .to_owned(),
        };
        if guest.contains(':') {
            bail!("site directory {guest}: ':' cannot be in a module search path entry");
        }
        self.add_site(&guest);
        Ok(self.preopen_dir(dirs::Preopen {
            host: real,
            guest,
            writable: false,
        }))
    }

    /// A virtual environment's packages (its `lib/python3.11/site-packages`,
    /// or the one `lib/python3.*/site-packages` it has) as [`Policy::site_dir`].
    pub fn venv(self, path: &Path) -> Result<Self> {
        let lib = path.join("lib");
        let preferred = lib.join("python3.11").join("site-packages");
        if preferred.is_dir() {
            return self.site_dir(&preferred);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
            .with_context(|| format!("virtual environment {}: no lib directory", path.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path().join("site-packages"))
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        match found.as_slice() {
            [one] => self.site_dir(one),
            [] => bail!(
                "virtual environment {}: no lib/python3.*/site-packages",
                path.display()
            ),
            _ => bail!(
                "virtual environment {}: several lib/python3.*/site-packages and none for 3.11",
                path.display()
            ),
        }
    }

    /// The guest directories added to the module search path, in order.
    pub fn sites(&self) -> &[String] {
        &self.sites
    }

    /// Add the guest directory `guest` (already preopened) to the module
    /// search path.
    pub(crate) fn add_site(&mut self, guest: &str) {
        if !self.sites.iter().any(|s| s == guest) {
            self.sites.push(guest.to_owned());
        }
    }

    /// Give the guest a mixed module (a name of [`MIXED_MODULES`]).
    pub fn allow_module(mut self, name: &str) -> Self {
        self.module_rules.push((name.to_owned(), true));
        self
    }

    /// Take a mixed module away from the guest; importing it raises ImportError.
    pub fn deny_module(mut self, name: &str) -> Self {
        self.module_rules.push((name.to_owned(), false));
        self
    }

    pub fn module_allowed(&self, name: &str) -> bool {
        let default = MIXED_MODULES.iter().find(|(n, _)| *n == name);
        let Some(&(_, default)) = default else {
            return false;
        };
        self.module_rules
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(default, |&(_, allowed)| allowed)
    }

    /// `not-permitted` unless the guest may use the mixed module `name`.
    pub fn check_module(&self, name: &str) -> Result<(), FfiError> {
        if self.module_allowed(name) {
            return Ok(());
        }
        let hint = match name {
            "probe" => " (allow it with --allow-probe)".to_owned(),
            _ if MIXED_MODULES.iter().any(|(n, _)| *n == name) => {
                format!(" (it was denied with --deny-module {name})")
            }
            _ => " (no such mixed module)".to_owned(),
        };
        Err(FfiError::NotPermitted(format!(
            "mixed module {name}: not allowed by the policy{hint}"
        )))
    }

    /// [`Policy::check_library`] for a name the guest gave. An absolute path
    /// the policy grants by name (a `Path` or `Dir` rule, which are host
    /// paths) is that host file. Otherwise a path inside one of the guest's
    /// preopened directories is a guest path, mapped to the host through the
    /// preopen (a symlink may not lead out of it) and then checked; anything
    /// else is checked as the host path it is.
    pub fn check_guest_library(
        &self,
        requested: Option<&str>,
        guest_dirs: &[dirs::GuestDir],
    ) -> Result<LoadTarget, FfiError> {
        let Some(path) = requested.filter(|r| r.starts_with('/')) else {
            return self.check_library(requested);
        };
        let as_host = self.check_library(requested);
        if let Ok(LoadTarget::Path(real)) = &as_host {
            if self.names_file(real) {
                return as_host;
            }
        }
        let inside = dirs::normalise(path).is_some_and(|normal| {
            guest_dirs.iter().any(|d| {
                d.guest == "/" || normal == d.guest || normal.starts_with(&format!("{}/", d.guest))
            })
        });
        let mapped = if inside {
            dirs::resolve_in(guest_dirs, path).ok()
        } else {
            None
        };
        let Some(mapped) = mapped.filter(|m| m.host.is_file()) else {
            return as_host;
        };
        let host = mapped.host.to_string_lossy().into_owned();
        // the guest named it: errors say it in the guest's words
        self.check_library(Some(&host)).map_err(|e| match e {
            FfiError::NotPermitted(_) => not_allowed(path),
            FfiError::LoadFailed(_) => FfiError::LoadFailed(format!("{path}: cannot be loaded")),
            other => other,
        })
    }

    /// Whether a rule names the real path `real` (itself or a directory
    /// holding it), rather than it being allowed as any library.
    fn names_file(&self, real: &Path) -> bool {
        self.rule_index
            .contains_key(&LibraryRule::Path(real.to_owned()))
            || self.dir_rule_of(real).is_some()
    }

    /// Decide whether the guest may open `requested` (`None`: the process).
    pub fn check_library(&self, requested: Option<&str>) -> Result<LoadTarget, FfiError> {
        let Some(requested) = requested else {
            return if self.rule_index.contains_key(&LibraryRule::Process)
                || self.any_library.is_some()
            {
                Ok(LoadTarget::Process)
            } else {
                Err(FfiError::NotPermitted(format!(
                    "the process's global namespace (CDLL(None)) is not allowed by the policy; \
                     allow it with --allow-lib {PROCESS_RULE}"
                )))
            };
        };
        if !requested.contains('/') {
            if requested.is_empty() || requested == "." || requested == ".." {
                return Err(not_allowed(requested));
            }
            return if self.any_library.is_some()
                || self
                    .rule_index
                    .contains_key(&LibraryRule::Soname(requested.to_owned()))
            {
                Ok(LoadTarget::Soname(requested.to_owned()))
            } else {
                Err(not_allowed(requested))
            };
        }
        let path = Path::new(requested);
        if !path.is_absolute() {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: libraries are opened by soname or absolute path, not relative path"
            )));
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: '..' is not allowed in library paths"
            )));
        }
        if is_pseudo_fs(path) {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: libraries cannot be opened from /proc, /dev or /sys"
            )));
        }
        let real = match path.canonicalize() {
            Ok(real) => real,
            // Report a missing file like the loader would, but only for paths
            // the policy names: others must not learn what exists.
            Err(err) => {
                return if self
                    .rule_index
                    .contains_key(&LibraryRule::Path(path.to_owned()))
                {
                    Err(FfiError::LoadFailed(format!("{requested}: {err}")))
                } else {
                    Err(not_allowed(requested))
                }
            }
        };
        if is_pseudo_fs(&real) {
            return Err(FfiError::NotPermitted(format!(
                "{requested}: resolves to {}, inside /proc, /dev or /sys",
                real.display()
            )));
        }
        if !real.is_file() {
            return Err(not_allowed(requested));
        }
        if self.any_library.is_some()
            || self
                .rule_index
                .contains_key(&LibraryRule::Path(real.clone()))
            || self.dir_rule_of(&real).is_some()
        {
            Ok(LoadTarget::Path(real))
        } else {
            Err(not_allowed(requested))
        }
    }

    /// `ctypes.util.find_library` semantics, restricted to allowed libraries:
    /// `"z"` finds an allowed `libz.so.1` or `/.../libz.so.1`.
    /// Beyond the rules, the loader's cache (`ldconfig -p`, as CPython
    /// reads it) answers with a soname the policy would let the guest open,
    /// so a policy allowing any library finds what is installed, and nothing
    /// is revealed that the guest could not open.
    /// Under `--native-arch`, the answers are that architecture's libraries.
    pub fn find_library(&self, name: &str) -> Option<String> {
        if let Some(arch) = self.foreign_arch() {
            return self.find_foreign_library(arch, name);
        }
        let matches = arch_libs::library_of(name);
        let ruled = self.libraries.iter().find_map(|rule| match rule {
            LibraryRule::Soname(s) if matches(s) => Some(s.clone()),
            LibraryRule::Path(p)
                if p.file_name().and_then(|f| f.to_str()).is_some_and(&matches) =>
            {
                Some(p.display().to_string())
            }
            _ => None,
        });
        if ruled.is_some() || name.is_empty() || name.contains('/') {
            return ruled;
        }
        if let Some(own) = self.library_arch() {
            // The loader's cache lists none of the host's own libraries
            // (wasmffi for aarch64 under qemu-user on x86-64): the host
            // architecture's directories answer instead.
            return self.installed_library(own, name);
        }
        loader_cache::loader_cache()
            .iter()
            .filter(|(soname, _)| matches(soname))
            .find(|(soname, _)| self.check_library(Some(soname)).is_ok())
            .map(|(soname, _)| soname.clone())
    }
}

/// Paths of pseudo file systems: magic links there (`/proc/self/fd/N`,
/// `/proc/self/map_files/...`) can name files no rule allows.
fn is_pseudo_fs(path: &Path) -> bool {
    ["/proc", "/dev", "/sys"]
        .iter()
        .any(|root| path.starts_with(root))
}

fn not_allowed(requested: &str) -> FfiError {
    FfiError::NotPermitted(format!(
        "{requested}: not allowed by the policy (allow it with --allow-lib)"
    ))
}

fn parse_rule(name_or_path: &str) -> Result<LibraryRule> {
    if name_or_path == PROCESS_RULE {
        return Ok(LibraryRule::Process);
    }
    if name_or_path.is_empty() {
        bail!("empty library name");
    }
    if !name_or_path.contains('/') {
        return Ok(LibraryRule::Soname(name_or_path.to_owned()));
    }
    let path = Path::new(name_or_path);
    if !path.is_absolute() {
        bail!("{name_or_path}: library paths in a policy must be absolute");
    }
    let real = path
        .canonicalize()
        .with_context(|| format!("resolving library path {name_or_path}"))?;
    if real.is_dir() {
        return Ok(LibraryRule::Dir(real));
    }
    Ok(LibraryRule::Path(real))
}

#[cfg(test)]
mod tests;
