//! The `libc-math` preset: libc and libm in checked mode, with the
//! read-mostly symbols pinned (see README "Policy").

use anyhow::{anyhow, Result};

use crate::policy::{LibrarySettings, MemoryMode, Policy};

/// libc and libm, checked, with read-mostly symbols pinned.
pub(super) fn libc_math() -> Result<Policy> {
    let facts = wasmffi_native::high::facts::facts();
    let mut policy = Policy::default();
    let mut libm = LibrarySettings::new(MemoryMode::Checked);
    let unary = [
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
        "exp",
        "exp2",
        "expm1",
        "log",
        "log2",
        "log10",
        "log1p",
        "sqrt",
        "cbrt",
        "ceil",
        "floor",
        "trunc",
        "round",
        "rint",
        "nearbyint",
        "fabs",
        "erf",
        "erfc",
        "tgamma",
        "lgamma",
        "logb",
    ];
    let binary = [
        "pow",
        "atan2",
        "fmod",
        "hypot",
        "fmin",
        "fmax",
        "fdim",
        "copysign",
        "remainder",
        "nextafter",
    ];
    let mut sigs: Vec<(String, String)> = Vec::new();
    for f in unary {
        sigs.push((f.into(), "double(double)".into()));
        sigs.push((format!("{f}f"), "float(float)".into()));
    }
    for f in binary {
        sigs.push((f.into(), "double(double, double)".into()));
        sigs.push((format!("{f}f"), "float(float, float)".into()));
    }
    for (f, s) in [
        ("ldexp", "double(double, int)"),
        ("scalbn", "double(double, int)"),
        ("ilogb", "int(double)"),
        ("lround", "long(double)"),
        ("lrint", "long(double)"),
        ("fma", "double(double, double, double)"),
        ("frexp", "double(double, int *exp [1])"),
        ("modf", "double(double, double *iptr [1])"),
        ("remquo", "double(double, double, int *quo [1])"),
    ] {
        sigs.push((f.into(), s.into()));
    }
    for (f, s) in sigs {
        let parsed = crate::policy::csig::parse(&s, &f)
            .map_err(|e| anyhow!("preset libc-math: {f}: {e}"))?;
        libm.signatures.insert(f, (s, parsed));
    }
    libm.symbols = Some(Default::default());

    let mut libc = LibrarySettings::new(MemoryMode::Checked);
    let cmp = "int (*)(const void *, const void *)";
    let mut libc_sigs: Vec<(&str, String)> = vec![
        ("strlen", "size_t(const char *)".into()),
        ("strnlen", "size_t(const char *, size_t)".into()),
        ("strcmp", "int(const char *, const char *)".into()),
        ("strncmp", "int(const char *, const char *, size_t)".into()),
        ("strcasecmp", "int(const char *, const char *)".into()),
        ("strchr", "char *(const char *, int)".into()),
        ("strrchr", "char *(const char *, int)".into()),
        ("strstr", "char *(const char *, const char *)".into()),
        ("strspn", "size_t(const char *, const char *)".into()),
        ("strcspn", "size_t(const char *, const char *)".into()),
        ("strncpy", "char *(char *dst [$3], const char *src, size_t n)".into()),
        ("memcmp", "int(const void *[$3], const void *[$3], size_t)".into()),
        ("memchr", "void *(const void *[$3], int, size_t)".into()),
        ("memcpy", "void *(void *dst [$3], const void *src [$3], size_t n)".into()),
        ("memmove", "void *(void *dst [$3], const void *src [$3], size_t n)".into()),
        ("memset", "void *(void *s [$3], int c, size_t n)".into()),
        ("snprintf", "int(char *buf [$2], size_t n, const char *fmt format, ...)".into()),
        ("strtol", "long(const char *, char **end [1] nullable, int)".into()),
        ("strtoul", "unsigned long(const char *, char **end [1] nullable, int)".into()),
        ("strtoll", "long long(const char *, char **end [1] nullable, int)".into()),
        ("strtoull", "unsigned long long(const char *, char **end [1] nullable, int)".into()),
        ("strtod", "double(const char *, char **end [1] nullable)".into()),
        ("atoi", "int(const char *)".into()),
        ("atol", "long(const char *)".into()),
        ("atof", "double(const char *)".into()),
        ("qsort", format!("void(void *base [$2*$3], size_t n, size_t size, {cmp})")),
        ("bsearch", format!("void *(const void *key [$4], const void *base [$3*$4], size_t n, size_t size, {cmp})")),
        ("abs", "int(int)".into()),
        ("labs", "long(long)".into()),
        ("llabs", "long long(long long)".into()),
        ("rand", "int(void)".into()),
        ("srand", "void(unsigned)".into()),
    ];
    // glibc range-checks these two; the is*() functions index a table with
    // any int and can fault, so they are not here.
    for f in ["toupper", "tolower"] {
        libc_sigs.push((f, "int(int)".into()));
    }
    for (f, s) in libc_sigs {
        let parsed =
            crate::policy::csig::parse(&s, f).map_err(|e| anyhow!("preset libc-math: {f}: {e}"))?;
        libc.signatures.insert(f.to_owned(), (s, parsed));
    }
    // Only pinned symbols. (Not div/ldiv: found by the fuzzer, `div(n, 0)`
    // raises SIGFPE in native code.)
    libc.symbols = Some(Default::default());
    policy = policy.allow_library_with(&facts.libc_soname, libc)?;
    policy = policy.allow_library_with(&facts.libm_soname, libm)?;
    Ok(policy)
}
