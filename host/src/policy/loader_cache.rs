//! The dynamic loader's cache, which `find_library` consults as CPython's
//! `ctypes.util.find_library` does on Linux.

use std::path::PathBuf;

/// A library the loader's cache lists, as `ldconfig -p` prints it:
/// `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    pub soname: String,
    /// The architecture flag after `libc6,` (`x86-64`, `AArch64`, `64bit`,
    /// `hard-float`); empty for a plain `(libc6)` or
    /// `(libc6, OS ABI: ...)`, which is the 32-bit x86 one on x86-64.
    pub tag: String,
    pub path: PathBuf,
}

/// Every glibc library of the loader's cache, of any architecture, in the
/// loader's order; read once per process.
pub(crate) fn cache_entries() -> &'static [CacheEntry] {
    static CACHE: std::sync::OnceLock<Vec<CacheEntry>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let listing = ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]
            .iter()
            .find_map(|tool| {
                std::process::Command::new(tool)
                    .arg("-p")
                    .env("LC_ALL", "C")
                    .stderr(std::process::Stdio::null())
                    .output()
                    .ok()
                    .filter(|out| out.status.success())
            });
        match listing {
            Some(out) => parse_loader_cache(&String::from_utf8_lossy(&out.stdout)),
            None => Vec::new(),
        }
    })
}

/// (soname, path) of the libraries of the host's own ABI, in the loader's
/// order: what CPython's `ctypes.util.find_library` consults on Linux.
pub(crate) fn loader_cache() -> &'static [(String, PathBuf)] {
    static HOST: std::sync::OnceLock<Vec<(String, PathBuf)>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        of_tag(cache_entries(), host_tag())
            .map(|e| (e.soname.clone(), e.path.clone()))
            .collect()
    })
}

/// The entries tagged `tag` (see [`CacheEntry::tag`]).
pub(crate) fn of_tag<'a>(
    entries: &'a [CacheEntry],
    tag: &'a str,
) -> impl Iterator<Item = &'a CacheEntry> + 'a {
    entries.iter().filter(move |e| e.tag == tag)
}

/// How `ldconfig -p` tags libraries of the host's ABI (CPython's
/// `ctypes.util` table, plus aarch64).
fn host_tag() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "aarch64" => "AArch64",
        "powerpc64" | "sparc64" | "s390x" => "64bit",
        _ => "",
    }
}

fn parse_loader_cache(listing: &str) -> Vec<CacheEntry> {
    listing.lines().filter_map(parse_line).collect()
}

/// One line; `None` for the header, non-glibc entries and paths as names.
fn parse_line(line: &str) -> Option<CacheEntry> {
    let (left, path) = line.trim().split_once(" => ")?;
    let (soname, tags) = left.split_once(" (")?;
    let mut tags = tags.strip_suffix(')')?.split(',').map(str::trim);
    if tags.next() != Some("libc6") || soname.contains('/') {
        return None;
    }
    // After the kind come the architecture flag, if any, then notes such as
    // `OS ABI: Linux 3.2.0` or `hwcap: 0x...`.
    let tag = tags.next().filter(|t| !t.contains(':')).unwrap_or("");
    Some(CacheEntry {
        soname: soname.to_owned(),
        tag: tag.to_owned(),
        path: path.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "5 libs found in cache `/etc/ld.so.cache'\n\
        \tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n\
        \tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1\n\
        \tlibm.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libm.so.6\n\
        \tlibm.so.6 (libc6, OS ABI: Linux 3.2.0) => /lib/i386-linux-gnu/libm.so.6\n\
        \tlibz.so.1 (libc6,AArch64) => /lib/aarch64-linux-gnu/libz.so.1\n\
        \tlibffi.so.8 (libc6,hard-float) => /lib/arm-linux-gnueabihf/libffi.so.8\n\
        \tlibold.so.1 (libc5) => /usr/i486-linuxlibc1/lib/libold.so.1\n";

    fn names<'a>(entries: &'a [CacheEntry], tag: &'a str) -> Vec<&'a str> {
        of_tag(entries, tag).map(|e| e.soname.as_str()).collect()
    }

    #[test]
    fn loader_cache_lines_are_told_apart_by_architecture() {
        let parsed = parse_loader_cache(LISTING);
        assert_eq!(names(&parsed, "x86-64"), ["libz.so.1", "libm.so.6"]);
        // A plain `libc6` (i386 on x86-64) is not every `libc6,...`.
        assert_eq!(names(&parsed, ""), ["libz.so.1", "libm.so.6"]);
        assert_eq!(
            of_tag(&parsed, "").next().unwrap().path,
            std::path::Path::new("/lib/i386-linux-gnu/libz.so.1")
        );
        assert_eq!(names(&parsed, "AArch64"), ["libz.so.1"]);
        assert_eq!(names(&parsed, "hard-float"), ["libffi.so.8"]);
        assert_eq!(names(&parsed, "64bit"), Vec::<&str>::new());
        assert!(parsed.iter().all(|e| e.soname != "libold.so.1"));
    }

    /// The C library is found by name, from the loader cache or, where it
    /// lists none of this architecture's libraries (under qemu-user on
    /// another machine), from its multiarch directories.
    #[test]
    fn find_library_finds_the_c_library() {
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            let any = crate::policy::Policy::default()
                .allow_any_library(crate::policy::MemoryMode::Trusted);
            assert_eq!(any.find_library("c").as_deref(), Some("libc.so.6"));
        }
    }
}
