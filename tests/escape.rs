//! The escape suite: a guest trying to get out of its policy (libraries,
//! symbols, pinned signatures, checked memory) and past its limits (handles,
//! native memory, linear memory, time). Every attempt must end in a clear
//! Python exception or a clear message and exit status, and the host must
//! stay alive and consistent.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{py_script, repo_root, run, TempDir, LIBC, LIBM, TESTLIB};

/// The real path of the host's libc, as the loader maps it.
fn libc_real_path() -> PathBuf {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("reading /proc/self/maps");
    let path = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            let name = p.rsplit('/').next().unwrap_or("");
            name == LIBC || (name.starts_with("libc-") && name.ends_with(".so"))
        })
        .expect("libc mapped into the test process");
    PathBuf::from(path)
        .canonicalize()
        .expect("libc's real path")
}

fn script_args(name: &str, opts: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.push(
        py_script(&format!("{name}.py"))
            .to_string_lossy()
            .into_owned(),
    );
    args
}

#[test]
fn libraries_outside_the_policy_stay_closed() {
    let tmp = TempDir::new("escape-libs");
    let testlib = PathBuf::from(TESTLIB).canonicalize().unwrap();
    let libc = libc_real_path();
    let link_ok = tmp.path().join("libok.so");
    let link_bad = tmp.path().join("libm.so.6");
    std::os::unix::fs::symlink(&testlib, &link_ok).unwrap();
    std::os::unix::fs::symlink(&libc, &link_bad).unwrap();
    let env = |k: &str, v: &std::path::Path| format!("{k}={}", v.display());
    let envs = [
        env("WASMFFI_TESTLIB", &testlib),
        env("ESCAPE_LIBC_PATH", &libc),
        env("ESCAPE_LINK_OK", &link_ok),
        env("ESCAPE_LINK_BAD", &link_bad),
    ];
    let mut opts = vec!["--allow-lib", LIBM, "--allow-lib", TESTLIB];
    for e in &envs {
        opts.extend(["--env", e.as_str()]);
    }
    run(script_args("escape_libraries", &opts)).assert_ok("escape_libraries");
}

#[test]
fn forbidden_symbols_and_pinned_signatures() {
    run(script_args("escape_symbols", &["--preset", "libc-math"])).assert_ok("escape_symbols");
}

#[test]
fn checked_memory_refuses_forged_pointers() {
    let policy = py_script("escape_policy.toml");
    let policy = policy.to_string_lossy();
    run(script_args("escape_checked", &["--policy", &policy])).assert_ok("escape_checked");
}

#[test]
fn handle_and_native_memory_limits() {
    run(script_args(
        "escape_limits",
        &[
            "--allow-lib",
            LIBC,
            "--max-libraries",
            "3",
            "--max-handles",
            "200",
            "--max-callbacks",
            "5",
            "--max-native-memory",
            "1MiB",
        ],
    ))
    .assert_ok("escape_limits");
}

#[test]
fn runaway_loop_ends_at_the_deadline() {
    // The deadline must leave room for start-up: ~0.1 s natively, 2-3 s
    // under qemu-user.
    let limit: u64 = if common::emulator().is_some() { 10 } else { 1 };
    // A program that finishes in time is unaffected. Run first, it also
    // compiles the guest for an engine with a deadline (20-30 s on a cold
    // cache and a busy machine), which must not count against the loop's time.
    run(["run", "--cpu-time", "30s", "-c", "print('OK quick')"]).assert_ok("quick");
    let start = Instant::now();
    let r = run([
        "run",
        "--cpu-time",
        &format!("{limit}s"),
        "-c",
        "print('start', flush=True)\nwhile True:\n    pass\n",
    ]);
    let took = start.elapsed();
    r.assert_code(124);
    r.assert_stdout_contains("start");
    r.assert_stderr_contains(&format!("time limit of {limit}.000s"));
    assert!(
        took < Duration::from_secs(19 + limit),
        "took {took:?}\n{}",
        r.describe()
    );
}

#[test]
fn memory_bombs_hit_the_linear_memory_cap() {
    // One huge object: Python raises MemoryError (or OverflowError on wasm32).
    let r = run([
        "run",
        "--max-memory",
        "256MiB",
        "-c",
        "try:\n    b'x' * (1 << 33)\nexcept (MemoryError, OverflowError) as e:\n    print('caught', type(e).__name__)\nprint('OK huge')\n",
    ]);
    r.assert_ok("huge");
    // A growing list: MemoryError, or the run ends with a clear message.
    let r = run([
        "run",
        "--max-memory",
        "256MiB",
        "-c",
        "x = []\ntry:\n    while True:\n        x.append(b'x' * (1 << 20))\nexcept MemoryError:\n    del x\n    print('OK bomb')\n",
    ]);
    if r.code() == Some(0) {
        r.assert_ok("bomb");
    } else {
        r.assert_code(125);
        r.assert_stderr_contains("limits.linear_memory");
    }
}

#[test]
fn deep_recursion_is_a_recursion_error() {
    run([
        "run",
        "-c",
        "def f():\n    f()\ntry:\n    f()\nexcept RecursionError:\n    print('OK recursion')\n",
    ])
    .assert_ok("recursion");
}

#[test]
fn policy_files_are_validated_with_line_and_reason() {
    let tmp = TempDir::new("escape-policy");
    let bad = tmp.write(
        "bad.toml",
        "[[library]]\nname = \"libc.so.6\"\n[library.signatures]\nstrlen = \"size_t(const char *\"\n",
    );
    let r = run(["policy", "check", bad.to_str().unwrap()]);
    r.assert_code(2);
    r.assert_stderr_contains("bad.toml:4:");
    r.assert_stderr_contains("strlen");
    let unknown = tmp.write("unknown.toml", "[limits]\ncpu = 3\n");
    let r = run(["policy", "check", unknown.to_str().unwrap()]);
    r.assert_code(2);
    r.assert_stderr_contains("unknown.toml:2:1");
    r.assert_stderr_contains("unknown field");
    let r = run(["run", "--policy", unknown.to_str().unwrap(), "-c", "pass"]);
    r.assert_code(2);
    r.assert_stderr_contains("unknown.toml:2:1");
    let preset = tmp.write("preset.toml", "extends = \"everything\"\n");
    let r = run(["policy", "check", preset.to_str().unwrap()]);
    r.assert_code(2);
    r.assert_stderr_contains("unknown preset");

    // Every shipped example is valid, and `show` prints a policy that checks.
    let examples = repo_root().join("examples").join("policies");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/policies") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            seen += 1;
            let r = run(["policy", "check", path.to_str().unwrap()]);
            r.assert_code(0);
            let shown = run(["policy", "show", "--policy", path.to_str().unwrap()]);
            shown.assert_code(0);
            let again = tmp.write("shown.toml", &shown.stdout);
            run(["policy", "check", again.to_str().unwrap()]).assert_code(0);
        }
    }
    assert!(
        seen >= 3,
        "expected example policies in {}",
        examples.display()
    );
    let r = run(["policy", "show", "--preset", "libc-math", "--cpu-time", "5"]);
    r.assert_code(0);
    r.assert_stdout_contains("cpu_time = \"5s\"");
    r.assert_stdout_contains("memory = \"checked\"");
}
