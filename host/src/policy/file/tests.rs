//! Tests of policy files: parsing, presets, bounded and linear loading,
//! raw memory and directories.

use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<Policy> {
    Policy::from_toml_str(text, Path::new("test.toml"))
}

#[test]
fn presets_build_and_round_trip() {
    for (name, _) in PRESETS {
        let p = Policy::preset(name).unwrap();
        let shown = p.to_toml();
        let again = parse(&shown).unwrap_or_else(|e| panic!("{name}: {e:#}\n{shown}"));
        // An implied raw-memory word is shown as a comment: read back,
        // it stays implied, and the policy shows the same.
        assert_eq!(again.raw_memory(), p.raw_memory(), "{name}");
        assert_eq!(again.to_toml(), shown, "{name}");
    }
    assert!(Policy::preset("libc-math").unwrap().memory_checked());
    assert!(Policy::preset("bogus").is_err());
}

#[test]
fn errors_name_line_and_reason() {
    let e = parse("[limits]\nbogus = 1\n").unwrap_err().to_string();
    assert!(e.starts_with("test.toml:2:"), "{e}");
    assert!(e.contains("bogus"), "{e}");
    let e = parse("[[library]]\nname = \"libc.so.6\"\n[library.signatures]\nstrlen = \"size_t(const char *\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:4:10:") && e.contains("strlen"),
        "{e}"
    );
    let e = parse("preset = \"nope\"\n").unwrap_err().to_string();
    assert!(
        e.contains("test.toml:1:") && e.contains("unknown preset"),
        "{e}"
    );
    let e = parse("[limits]\ncpu_time = \"10 fortnights\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("test.toml:2:"), "{e}");
    let e = parse("[modules]\nallow = [\"nope\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no mixed module"), "{e}");
    let e = parse("[[library]]\nname = \"rel/lib.so\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("test.toml:2:") && e.contains("absolute"), "{e}");
}

#[test]
fn files_extend_presets() {
    let p = parse(
        "extends = \"libc-math\"\n[limits]\ncpu_time = 2\nlinear_memory = \"256MiB\"\n[modules]\nallow = [\"probe\"]\n",
    )
    .unwrap();
    assert_eq!(p.limits.cpu_time, Some(Duration::from_secs(2)));
    assert_eq!(p.limits.linear_memory, 256 << 20);
    assert!(p.module_allowed("probe"));
    assert!(p.memory_checked());
    assert_eq!(parse_size("64KiB").unwrap(), 65536);
    assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
}

/// A fresh temporary directory, removed on drop.
struct Tmp(PathBuf);
impl Tmp {
    fn new(tag: &str) -> Tmp {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("wasmffi-pf-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p.canonicalize().unwrap())
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load_err(path: &Path) -> String {
    let started = std::time::Instant::now();
    let e = format!("{:#}", Policy::from_file(path).unwrap_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "slow refusal: {e}"
    );
    e
}

#[test]
fn only_bounded_regular_files_are_read() {
    let tmp = Tmp::new("kinds");
    // Devices, /proc files, directly or through a symlink.
    for target in ["/dev/zero", "/dev/urandom", "/proc/self/environ"] {
        let f = tmp.write("ext.toml", &format!("extends = {target:?}\n"));
        let e = load_err(&f);
        assert!(e.starts_with(&format!("{}:1:11: ", f.display())), "{e}");
        assert!(e.contains("inside /proc, /dev or /sys"), "{e}");
    }
    let link = tmp.0.join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    assert!(load_err(&link).contains("/dev/zero is inside /proc, /dev or /sys"));
    // A FIFO with no writer: refused without blocking.
    let fifo = tmp.0.join("fifo.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let f = tmp.write("viafifo.toml", "extends = \"fifo.toml\"\n");
    let e = load_err(&f);
    assert!(e.contains("it is a FIFO, not a regular file"), "{e}");
    // A directory.
    std::fs::create_dir(tmp.0.join("dir.toml")).unwrap();
    let e = load_err(&tmp.0.join("dir.toml"));
    assert!(e.contains("it is a directory"), "{e}");
    // Too large (sparse: no disk used), at the limit and past it.
    let big = tmp.0.join("big.toml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(MAX_POLICY_FILE_BYTES + 1).unwrap();
    let e = load_err(&big);
    assert!(
        e.contains("policy file too large") && e.contains("16MiB"),
        "{e}"
    );
    let mut text = "# padding\n".repeat(((MAX_POLICY_FILE_BYTES - 20) / 10) as usize);
    text.push_str("raw_memory = false\n");
    std::fs::write(&big, &text).unwrap();
    assert!(text.len() as u64 <= MAX_POLICY_FILE_BYTES);
    assert_eq!(
        Policy::from_file(&big).unwrap().raw_memory_grant(),
        Some(false)
    );
    // Missing files name themselves.
    let f = tmp.write("missing.toml", "extends = \"nowhere.toml\"\n");
    let e = load_err(&f);
    assert!(
        e.contains("nowhere.toml") && e.contains("No such file"),
        "{e}"
    );
}

#[test]
fn extends_cycles_and_deep_chains_are_refused() {
    let tmp = Tmp::new("cycle");
    let a = tmp.write("a.toml", "extends = \"b.toml\"\n");
    tmp.write("b.toml", "extends = \"./a.toml\"\n");
    let e = load_err(&a);
    let want = format!(
        "`extends` forms a cycle: {0}/a.toml -> {0}/b.toml -> {0}/a.toml",
        tmp.0.display()
    );
    assert!(e.contains(&want), "{e}");
    assert!(e.starts_with(&format!("{}:1:11: ", a.display())), "{e}");
    let me = tmp.write("self.toml", "extends = \"self.toml\"\n");
    assert!(load_err(&me).contains("forms a cycle"));

    // A chain of MAX_EXTENDS_DEPTH files loads; one more is refused.
    let chain = |n: usize| {
        for i in 0..n {
            let next = if i + 1 < n {
                format!("extends = \"c{}.toml\"\n", i + 1)
            } else {
                "raw_memory = false\n".to_owned()
            };
            tmp.write(&format!("c{i}.toml"), &next);
        }
        Policy::from_file(&tmp.0.join("c0.toml"))
    };
    assert_eq!(
        chain(MAX_EXTENDS_DEPTH).unwrap().raw_memory_grant(),
        Some(false)
    );
    let e = format!("{:#}", chain(MAX_EXTENDS_DEPTH + 1).unwrap_err());
    assert!(e.contains("chains more than 16 policy files deep"), "{e}");
}

/// Seconds to load a file of `n` soname entries (best of `tries`).
fn load_time(tmp: &Tmp, n: usize, tries: usize) -> f64 {
    let mut text = String::with_capacity(n * 40);
    for i in 0..n {
        let _ = write!(text, "[[library]]\nname = \"libgen{i}.so.1\"\n");
    }
    let path = tmp.write(&format!("gen{n}.toml"), &text);
    let cpu = || {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    };
    (0..tries)
        .map(|_| {
            let started = cpu();
            let p = Policy::from_file(&path).unwrap();
            let t = cpu() - started;
            assert_eq!(p.libraries().len(), n);
            t
        })
        .fold(f64::INFINITY, f64::min)
}

/// A regression guard against super-linear loading, not a benchmark:
/// ten times the entries may take at most twenty times the CPU time
/// (plus 50 ms of slack), against a baseline measured in the same test
/// (CPU time of this thread, so that tests beside it do not make it
/// flake). Quadratic loading takes a hundred times as long.
#[test]
fn loading_is_linear() {
    let tmp = Tmp::new("linear");
    let small = load_time(&tmp, 19_000, 3);
    let large = load_time(&tmp, 190_000, 2);
    eprintln!("CPU time: 19,000 entries {small:.3}s; 190,000 entries {large:.3}s");
    assert!(
        large <= 20.0 * small + 0.05,
        "190,000 entries took {large:.3}s, 19,000 took {small:.3}s: not linear"
    );
}

#[test]
fn raw_memory_in_files() {
    // Inherited through `extends`, overridden by the extending file.
    let tmp = Tmp::new("raw");
    tmp.write("base.toml", "raw_memory = true\n");
    let p = Policy::from_file(&tmp.write("a.toml", "extends = \"base.toml\"\n")).unwrap();
    assert_eq!(p.raw_memory_grant(), Some(true));
    let p = Policy::from_file(&tmp.write(
        "b.toml",
        "extends = \"base.toml\"\nraw_memory = false\n[[library]]\nname = \"libz.so.1\"\n",
    ))
    .unwrap();
    assert_eq!(p.raw_memory(), crate::policy::RawMemory::Withheld);
    // A grant beside a checked library is refused where it is written...
    let e = parse("extends = \"libc-math\"\nraw_memory = true\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:2:14: raw_memory = true cannot"),
        "{e}"
    );
    // ...or where the checked library joins an inherited grant.
    let e = format!(
        "{:#}",
        Policy::from_file(&tmp.write(
            "c.toml",
            "extends = \"base.toml\"\n[[library]]\nname = \"libm.so.6\"\nmemory = \"checked\"\n",
        ))
        .unwrap_err()
    );
    assert!(e.contains("c.toml: raw_memory = true cannot"), "{e}");
    // `show` says what and why.
    for (preset, line) in [
        (
            "none",
            "raw_memory = false  # not granted: no library is trusted",
        ),
        (
            "trusted",
            "raw_memory = true  # implied by a trusted library",
        ),
        (
            "libc-math",
            "raw_memory = false  # withheld: a checked library relies",
        ),
    ] {
        let shown = Policy::preset(preset).unwrap().to_toml();
        assert!(shown.contains(line), "{preset}:\n{shown}");
    }
    assert!(parse("raw_memory = true\n")
        .unwrap()
        .to_toml()
        .contains("raw_memory = true  # granted explicitly"));
    assert!(parse("raw_memory = \"yes\"\n")
        .unwrap_err()
        .to_string()
        .starts_with("test.toml:1:14:"));
}

#[test]
fn dirs_in_files() {
    let tmp = Tmp::new("dirs");
    std::fs::create_dir(tmp.0.join("data")).unwrap();
    std::fs::create_dir(tmp.0.join("out")).unwrap();
    let f = tmp.write(
        "d.toml",
        &format!(
            "[[dir]]\nhost = \"data\"\nguest = \"/data\"\n\
             [[dir]]\nhost = {:?}\nguest = \"/out\"\nmode = \"rw\"\n",
            tmp.0.join("out").display().to_string()
        ),
    );
    let p = Policy::from_file(&f).unwrap();
    assert_eq!(
        p.preopens(),
        &[
            Preopen {
                host: tmp.0.join("data"),
                guest: "/data".into(),
                writable: false
            },
            Preopen {
                host: tmp.0.join("out"),
                guest: "/out".into(),
                writable: true
            },
        ]
    );
    // Extending: same guest path replaces, others add.
    let g = tmp.write(
        "e.toml",
        "extends = \"d.toml\"\n[[dir]]\nhost = \"out\"\nguest = \"/data\"\nmode = \"ro\"\n",
    );
    let p = Policy::from_file(&g).unwrap();
    assert_eq!(p.preopens().len(), 2);
    assert_eq!(p.preopens()[0].host, tmp.0.join("out"));
    // `show` round-trips them.
    let shown = p.to_toml();
    assert!(
        shown.contains(&format!(
            "[[dir]]\nhost = \"{}/out\"\nguest = \"/data\"\nmode = \"ro\"\n",
            tmp.0.display()
        )),
        "{shown}"
    );
    let again = tmp.write("shown.toml", &shown);
    assert_eq!(Policy::from_file(&again).unwrap().preopens(), p.preopens());
    // Errors say where.
    for (text, want) in [
        (
            "[[dir]]\nhost = \"nope\"\nguest = \"/x\"\n",
            "d.toml:2:8: directory",
        ),
        (
            "[[dir]]\nhost = \"data\"\nguest = \"x\"\n",
            "d.toml:3:9: guest path \"x\" must be absolute",
        ),
        (
            "[[dir]]\nhost = \"data\"\nguest = \"/a/../b\"\n",
            "d.toml:3:9: guest path",
        ),
        (
            "[[dir]]\nhost = \"data\"\nguest = \"/x\"\nmode = \"w\"\n",
            "d.toml:4:8: mode \"w\"",
        ),
        (
            "[[dir]]\nhost = \"d.toml\"\nguest = \"/x\"\n",
            "is not a directory",
        ),
        ("[[dir]]\nhost = \"data\"\n", "missing field `guest`"),
    ] {
        let f = tmp.write("d.toml", text);
        let e = format!("{:#}", Policy::from_file(&f).unwrap_err());
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn dir_flag_suffixes() {
    let p = crate::policy::dirs::parse_preopen;
    let pre = |host: &str, guest: &str, writable| Preopen {
        host: host.into(),
        guest: guest.into(),
        writable,
    };
    assert_eq!(p("/x::/data:ro").unwrap(), pre("/x", "/data", false));
    assert_eq!(p("/x::/data:rw").unwrap(), pre("/x", "/data", true));
    assert_eq!(p("/x::/data").unwrap(), pre("/x", "/data", true));
    assert_eq!(p("/x:ro").unwrap(), pre("/x", "/x", false));
    assert_eq!(p("/x").unwrap(), pre("/x", "/x", true));
    assert_eq!(p("/x::ro").unwrap(), pre("/x", "ro", true));
    assert_eq!(p("/x:ro:ro").unwrap(), pre("/x:ro", "/x:ro", false));
    assert!(p(":ro").is_err());
    assert!(p("::/data:ro").is_err());
}
