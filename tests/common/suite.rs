//! Running a package of CPython 3.11's own tests in the guest, one module per
//! guest process, through tests/common/cpython_suite.py: the parts
//! tests/cpython_ctypes.rs and tests/cpython_zlib.rs share (copying the tests
//! into a private directory, running modules in parallel, reading the runner's
//! stream, the report).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;

use super::{repo_root, run};

/// Where Debian puts CPython 3.11's standard library and test suite.
pub const PY311: &str = "/usr/lib/python3.11";

/// Worker threads (each runs one guest process at a time).
pub const JOBS: usize = 2;

/// The runner, run in the guest (the script's own directory is readable there).
pub fn runner() -> PathBuf {
    repo_root().join("tests/common/cpython_suite.py")
}

pub fn not_installed(suite: &str, what: &str) -> ! {
    panic!(
        "CPython 3.11's {suite} test suite is not installed: {what} is missing.\n\
         Run scripts/setup.sh (it installs the Debian packages python3.11 and \
         libpython3.11-testsuite), then run this test again."
    )
}

/// Copies the `.py` files of `from` (not recursive) into `to`.
pub fn copy_py_files(from: &Path, to: &Path) -> Vec<String> {
    std::fs::create_dir_all(to).expect("creating a directory in the temp dir");
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()))
    {
        let path = entry.expect("reading a directory entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_file() && name.ends_with(".py") {
            std::fs::copy(&path, to.join(name))
                .unwrap_or_else(|e| panic!("copying {}: {e}", path.display()));
            names.push(name.to_owned());
        }
    }
    names.sort();
    names
}

/// A private copy of `test/__init__.py` and `test/support` under `lib`
/// (`wasmffi run --dir` preopens are writable, and the guest must not be able
/// to write into the system's /usr/lib/python3.11), and of the skips file as
/// `lib/skips.toml`.
pub fn copy_support(suite: &str, lib: &Path, skips: &Path) {
    let support = Path::new(PY311).join("test/support");
    if !support.join("__init__.py").is_file() {
        not_installed(suite, &format!("{}/__init__.py", support.display()));
    }
    copy_py_files(&support, &lib.join("test/support"));
    std::fs::copy(
        Path::new(PY311).join("test/__init__.py"),
        lib.join("test/__init__.py"),
    )
    .expect("copying test/__init__.py");
    std::fs::copy(skips, lib.join("skips.toml"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", skips.display()));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Fail,
    Skip,
    NotApplicable,
}

/// One module's run in the guest.
pub struct ModuleRun {
    pub name: String,
    /// Test id -> final status, and the detail of a skip / not-applicable / failure.
    pub tests: BTreeMap<String, (Status, String)>,
    /// Set when the guest died before the module finished (trap, native crash, timeout).
    pub crashed: Option<String>,
    pub log: String,
}

impl ModuleRun {
    pub fn count(&self, status: Status) -> usize {
        self.tests.values().filter(|(s, _)| *s == status).count()
    }
}

/// Runs `wasmffi <args>` (which runs the runner with `--only name --stream`)
/// and reads its stream of per-test lines.
pub fn run_module(name: &str, args: &[String]) -> ModuleRun {
    let r = run(args);
    assert!(
        r.stdout.contains("CPython tests of "),
        "the runner did not start (set-up error)\n{}",
        r.describe()
    );

    let mut tests: BTreeMap<String, (Status, String)> = BTreeMap::new();
    let mut running: Option<String> = None;
    let mut causes: BTreeMap<String, String> = BTreeMap::new();
    for line in r.stdout.lines() {
        if let Some(rest) = line.strip_prefix("    FAIL ") {
            if let Some((id, cause)) = rest.split_once(": ") {
                causes.insert(id.to_owned(), cause.to_owned());
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("@@ ") else {
            continue;
        };
        let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let (id, detail) = match rest.split_once(" :: ") {
            Some((id, detail)) => (id.to_owned(), detail.to_owned()),
            None => (rest.to_owned(), String::new()),
        };
        let status = match kind {
            "RUN" => {
                running = Some(id);
                continue;
            }
            "PASS" => Status::Pass,
            "FAIL" => Status::Fail,
            "SKIP" => Status::Skip,
            "N/A" => Status::NotApplicable,
            _ => continue,
        };
        if running.as_deref() == Some(id.as_str()) {
            running = None;
        }
        // A test that failed once (a subtest) stays failed.
        let e = tests.entry(id).or_insert((status, detail.clone()));
        if e.0 != Status::Fail {
            *e = (status, detail);
        }
    }
    for (id, cause) in causes {
        if let Some(e) = tests.get_mut(&id) {
            if e.0 == Status::Fail {
                e.1 = cause;
            }
        }
    }
    // Died before its summary: a trap, a native crash, a timeout. (The exit
    // status alone does not say: the runner's work is done once it printed it.)
    let finished = r.stdout.lines().any(|l| l.starts_with("Summary: "));
    let crashed = if finished {
        None
    } else {
        let last_err = r
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let why = format!(
            "the guest died ({}{}): {last_err}",
            r.status,
            if r.timed_out { ", timed out" } else { "" }
        );
        let id = running.unwrap_or_else(|| name.to_owned());
        tests.insert(id, (Status::Fail, why.clone()));
        Some(why)
    };
    ModuleRun {
        name: name.to_owned(),
        tests,
        crashed,
        log: format!("{}\n", r.describe()),
    }
}

/// Runs every module through `run_one`, `JOBS` at a time; sorted by name.
pub fn run_modules(
    modules: &[String],
    run_one: impl Fn(&str) -> ModuleRun + Sync,
) -> Vec<ModuleRun> {
    let queue = Mutex::new(modules.to_vec());
    let results = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..JOBS.min(modules.len()) {
            s.spawn(|| loop {
                let Some(name) = queue.lock().unwrap().pop() else {
                    break;
                };
                let r = run_one(&name);
                results.lock().unwrap().push(r);
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}

/// What a suite's run came to.
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub report: String,
    pub log_path: PathBuf,
}

/// Counts, prints the report (`--no-capture`) and writes it, with every
/// module's full output, to `$CARGO_TARGET_TMPDIR/<suite>-report.txt`.
/// `skips` names the skips file in the report.
pub fn report(suite: &str, skips: &str, results: &[ModuleRun]) -> Totals {
    let mut report = String::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut own_skips: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut not_applicable: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for m in results {
        let (p, f) = (m.count(Status::Pass), m.count(Status::Fail));
        let s = m.count(Status::Skip) + m.count(Status::NotApplicable);
        passed += p;
        failed += f;
        skipped += s;
        let _ = writeln!(
            report,
            "{}: {p} passed, {f} failed, {s} skipped{}",
            m.name,
            if m.crashed.is_some() {
                " (CRASHED)"
            } else {
                ""
            }
        );
        for (id, (status, detail)) in &m.tests {
            match status {
                Status::Fail => failures.push(format!("{id}: {detail}")),
                Status::Skip => own_skips
                    .entry(detail.clone())
                    .or_default()
                    .push(id.clone()),
                Status::NotApplicable => not_applicable
                    .entry(detail.clone())
                    .or_default()
                    .push(id.clone()),
                Status::Pass => {}
            }
        }
    }
    let _ = writeln!(report, "\n---- failures ({failed})");
    for f in &failures {
        let short: String = f.chars().take(240).collect();
        let _ = writeln!(report, "FAIL {short}");
    }
    let _ = writeln!(report, "\n---- not applicable ({skips})");
    for (group, ids) in &not_applicable {
        let _ = writeln!(
            report,
            "{} tests: {group}\n    {}",
            ids.len(),
            ids.join(", ")
        );
    }
    let _ = writeln!(report, "\n---- skipped by the tests themselves");
    for (reason, ids) in &own_skips {
        let _ = writeln!(
            report,
            "{} tests: {reason}\n    {}",
            ids.len(),
            ids.join(", ")
        );
    }
    let _ = writeln!(
        report,
        "\n{suite}: {passed} passed, {failed} failed, {skipped} skipped"
    );

    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{suite}-report.txt"));
    let mut log = report.clone();
    log.push_str("\n\n==================== every module's run ====================\n");
    for m in results {
        log.push_str(&m.log);
    }
    let _ = std::fs::write(&log_path, log);
    println!(
        "{report}\n(full output with tracebacks: {})",
        log_path.display()
    );
    Totals {
        passed,
        failed,
        skipped,
        report,
        log_path,
    }
}

impl Totals {
    /// The suite ran (at least `min_total` tests reported) and at least
    /// `baseline` passed: fewer is a regression.
    #[track_caller]
    pub fn check(&self, min_total: usize, baseline: usize) {
        let total = self.passed + self.failed + self.skipped;
        assert!(
            total >= min_total,
            "the suite did not run: only {total} tests reported\n{}",
            self.report
        );
        assert!(
            self.passed >= baseline,
            "regression: {} tests passed, the baseline is {baseline}\n{}\n\
             (full output: {})",
            self.passed,
            self.report,
            self.log_path.display()
        );
    }
}
