//! `wasmffi:ffi/probe`: platform probing (PyPy's ctypes_configure), the
//! mixed module `probe`. The guest names types, members, constants and
//! headers; the host checks every name against a strict grammar, writes the C
//! program itself, compiles and runs it with the host's C compiler (`$CC`, or
//! `cc`), and caches the answers in memory and under the cache directory.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::bindings::wasmffi::ffi::probe::{
    Answer, FieldLayout, Host, Integer, Kind, Layout, Query,
};
use crate::bindings::FfiError;
use crate::state::HostState;

const MODULE: &str = "probe";
const MAX_QUERIES: usize = 4096;
const MAX_HEADERS: usize = 64;
const MAX_NAME: usize = 128;

fn invalid(msg: String) -> FfiError {
    FfiError::InvalidArgument(msg)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && s.len() <= MAX_NAME
}

/// `sys/stat.h`: letters, digits, `_`, `/`, `.`, ending in `.h`, relative,
/// no `..`; included as a system header (`<...>`).
fn check_header(h: &str) -> Result<(), FfiError> {
    let ok = h.len() <= MAX_NAME
        && h.ends_with(".h")
        && h.len() > 2
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.'))
        && !h.starts_with('/')
        && !h.contains("..")
        && !h.contains("//");
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "header {h:?}: expected a system header name such as \"sys/stat.h\""
        )))
    }
}

/// A C type name: `struct X`, `union X`, `enum X`, or up to four
/// identifiers/keywords (`unsigned long long`, `size_t`), then any `*`s.
fn check_type(t: &str) -> Result<String, FfiError> {
    let bad = || {
        invalid(format!(
            "type {t:?}: expected a C type name such as \"int\", \"unsigned long\", \
             \"struct stat\" or \"char *\""
        ))
    };
    if t.len() > MAX_NAME {
        return Err(bad());
    }
    let trimmed = t.trim_end();
    let base = trimmed.trim_end_matches(|c: char| c == '*' || c.is_ascii_whitespace());
    let stars = trimmed[base.len()..].chars().filter(|&c| c == '*').count();
    let words: Vec<&str> = base.split_ascii_whitespace().collect();
    if words.is_empty() || words.len() > 4 || !words.iter().all(|w| is_ident(w)) {
        return Err(bad());
    }
    if matches!(words[0], "struct" | "union" | "enum") && words.len() != 2 {
        return Err(bad());
    }
    Ok(format!("{}{}", words.join(" "), " *".repeat(stars)))
}

/// A member, possibly nested: `st_mode`, `st_atim.tv_sec`.
fn check_member(m: &str) -> Result<(), FfiError> {
    let parts: Vec<&str> = m.split('.').collect();
    if parts.len() <= 8 && parts.iter().all(|p| is_ident(p)) {
        Ok(())
    } else {
        Err(invalid(format!(
            "member {m:?}: expected a member name, or a dotted path of them"
        )))
    }
}

fn check_constant(c: &str) -> Result<(), FfiError> {
    if is_ident(c) {
        Ok(())
    } else {
        Err(invalid(format!("constant {c:?}: expected a C identifier")))
    }
}

/// A query after validation.
#[derive(Clone, Debug)]
enum Q {
    Type(String),
    Field(String, String),
    Constant(String),
    Defined(String),
}

/// An answer, in the form cached on disk.
#[derive(Clone, Debug, PartialEq)]
enum A {
    Type(u64, u64, u8),
    Field(u64, u64, u8),
    Constant(Option<(bool, u64)>),
    Defined(bool),
    Failed(String),
}

impl A {
    fn to_line(&self) -> String {
        match self {
            A::Type(s, a, k) => format!("L {s} {a} {k}"),
            A::Field(o, s, k) => format!("F {o} {s} {k}"),
            A::Constant(None) => "C none".into(),
            A::Constant(Some((neg, m))) => format!("C {} {m}", if *neg { "-" } else { "+" }),
            A::Defined(d) => format!("D {}", u8::from(*d)),
            A::Failed(msg) => format!("X {}", msg.replace('\n', " ")),
        }
    }

    fn from_line(line: &str) -> Option<A> {
        let (tag, rest) = line.split_once(' ')?;
        let nums = || -> Option<Vec<u64>> { rest.split(' ').map(|n| n.parse().ok()).collect() };
        Some(match tag {
            "L" => {
                let n = nums()?;
                A::Type(*n.first()?, *n.get(1)?, *n.get(2)? as u8)
            }
            "F" => {
                let n = nums()?;
                A::Field(*n.first()?, *n.get(1)?, *n.get(2)? as u8)
            }
            "C" if rest == "none" => A::Constant(None),
            "C" => {
                let (sign, m) = rest.split_once(' ')?;
                A::Constant(Some((sign == "-", m.parse().ok()?)))
            }
            "D" => A::Defined(rest == "1"),
            "X" => A::Failed(rest.to_owned()),
            _ => return None,
        })
    }

    fn to_wit(&self) -> Answer {
        let kind = |k: u8| match k {
            1 => Kind::SignedInteger,
            2 => Kind::UnsignedInteger,
            3 => Kind::Floating,
            4 => Kind::Pointer,
            _ => Kind::Other,
        };
        match self {
            A::Type(size, alignment, k) => Answer::TypeLayout(Layout {
                size: *size,
                alignment: *alignment,
                kind: kind(*k),
            }),
            A::Field(offset, size, k) => Answer::Field(FieldLayout {
                offset: *offset,
                size: *size,
                kind: kind(*k),
            }),
            A::Constant(v) => Answer::Constant(v.map(|(negative, magnitude)| Integer {
                negative,
                magnitude,
            })),
            A::Defined(d) => Answer::Defined(*d),
            A::Failed(m) => Answer::Failed(m.clone()),
        }
    }
}

const KIND_MACRO: &str = "#define WASMFFI_KIND(e) _Generic((e), _Bool: 2, \
char: ((char)-1 < 0 ? 1 : 2), signed char: 1, short: 1, int: 1, long: 1, long long: 1, \
unsigned char: 2, unsigned short: 2, unsigned int: 2, unsigned long: 2, unsigned long long: 2, \
float: 3, double: 3, long double: 3, \
default: ((__builtin_classify_type(e) == 5 && \
__builtin_types_compatible_p(__typeof__(e), __typeof__(0 ? (e) : (e)))) ? 4 : 5))";

/// The C program answering `queries` (those in `skip` left out). Every
/// query's code is on one line of its own, so compiler errors name it.
fn program(headers: &[String], queries: &[Q], skip: &[bool]) -> (String, HashMap<usize, usize>) {
    let mut src = String::from("#include <stddef.h>\n#include <stdio.h>\n");
    for h in headers {
        let _ = writeln!(src, "#include <{h}>");
    }
    src.push_str(KIND_MACRO);
    src.push('\n');
    let mut lines = HashMap::new();
    let mut current = src.matches('\n').count();
    let mut calls = String::new();
    for (i, q) in queries.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let start = src.len();
        let line_no = current + 1;
        match q {
            Q::Type(t) => {
                let _ = writeln!(
                    src,
                    "static void wasmffi_q{i}(void) {{ typedef {t} wasmffi_t; \
                     struct wasmffi_a {{ char c; wasmffi_t x; }}; \
                     printf(\"{i} L %llu %llu %d\\n\", (unsigned long long)sizeof(wasmffi_t), \
                     (unsigned long long)offsetof(struct wasmffi_a, x), \
                     WASMFFI_KIND(*(wasmffi_t *)0)); }}"
                );
            }
            Q::Field(t, m) => {
                let _ = writeln!(
                    src,
                    "static void wasmffi_q{i}(void) {{ typedef {t} wasmffi_t; \
                     printf(\"{i} F %llu %llu %d\\n\", (unsigned long long)offsetof(wasmffi_t, {m}), \
                     (unsigned long long)sizeof(((wasmffi_t *)0)->{m}), \
                     WASMFFI_KIND(((wasmffi_t *)0)->{m})); }}"
                );
            }
            Q::Constant(c) => {
                // The array bound makes anything but an integer constant
                // expression (a string, a float) a compile error.
                let _ = writeln!(
                    src,
                    "static const char wasmffi_c{i}[((({c}) + 0) * 0) + 1] = {{0}}; \
                     static void wasmffi_q{i}(void) {{ (void)wasmffi_c{i}; if (({c}) < 0) \
                     printf(\"{i} C - %llu\\n\", -(unsigned long long)({c})); \
                     else printf(\"{i} C + %llu\\n\", (unsigned long long)({c})); }}"
                );
            }
            Q::Defined(d) => {
                let _ = writeln!(
                    src,
                    "#ifdef {d}\n#define WASMFFI_D{i} 1\n#else\n#define WASMFFI_D{i} 0\n#endif\n\
                     static void wasmffi_q{i}(void) {{ printf(\"{i} D %d\\n\", WASMFFI_D{i}); }}"
                );
            }
        }
        current += src[start..].matches('\n').count();
        for l in line_no..=current {
            lines.insert(l, i);
        }
        let _ = writeln!(calls, "    wasmffi_q{i}();");
    }
    let _ = write!(src, "int main(void) {{\n{calls}    return 0;\n}}\n");
    (src, lines)
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

/// Who compiles: part of the cache key.
fn compiler_identity() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let cc = compiler();
        let out = Command::new(&cc).arg("--version").output();
        let version = out
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .unwrap_or_default();
        format!("{cc} {version}")
    })
}

fn scratch_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "wasmffi-probe-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Compile and run; `Err((failing queries, first error))` if it fails to compile.
fn compile_and_run(
    src: &str,
    lines: &HashMap<usize, usize>,
) -> Result<Result<String, (Vec<(usize, String)>, String)>, FfiError> {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| FfiError::Unsupported(format!("probe scratch directory: {e}")))?;
    let result = (|| {
        let c = dir.join("probe.c");
        let exe = dir.join("probe");
        std::fs::write(&c, src)
            .map_err(|e| FfiError::Unsupported(format!("writing probe.c: {e}")))?;
        let out = Command::new(compiler())
            .args(["-std=gnu11", "-o"])
            .arg(&exe)
            .arg(&c)
            .current_dir(&dir)
            .output()
            .map_err(|e| {
                FfiError::Unsupported(format!("running the C compiler {}: {e}", compiler()))
            })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let mut failing = Vec::new();
            let mut first = None;
            for line in stderr.lines() {
                let Some(rest) = line.strip_prefix(&format!("{}:", c.display())) else {
                    continue;
                };
                let mut parts = rest.splitn(3, ':');
                let (Some(l), Some(_col), Some(msg)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let msg = msg.trim();
                if !msg.starts_with("error") && !msg.starts_with("fatal error") {
                    continue;
                }
                let msg = msg
                    .trim_start_matches("fatal error:")
                    .trim_start_matches("error:")
                    .trim()
                    .to_owned();
                first.get_or_insert_with(|| msg.clone());
                if let Some(q) = l.parse::<usize>().ok().and_then(|l| lines.get(&l)) {
                    failing.push((*q, msg));
                }
            }
            let first = first.unwrap_or_else(|| stderr.lines().next().unwrap_or("").to_owned());
            return Ok(Err((failing, first)));
        }
        let run = Command::new(&exe)
            .output()
            .map_err(|e| FfiError::Unsupported(format!("running the probe program: {e}")))?;
        if !run.status.success() {
            return Err(FfiError::Unsupported(format!(
                "the probe program failed: {}",
                run.status
            )));
        }
        Ok(Ok(String::from_utf8_lossy(&run.stdout).into_owned()))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn answer(headers: &[String], queries: &[Q]) -> Result<Vec<A>, FfiError> {
    let mut answers: Vec<Option<A>> = vec![None; queries.len()];
    let mut skip = vec![false; queries.len()];
    for _round in 0..16 {
        let (src, lines) = program(headers, queries, &skip);
        match compile_and_run(&src, &lines)? {
            Ok(out) => {
                for line in out.lines() {
                    let Some((i, rest)) = line.split_once(' ') else {
                        continue;
                    };
                    let Ok(i) = i.parse::<usize>() else { continue };
                    if i < answers.len() {
                        answers[i] = A::from_line(rest);
                    }
                }
                return Ok(answers
                    .into_iter()
                    .zip(queries)
                    .map(|(a, q)| {
                        a.unwrap_or_else(|| match q {
                            Q::Constant(_) => A::Constant(None),
                            _ => A::Failed("no answer".into()),
                        })
                    })
                    .collect());
            }
            Err((failing, first)) => {
                if failing.is_empty() {
                    // Not one query's fault: a missing header, say.
                    return Err(invalid(format!("the C compiler failed: {first}")));
                }
                for (i, msg) in failing {
                    if !skip[i] {
                        skip[i] = true;
                        answers[i] = Some(match queries[i] {
                            Q::Constant(_) => A::Constant(None),
                            _ => A::Failed(msg),
                        });
                    }
                }
            }
        }
    }
    Err(FfiError::Unsupported("the probe did not converge".into()))
}

fn memory_cache() -> &'static Mutex<HashMap<String, Vec<A>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<A>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn disk_path(cache_dir: &Path, key: &str) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    cache_dir
        .join("probe")
        .join(format!("{:016x}.txt", h.finish()))
}

fn read_disk(path: &Path, key: &str) -> Option<Vec<A>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    lines.map(A::from_line).collect()
}

fn write_disk(path: &Path, key: &str, answers: &[A]) {
    let mut text = format!("{key}\n");
    for a in answers {
        text.push_str(&a.to_line());
        text.push('\n');
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

impl Host for HostState {
    fn run(&mut self, headers: Vec<String>, queries: Vec<Query>) -> Result<Vec<Answer>, FfiError> {
        self.policy.check_module(MODULE)?;
        if headers.len() > MAX_HEADERS || queries.len() > MAX_QUERIES {
            return Err(FfiError::LimitExceeded(format!(
                "at most {MAX_HEADERS} headers and {MAX_QUERIES} queries per probe"
            )));
        }
        for h in &headers {
            check_header(h)?;
        }
        let mut qs = Vec::with_capacity(queries.len());
        for q in &queries {
            qs.push(match q {
                Query::TypeLayout(t) => Q::Type(check_type(t)?),
                Query::Field((t, m)) => {
                    check_member(m)?;
                    Q::Field(check_type(t)?, m.clone())
                }
                Query::Constant(c) => {
                    check_constant(c)?;
                    Q::Constant(c.clone())
                }
                Query::Defined(d) => {
                    check_constant(d)?;
                    Q::Defined(d.clone())
                }
            });
        }
        let key = format!("v1|{}|{}|{:?}", compiler_identity(), headers.join(","), qs);
        if let Some(hit) = memory_cache().lock().unwrap().get(&key) {
            return Ok(hit.iter().map(A::to_wit).collect());
        }
        let path = disk_path(&self.mixed.cache_dir, &key);
        let answers = match read_disk(&path, &key) {
            Some(a) if a.len() == qs.len() => a,
            _ => {
                let a = answer(&headers, &qs)?;
                write_disk(&path, &key, &a);
                a
            }
        };
        let wit = answers.iter().map(A::to_wit).collect();
        memory_cache().lock().unwrap().insert(key, answers);
        Ok(wit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert!(check_header("sys/stat.h").is_ok());
        assert!(check_header("/etc/passwd.h").is_err());
        assert!(check_header("../x.h").is_err());
        assert!(check_header("stdio.h>\n#include <x.h").is_err());
        assert_eq!(check_type("unsigned  long").unwrap(), "unsigned long");
        assert_eq!(check_type("char**").unwrap(), "char * *");
        assert_eq!(check_type("struct stat").unwrap(), "struct stat");
        assert!(check_type("struct stat; int x").is_err());
        assert!(check_type("int)(").is_err());
        assert!(check_type("struct").is_err());
        assert!(check_member("st_atim.tv_sec").is_ok());
        assert!(check_member("a[0]").is_err());
        assert!(check_constant("EINTR").is_ok());
        assert!(check_constant("1+1").is_err());
    }
}
