//! The sandbox by default (issue 10): without a grant a guest reaches no host
//! memory or code the runtime did not hand out; freed blocks stay put while
//! a native call may use them; deadlines hold inside native code; crashes on
//! native threads are reported; refusals stick. Each test is an attack that
//! succeeded before the fix.

mod common;

use std::time::{Duration, Instant};

use common::{py_script, run, Run, LIBC, TESTLIB};

fn script(name: &str, opts: &[&str], script_args: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.push(py_script(&format!("{name}.py")).display().to_string());
    args.extend(script_args.iter().map(|s| s.to_string()));
    run(args)
}

fn code(opts: &[&str], code: &str) -> Run {
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend(["-c".to_owned(), code.to_owned()]);
    run(args)
}

#[test]
fn the_default_policy_reaches_no_host_memory_or_code() {
    script("sandbox_default", &[], &[]).assert_ok("sandbox_default");
    // Taking the mixed modules away changes nothing.
    script(
        "sandbox_default",
        &["--deny-module", "sqlite3", "--deny-module", "zlib"],
        &[],
    )
    .assert_ok("sandbox_default");
}

#[test]
fn native_isolation_is_confined_too() {
    script("sandbox_default", &["--isolate-native"], &[]).assert_ok("sandbox_default");
}

#[test]
fn raw_memory_is_a_grant() {
    // Explicitly, or implied by a trusted library (ctypes semantics).
    script("sandbox_default", &["--allow-raw-memory"], &["raw"]).assert_ok("sandbox_raw");
    script("sandbox_default", &["--allow-lib", "libm.so.6"], &["raw"]).assert_ok("sandbox_raw");
}

#[test]
fn checked_mode_keeps_a_block_freed_during_the_call_that_uses_it() {
    script("sandbox_checked_free", &["--preset", "libc-math"], &[])
        .assert_ok("sandbox_checked_free");
}

fn timed(opts: &[&str], program: &str) -> (Run, Duration) {
    // The first run of a fresh build compiles the guest (a deadline compiles
    // it with epoch checks): not what is timed.
    code(opts, "pass").assert_code(0);
    let started = Instant::now();
    let r = code(opts, program);
    (r, started.elapsed())
}

/// Budget for the deadline tests: long enough that the guest reaches its
/// native call even on a loaded machine (start-up and `import ctypes` then
/// take over a second), short enough to keep the suite quick.
const BUDGET: &str = "4s";

#[track_caller]
fn assert_deadline(r: &Run, took: Duration) {
    r.assert_code(124);
    r.assert_stderr_contains("time limit of 4.000s");
    // The native call was reached: the deadline met it there, not earlier.
    r.assert_stdout_contains("calling");
    // Four seconds of budget, half a second of grace, slack for a loaded
    // machine: a blocked call without the watchdog never ends at all.
    assert!(
        took < Duration::from_secs(9),
        "took {took:?}\n{}",
        r.describe()
    );
}

#[test]
fn a_deadline_ends_a_native_call_that_blocks() {
    let opts = ["--cpu-time", BUDGET, "--allow-lib", LIBC];
    let program = "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\n\
                   print('calling', flush=True)\nwhile True:\n    libc.pause()\n";
    let (r, took) = timed(&opts, program);
    assert_deadline(&r, took);
    r.assert_stderr_contains("inside native code");
}

#[test]
fn a_deadline_ends_a_native_call_that_spins() {
    let program = format!(
        "import ctypes\nlib = ctypes.CDLL({TESTLIB:?})\nprint('calling', flush=True)\nlib.t_spin_forever()"
    );
    let (r, took) = timed(&["--cpu-time", BUDGET, "--allow-lib", TESTLIB], &program);
    assert_deadline(&r, took);
    r.assert_stderr_contains("inside native code");
}

#[test]
fn a_deadline_ends_a_blocked_isolated_helper_and_the_run() {
    let opts = [
        "--cpu-time",
        BUDGET,
        "--allow-lib",
        LIBC,
        "--isolate-native",
    ];
    let program = "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\nprint('calling', flush=True)\n\
                   try:\n    libc.pause()\n\
                   except OSError as e:\n    print('caught', e, flush=True)\n\
                   while True:\n    pass\n";
    let (r, took) = timed(&opts, program);
    assert_deadline(&r, took);
    // The watchdog killed the helper under the call, and the guest's own
    // deadline stopped the run at its next step: the process was not ended.
    r.assert_stderr_contains("and was stopped");
    assert!(
        !r.stderr.contains("the process was ended"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_crash_on_a_thread_native_code_made_is_reported() {
    let call = format!(
        "import ctypes\nprint('before', flush=True)\nctypes.CDLL({TESTLIB:?}).t_crash_on_thread()\nprint('after')"
    );
    let r = code(&["--allow-lib", TESTLIB], &call);
    r.assert_code(139);
    r.assert_stdout_contains("before");
    assert!(!r.stdout.contains("after"), "{}", r.describe());
    r.assert_stderr_contains(
        "Fatal Python error: Segmentation fault (SIGSEGV) in native code: on a thread that native code created",
    );
}

#[test]
fn a_crash_on_a_native_thread_after_the_call_returned_is_reported() {
    let call = format!(
        "import ctypes, time\nctypes.CDLL({TESTLIB:?}).t_crash_on_thread_later(200)\n\
         print('returned', flush=True)\ntime.sleep(5)\nprint('after')"
    );
    let r = code(&["--allow-lib", TESTLIB], &call);
    r.assert_code(139);
    r.assert_stdout_contains("returned");
    assert!(!r.stdout.contains("after"), "{}", r.describe());
    r.assert_stderr_contains("in native code: on a thread that native code created");
}

#[test]
fn a_refused_mixed_module_stays_refused() {
    let program = "for attempt in range(3):\n\
                   \x20   try:\n\
                   \x20       import _probe\n\
                   \x20   except ImportError as e:\n\
                   \x20       assert 'not allowed by the policy' in str(e), e\n\
                   \x20   else:\n\
                   \x20       raise AssertionError('import %d of _probe succeeded' % attempt)\n\
                   import sys\n\
                   assert '_probe' not in sys.modules\n\
                   print('OK refused')";
    code(&[], program).assert_ok("refused");
}
