//! The dynamic loader's cache, which `find_library` consults as CPython's
//! `ctypes.util.find_library` does on Linux.

/// The dynamic loader's cache as `ldconfig -p` lists it: (soname, path) of
/// the libraries of the host's own ABI, in the loader's order. What CPython's
/// `ctypes.util.find_library` consults on Linux; read once per process.
pub(crate) fn loader_cache() -> &'static [(String, std::path::PathBuf)] {
    static CACHE: std::sync::OnceLock<Vec<(String, std::path::PathBuf)>> =
        std::sync::OnceLock::new();
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
            Some(out) => parse_loader_cache(&String::from_utf8_lossy(&out.stdout), loader_abi()),
            None => Vec::new(),
        }
    })
}

/// How `ldconfig -p` tags libraries of the host's ABI (CPython's
/// `ctypes.util` table, plus aarch64).
fn loader_abi() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "libc6,x86-64",
        "aarch64" => "libc6,AArch64",
        "powerpc64" | "sparc64" | "s390x" => "libc6,64bit",
        _ => "libc6",
    }
}

/// Lines such as `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`.
fn parse_loader_cache(listing: &str, abi: &str) -> Vec<(String, std::path::PathBuf)> {
    listing
        .lines()
        .filter_map(|line| {
            let (left, path) = line.trim().split_once(" => ")?;
            let (soname, tags) = left.split_once(" (")?;
            let tags = tags.strip_suffix(')')?;
            let same_abi = tags == abi || tags.starts_with(&format!("{abi},"));
            (same_abi && !soname.contains('/')).then(|| (soname.to_owned(), path.into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_cache_lines_keep_the_hosts_abi_only() {
        let listing = "3 libs found in cache `/etc/ld.so.cache'\n\
            \tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n\
            \tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1\n\
            \tlibm.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libm.so.6\n";
        let parsed = parse_loader_cache(listing, "libc6,x86-64");
        let names: Vec<&str> = parsed.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["libz.so.1", "libm.so.6"]);
        assert_eq!(
            parsed[0].1,
            std::path::Path::new("/lib/x86_64-linux-gnu/libz.so.1")
        );
    }

    #[test]
    fn the_real_loader_cache_lists_the_c_library() {
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(loader_cache().iter().any(|(s, _)| s == "libc.so.6"));
        }
    }
}
