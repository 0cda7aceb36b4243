//! Integration tests of the mixed modules (typed host interfaces): sqlite3 on
//! the host's libsqlite3, zlib on the host's libz, and platform probing with
//! the host's C compiler. Each runs a program from tests/py/ in the guest
//! against the real libraries, checks results with `assert`, and prints
//! `OK <name>`. Ground truth comes from the host: CPython's zlib (python3)
//! for zlib, a C program compiled here for the probe.

mod common;

use std::path::Path;
use std::process::Command;

use common::{py_script, run, Run, TempDir, LIBC};

fn script_args(name: &str, opts: &[&str], args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["run".into()];
    v.extend(opts.iter().map(|s| s.to_string()));
    v.push(
        py_script(&format!("{name}.py"))
            .to_string_lossy()
            .into_owned(),
    );
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

fn run_script(name: &str, opts: &[&str], args: &[&str]) -> Run {
    run(script_args(name, opts, args))
}

fn dir_arg(dir: &Path, guest: &str) -> String {
    format!("{}::{guest}", dir.display())
}

// ------------------------------------------------------------------ sqlite3

/// A realistic program: schema, inserts, transactions, errors, a database
/// under a preopened directory that persists across two runs, and paths
/// outside the directory refused.
#[test]
fn sqlite_app_persists_across_runs() {
    let tmp = TempDir::new("sqlite-app");
    let dir = dir_arg(tmp.path(), "/data");
    run_script("sqlite_app", &["--dir", &dir], &["/data", "first"]).assert_ok("sqlite_app first");
    assert!(
        tmp.path().join("inventory.db").is_file(),
        "the database is a host file"
    );
    assert!(
        tmp.path().join("side.db").is_file(),
        "ATTACH inside the directory created side.db"
    );
    for outside in [
        "/tmp/wasmffi-outside.db",
        "/tmp/wasmffi-attach.db",
        "/tmp/wasmffi-vacuum.db",
    ] {
        assert!(
            !Path::new(outside).exists(),
            "{outside} was created outside the sandbox"
        );
    }
    assert!(!tmp.path().parent().unwrap().join("escape.db").exists());
    run_script("sqlite_app", &["--dir", &dir], &["/data", "second"]).assert_ok("sqlite_app second");
}

#[test]
fn sqlite_dbapi() {
    run_script("sqlite_dbapi", &[], &[]).assert_ok("sqlite_dbapi");
}

/// A read-only preopen gives a read-only database.
#[test]
fn sqlite_readonly_dir() {
    let tmp = TempDir::new("sqlite-ro");
    let db = tmp.path().join("ro.db");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             c.execute('create table t(x)'); c.execute('insert into t values (42)'); c.commit()",
        ])
        .arg(&db)
        .status()
        .expect("python3");
    assert!(status.success());
    // Preopened read-only: the script's own directory is, so put the db there.
    let script = tmp.write(
        "ro.py",
        "import sqlite3, os\n\
         c = sqlite3.connect(os.path.join(os.path.dirname(__file__), 'ro.db'))\n\
         assert c.execute('select x from t').fetchone() == (42,)\n\
         try:\n    c.execute('insert into t values (1)')\n\
         except sqlite3.OperationalError as e:\n    assert 'readonly' in str(e), e\n\
         else:\n    raise SystemExit('wrote to a read-only directory')\n\
         print('OK ro')\n",
    );
    run(["run".to_string(), script.display().to_string()]).assert_ok("ro");
}

#[test]
fn sqlite_denied_by_policy() {
    let r = run([
        "run",
        "--deny-module",
        "sqlite3",
        "-c",
        "try:\n    import sqlite3\nexcept ImportError as e:\n    assert 'not allowed' in str(e), e\n    print('OK denied')\n",
    ]);
    r.assert_ok("denied");
}

// --------------------------------------------------------------------- zlib

/// The guest's zlib against CPython's, with fixtures CPython writes now.
#[test]
fn zlib_against_cpython() {
    let tmp = TempDir::new("zlib");
    let out = Command::new("python3")
        .arg(py_script("zlib_fixtures.py"))
        .arg(tmp.path())
        .output()
        .expect("running python3 for the zlib fixtures");
    assert!(
        out.status.success(),
        "zlib_fixtures.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = dir_arg(tmp.path(), "/fixtures");
    run_script("zlib_compat", &["--dir", &dir], &["/fixtures"]).assert_ok("zlib_compat");
}

#[test]
fn zlib_denied_by_policy() {
    let r = run([
        "run",
        "--deny-module",
        "zlib",
        "-c",
        "try:\n    import zlib\nexcept ImportError as e:\n    print('refused:', e)\n    \
         print('OK denied')\n",
    ]);
    r.assert_ok("denied");
    r.assert_stdout_contains("--deny-module zlib");
}

// -------------------------------------------------------------------- probe

/// What the host compiler says, from a C program compiled here: the ground
/// truth the guest's probe answers are checked against.
fn probe_truth(dir: &Path) {
    let file = dir.join("sized.bin");
    std::fs::write(&file, vec![7u8; 12345]).unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    let mtime = meta.mtime();
    let types = [
        ("char", true),
        ("short", true),
        ("int", true),
        ("unsigned int", false),
        ("long", true),
        ("unsigned long", false),
        ("long long", true),
        ("size_t", false),
        ("ssize_t", true),
        ("time_t", true),
        ("off_t", true),
        ("int8_t", true),
        ("uint16_t", false),
        ("uint64_t", false),
        ("wchar_t", true),
    ];
    let floats = [
        "float",
        "double",
        "long double",
        "void *",
        "struct stat",
        "struct tm",
    ];
    let stat = [
        "st_dev",
        "st_ino",
        "st_mode",
        "st_nlink",
        "st_uid",
        "st_gid",
        "st_size",
        "st_blksize",
        "st_blocks",
        "st_atim.tv_sec",
        "st_mtim.tv_sec",
        "st_mtim.tv_nsec",
    ];
    let tm = [
        "tm_sec",
        "tm_min",
        "tm_hour",
        "tm_mday",
        "tm_mon",
        "tm_year",
        "tm_wday",
        "tm_yday",
        "tm_isdst",
        "tm_gmtoff",
        "tm_zone",
    ];
    let constants = [
        "EINTR",
        "ENOENT",
        "EAGAIN",
        "O_CREAT",
        "O_RDWR",
        "O_NONBLOCK",
        "SEEK_END",
        "BUFSIZ",
        "CLOCK_MONOTONIC",
        "SOCK_STREAM",
        "AF_INET",
        "INT_MIN",
        "LLONG_MIN",
        "ULLONG_MAX",
    ];
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <errno.h>\n\
         #include <fcntl.h>\n#include <limits.h>\n#include <time.h>\n#include <sys/types.h>\n\
         #include <sys/stat.h>\n#include <sys/socket.h>\n#include <wchar.h>\n\
         #define ALIGN(T) offsetof(struct { char c; T x; }, x)\n\
         int main(void) {\n  printf(\"{\\\"types\\\": {\");\n",
    );
    let mut first = true;
    for (t, signed) in types {
        let sep = if first { "" } else { ", " };
        first = false;
        c.push_str(&format!(
            "  printf(\"{sep}\\\"{t}\\\": [%zu, %zu, %s]\", sizeof({t}), ALIGN({t}), ((({t})-1) < 0) ? \"true\" : \"false\");\n"
        ));
        let _ = signed;
    }
    for t in &floats[..4] {
        c.push_str(&format!(
            "  printf(\", \\\"{t}\\\": [%zu, %zu, null]\", sizeof({t}), ALIGN({t}));\n"
        ));
    }
    c.push_str("  printf(\"}, \\\"sizes\\\": {\");\n");
    c.push_str(&format!(
        "  printf(\"\\\"struct stat\\\": %zu, \\\"struct tm\\\": %zu\", sizeof(struct stat), sizeof(struct tm));\n"
    ));
    for (name, ty, members) in [
        ("stat", "struct stat", &stat[..]),
        ("tm", "struct tm", &tm[..]),
    ] {
        c.push_str(&format!("  printf(\"}}, \\\"{name}\\\": {{\");\n"));
        for (i, m) in members.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            c.push_str(&format!(
                "  printf(\"{sep}\\\"{m}\\\": [%zu, %zu]\", offsetof({ty}, {m}), sizeof((({ty} *)0)->{m}));\n"
            ));
        }
    }
    c.push_str("  printf(\"}, \\\"constants\\\": {\");\n");
    for (i, k) in constants.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        c.push_str(&format!(
            "  if (({k}) < 0) printf(\"{sep}\\\"{k}\\\": %lld\", (long long)({k})); \
             else printf(\"{sep}\\\"{k}\\\": %llu\", (unsigned long long)({k}));\n"
        ));
    }
    c.push_str(&format!(
        "  printf(\"}}, \\\"file\\\": \\\"{}\\\", \\\"file_size\\\": 12345, \\\"file_mtime\\\": {mtime}}}\\n\");\n  return 0;\n}}\n",
        file.display()
    ));
    let src = dir.join("truth.c");
    std::fs::write(&src, c).unwrap();
    let exe = dir.join("truth");
    let cc = Command::new(common::c_compiler())
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("running cc");
    assert!(
        cc.status.success(),
        "truth.c: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().expect("running truth");
    assert!(out.status.success());
    std::fs::write(dir.join("truth.json"), &out.stdout).unwrap();
}

/// Runs `script` with `_probe` allowed and the compiler's own answers
/// (truth.json) in a preopened directory passed as argv[1].
fn run_probe_script(script: &str, name: &str) {
    let tmp = TempDir::new(name);
    probe_truth(tmp.path());
    let dir = dir_arg(tmp.path(), &tmp.path().display().to_string());
    let r = run([
        "run".to_string(),
        "--allow-probe".into(),
        "--allow-lib".into(),
        LIBC.into(),
        "--dir".into(),
        dir,
        py_script(script).display().to_string(),
        tmp.path().display().to_string(),
    ]);
    r.assert_ok(name);
}

#[test]
fn probe_layouts_match_the_compiler() {
    run_probe_script("probe_layout.py", "probe_layout");
}

/// The same layouts as ctypes Structures, used to call stat() and gmtime_r().
#[test]
fn probe_ctypes_structures() {
    run_probe_script("probe_ctypes.py", "probe_ctypes");
}

/// Probing runs the host's compiler: off unless --allow-probe.
#[test]
fn probe_is_off_by_default() {
    let r = run([
        "run",
        "-c",
        "try:\n    import _probe\nexcept ImportError as e:\n    assert '--allow-probe' in str(e), e\n    print('OK off')\n",
    ]);
    r.assert_ok("off");
}
