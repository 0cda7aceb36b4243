//! Libraries of another architecture (`--native-arch ARCH`): a soname the
//! policy grants is looked up in that architecture's library paths (Debian
//! multiarch: what `/etc/ld.so.conf.d/<multiarch>.conf` lists, then
//! `/lib/<multiarch>` and `/usr/lib/<multiarch>`, and what the loader's
//! cache tags with that architecture), and only a file whose ELF header says
//! it is that architecture's is handed to the helper. A path the policy
//! grants is that very file: if it is another architecture's, opening it is
//! an error that says so. `find_library` answers from the same places.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::bindings::FfiError;
use crate::policy::loader_cache::{self, CacheEntry};
use crate::policy::native_helper::{Arch, ElfKind};
use crate::policy::{LibraryRule, LoadTarget, Policy};

/// Where one architecture's libraries are.
pub(crate) struct ArchLibraries {
    arch: &'static Arch,
    /// Its library directories, in search order, each once.
    dirs: Vec<PathBuf>,
    /// The loader cache's entries for it.
    cached: Vec<CacheEntry>,
}

/// The libraries of `arch`, gathered once per process.
pub(crate) fn arch_libraries(arch: &'static Arch) -> Arc<ArchLibraries> {
    static BY_ARCH: OnceLock<Mutex<HashMap<&'static str, Arc<ArchLibraries>>>> = OnceLock::new();
    let mut known = BY_ARCH
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    known
        .entry(arch.name)
        .or_insert_with(|| {
            let cached = loader_cache::of_tag(loader_cache::cache_entries(), arch.ldconfig_tag)
                .cloned()
                .collect();
            Arc::new(ArchLibraries::new(arch, search_dirs(arch), cached))
        })
        .clone()
}

/// The directories `/etc/ld.so.conf.d/<multiarch>*.conf` lists, then
/// `/lib/<multiarch>` and `/usr/lib/<multiarch>`.
fn search_dirs(arch: &Arch) -> Vec<PathBuf> {
    let defaults = ["/lib", "/usr/lib"].map(|root| Path::new(root).join(arch.multiarch));
    conf_dirs(arch.multiarch)
        .into_iter()
        .chain(defaults)
        .collect()
}

/// The directories `/etc/ld.so.conf.d/<multiarch>*.conf` lists.
fn conf_dirs(multiarch: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/etc/ld.so.conf.d") else {
        return Vec::new();
    };
    let mut confs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(multiarch) && f.ends_with(".conf"))
        })
        .collect();
    confs.sort();
    confs
        .iter()
        .filter_map(|conf| std::fs::read_to_string(conf).ok())
        .flat_map(|text| parse_conf(&text))
        .collect()
}

/// The directories of an `ld.so.conf` file (comments, blank lines and
/// `include` lines left out).
pub(crate) fn parse_conf(text: &str) -> Vec<PathBuf> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| line.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

impl ArchLibraries {
    /// `search`: its directories in order (each kept once); `cached`: the
    /// loader cache's entries for it, which are looked at first.
    pub(crate) fn new(arch: &'static Arch, search: Vec<PathBuf>, cached: Vec<CacheEntry>) -> Self {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut seen = Vec::new();
        for dir in search {
            // /lib is /usr/lib on a merged-/usr system: list each once.
            let real = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if !seen.contains(&real) {
                seen.push(real);
                dirs.push(dir);
            }
        }
        ArchLibraries { arch, dirs, cached }
    }

    /// The file of this architecture the loader would take for `soname`.
    pub(crate) fn resolve(&self, soname: &str) -> Option<PathBuf> {
        let cached = self
            .cached
            .iter()
            .filter(|e| e.soname == soname)
            .map(|e| e.path.clone());
        let in_dirs = self.dirs.iter().map(|dir| dir.join(soname));
        cached
            .chain(in_dirs)
            .find(|file| elf_kind(file) == Some(self.arch.elf))
    }

    /// Names of this architecture's libraries `ctypes.util.find_library(name)`
    /// may answer, best first: the soname (`libz.so.1`) before longer
    /// versions (`libz.so.1.2.13`) and the development link (`libz.so`).
    pub(crate) fn candidates(&self, name: &str) -> Vec<String> {
        let prefix = format!("lib{name}.so");
        let matches = library_of(name);
        let listed = self.dirs.iter().flat_map(|dir| {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
        });
        let mut names: Vec<String> = self
            .cached
            .iter()
            .map(|e| e.soname.clone())
            .chain(listed)
            .filter(|f| matches(f.as_str()))
            .collect();
        names.sort_by_key(|n| (n == &prefix, n.matches('.').count(), n.clone()));
        names.dedup();
        names
    }
}

/// Whether a file name is one of library `name`'s (`"z"`: `libz.so`,
/// `libz.so.1`, ...), as `ctypes.util.find_library` matches.
pub(crate) fn library_of(name: &str) -> impl Fn(&str) -> bool {
    let prefix = format!("lib{name}.so");
    let versioned = format!("{prefix}.");
    move |file: &str| file == prefix || file.starts_with(&versioned)
}

/// An ELF file's class, byte order and machine; `None` if it is not an ELF
/// file (a linker script such as `libc.so`, say) or cannot be read.
pub(crate) fn elf_kind(path: &Path) -> Option<ElfKind> {
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    elf_kind_of(&header)
}

pub(crate) fn elf_kind_of(header: &[u8; 20]) -> Option<ElfKind> {
    if header[..4] != *b"\x7fELF" {
        return None;
    }
    let bits64 = match header[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big_endian = match header[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let machine = [header[18], header[19]];
    let machine = if big_endian {
        u16::from_be_bytes(machine)
    } else {
        u16::from_le_bytes(machine)
    };
    Some(ElfKind {
        bits64,
        big_endian,
        machine,
    })
}

/// What an ELF file is built for, in words.
pub(crate) fn describe(kind: ElfKind) -> String {
    let name = match (kind.machine, kind.bits64) {
        (3, _) => "i386",
        (62, _) => "x86-64",
        (183, _) => "AArch64",
        (22, true) => "s390x",
        (22, false) => "s390",
        (40, _) => "32-bit ARM",
        (243, _) => "RISC-V",
        (21, _) => "64-bit PowerPC",
        (20, _) => "PowerPC",
        (8, _) => "MIPS",
        (m, bits) => {
            return format!(
                "{}-bit {} ELF machine {m}",
                if bits { 64 } else { 32 },
                if kind.big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                }
            )
        }
    };
    name.to_owned()
}

/// The Debian package that installs `path` on the host (`dpkg-query -S`),
/// trying the path with and without `/usr` (merged-/usr systems register
/// either).
fn dpkg_owner(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    let other = match text.strip_prefix("/usr") {
        Some(rest) => rest.to_owned(),
        None => format!("/usr{text}"),
    };
    [text.to_owned(), other].iter().find_map(|candidate| {
        let out = std::process::Command::new("dpkg-query")
            .args(["-S", candidate])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())?;
        package_of_search(&String::from_utf8_lossy(&out.stdout))
    })
}

/// The package of `dpkg-query -S`'s first answer: `zlib1g:amd64: /lib/...`
/// (or `libc6:amd64, libc6:i386: ...`) gives `zlib1g`.
pub(crate) fn package_of_search(output: &str) -> Option<String> {
    let line = output.lines().find(|l| !l.starts_with("diversion "))?;
    let (owners, _) = line.split_once(": ")?;
    let first = owners.split(", ").next()?;
    let package = first.split(':').next()?.trim();
    (!package.is_empty()).then(|| package.to_owned())
}

/// How to get `soname` for `arch`: the `:ARCH` build of the package that
/// installs the host's own copy, when the host has one dpkg knows.
fn install_hint(arch: &Arch, soname: &str) -> String {
    match host_copy(soname).and_then(owner_of) {
        Some(package) => format!(
            "install {package}:{deb} (apt-get install {package}:{deb})",
            deb = arch.deb_arch
        ),
        None => format!("install the :{} package that provides it", arch.deb_arch),
    }
}

/// The host's own copy of `soname`: from the loader's cache, or where the
/// host's architecture keeps its libraries when that cache lists none of
/// them (see [`Policy::library_arch`]). A name the guest made up finds
/// nothing here, so it never reaches dpkg.
fn host_copy(soname: &str) -> Option<PathBuf> {
    let cached = loader_cache::loader_cache()
        .iter()
        .find(|(s, _)| s == soname)
        .map(|(_, path)| path.clone());
    cached.or_else(|| {
        let own = crate::policy::native_helper::arch(std::env::consts::ARCH)?;
        arch_libraries(own).resolve(soname)
    })
}

/// [`dpkg_owner`], asked once per installed file however often the guest
/// retries (the table is bounded by the host's libraries).
fn owner_of(path: PathBuf) -> Option<String> {
    static OWNERS: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let mut owners = OWNERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    owners
        .entry(path)
        .or_insert_with_key(|path| dpkg_owner(path))
        .clone()
}

impl Policy {
    /// The architecture native code runs as, when it is not the host's.
    pub(crate) fn foreign_arch(&self) -> Option<&'static Arch> {
        crate::policy::native_helper::arch(self.native_arch.as_deref()?)
    }

    /// The architecture whose library paths `find_library` answers from:
    /// the one native code runs as under `--native-arch`, or the host's own
    /// when the loader cache lists none of its libraries (wasmffi built for
    /// aarch64 run under qemu-user on an x86-64 machine, whose cache is
    /// x86-64's).
    pub(crate) fn library_arch(&self) -> Option<&'static Arch> {
        self.foreign_arch().or_else(|| {
            loader_cache::loader_cache()
                .is_empty()
                .then(|| crate::policy::native_helper::arch(std::env::consts::ARCH))
                .flatten()
        })
    }

    /// What the helper of another architecture dlopens for a load target the
    /// policy permitted (`None`: its own process), or why that architecture
    /// cannot load it. `requested` is the guest's name for it, which errors
    /// use (never a path the guest did not give).
    pub fn foreign_load_name(
        &self,
        target: &LoadTarget,
        requested: &str,
    ) -> Result<Option<String>, FfiError> {
        let Some(arch) = self.foreign_arch() else {
            return Ok(match target {
                LoadTarget::Process => None,
                LoadTarget::Soname(s) => Some(s.clone()),
                LoadTarget::Path(p) => Some(p.display().to_string()),
            });
        };
        match target {
            LoadTarget::Process => Ok(None),
            LoadTarget::Soname(soname) => match arch_libraries(arch).resolve(soname) {
                Some(file) => Ok(Some(file.display().to_string())),
                None => Err(FfiError::LoadFailed(format!(
                    "{requested}: not installed for {name} (--native-arch {name} looks in \
                     {name}'s library paths); {}",
                    install_hint(arch, soname),
                    name = arch.name,
                ))),
            },
            LoadTarget::Path(file) => match elf_kind(file) {
                Some(kind) if kind == arch.elf => Ok(Some(file.display().to_string())),
                Some(kind) => {
                    // The guest's own name for it: the file it asked for.
                    let by_name = Path::new(requested)
                        .file_name()
                        .and_then(|f| f.to_str())
                        .filter(|f| f.starts_with("lib") && f.contains(".so"))
                        .map(|f| format!("; grant {f} by name to load {}'s copy", arch.name))
                        .unwrap_or_default();
                    Err(FfiError::LoadFailed(format!(
                        "{requested}: built for {}, but native code runs as {name} \
                         (--native-arch {name}){by_name}",
                        describe(kind),
                        name = arch.name,
                    )))
                }
                None => Err(FfiError::LoadFailed(format!(
                    "{requested}: not an ELF library (native code runs as {}, --native-arch {})",
                    arch.name, arch.name
                ))),
            },
        }
    }

    /// [`Policy::find_library`] under `--native-arch`: granted sonames and
    /// files that architecture can load, then its installed libraries the
    /// policy would let the guest open.
    pub(crate) fn find_foreign_library(&self, arch: &'static Arch, name: &str) -> Option<String> {
        let libs = arch_libraries(arch);
        let matches = library_of(name);
        let ruled = self.libraries.iter().find_map(|rule| match rule {
            LibraryRule::Soname(s) if matches(s) && libs.resolve(s).is_some() => Some(s.clone()),
            LibraryRule::Path(p)
                if p.file_name().and_then(|f| f.to_str()).is_some_and(&matches)
                    && elf_kind(p) == Some(arch.elf) =>
            {
                Some(p.display().to_string())
            }
            _ => None,
        });
        if ruled.is_some() || name.is_empty() || name.contains('/') {
            return ruled;
        }
        self.installed_library(arch, name)
    }

    /// The first of `arch`'s installed libraries named like `name`
    /// (`libNAME.so...`) that the policy would let the guest open.
    pub(crate) fn installed_library(&self, arch: &'static Arch, name: &str) -> Option<String> {
        let libs = arch_libraries(arch);
        libs.candidates(name).into_iter().find(|soname| {
            self.check_library(Some(soname)).is_ok() && libs.resolve(soname).is_some()
        })
    }
}

#[cfg(test)]
#[path = "arch_libs_tests.rs"]
mod tests;
