# Runs a package of CPython 3.11's own tests (Debian's libpython3.11-testsuite) in
# the wasmffi guest: `ctypes.test` against the guest's ctypes (tests/cpython_ctypes.rs),
# `test.test_zlib` against the guest's zlib (tests/cpython_zlib.rs). By hand:
#
#   wasmffi run --allow-lib libc.so.6 --allow-lib libm.so.6 \
#       --allow-lib $CTYPES_TEST_SO --allow-lib $PYSTUB \
#       --dir /usr/lib/python3.11 --dir $WORK::/work \
#       tests/common/cpython_suite.py --lib-root /usr/lib/python3.11 \
#       --skips tests/cpython_ctypes/skips.toml \
#       --ctypes-test-so $CTYPES_TEST_SO --pystub $PYSTUB --workdir /work
#
#   wasmffi run --dir $LIB --dir $WORK::/work tests/common/cpython_suite.py \
#       --lib-root $LIB --package test --only test_zlib --skips tests/cpython_zlib/skips.toml
#
# ($LIB: a copy of test/__init__.py, test/support/ and test/test_zlib.py.)
#
# What it does, and nothing more: makes the package (`ctypes.test` by default) and
# `test` (for test.support) importable from the preopened directory; for ctypes,
# stands up a `_ctypes_test` module whose `__file__` is the real helper library
# (loading the C-API stub with RTLD_GLOBAL first so that it dlopens); runs every
# test_*.py module of the package with unittest, and reports. Tests listed in the
# skips file (whole groups that do not apply to this runtime, each with its
# reason) are not run.
#
# Output: one line per module, the failures with their tracebacks, the skip
# reasons, then the summary line `Summary: N passed, N failed, N skipped`.
# Exit status 0 whenever the suite ran to the end (the Rust test compares the
# numbers with its baseline), 2 on a set-up error.

import fnmatch
import importlib.machinery
import importlib.util
import os
import re
import sys
import time
import tomllib
import traceback
import types
import unittest

USAGE = """usage: cpython_suite.py --lib-root DIR --skips FILE [--package PKG]
                    [--ctypes-test-so PATH --pystub PATH]
                    [--workdir DIR] [--only MODULE[,MODULE...]] [-v] [--stream]

--package is the test package (default ctypes.test; `test` for test_zlib).

--stream prints a machine-readable line per test as it happens (`@@ RUN id`, then
`@@ PASS id`, `@@ FAIL id`, `@@ SKIP id :: reason` or `@@ N/A id :: group :: reason`),
so that a run that dies (a trap, a native crash) still tells what ran."""


def parse_args(argv):
    opts = {
        "lib_root": None,
        "ctypes_test_so": None,
        "pystub": None,
        "package": "ctypes.test",
        "skips": None,
        "workdir": None,
        "only": None,
        "verbose": False,
        "stream": False,
    }
    it = iter(argv)
    for arg in it:
        if arg in ("-v", "--verbose"):
            opts["verbose"] = True
            continue
        if arg == "--stream":
            opts["stream"] = True
            continue
        key = arg.lstrip("-").replace("-", "_")
        if not arg.startswith("--") or key not in opts:
            raise SystemExit(f"cpython_suite.py: unknown argument {arg!r}\n{USAGE}")
        try:
            opts[key] = next(it)
        except StopIteration:
            raise SystemExit(f"cpython_suite.py: {arg} needs a value\n{USAGE}")
    required = ["lib_root", "skips"]
    if opts["package"] == "ctypes.test":
        required += ["ctypes_test_so", "pystub"]
    for key in required:
        if not opts[key]:
            raise SystemExit(f"cpython_suite.py: --{key.replace('_', '-')} is required\n{USAGE}")
    return opts


class PackageFinder:
    """Maps exactly the test package and `test` to directories.

    The guest's standard library zip leaves out `ctypes.test` and the `test`
    package; this finder answers for these package names only, and their
    submodules are then found the ordinary way through the packages'
    `__path__`."""

    def __init__(self, packages):
        self.packages = packages  # name -> directory

    def find_spec(self, fullname, path=None, target=None):
        directory = self.packages.get(fullname)
        if directory is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname,
            os.path.join(directory, "__init__.py"),
            submodule_search_locations=[directory],
        )


def install_packages(lib_root, package):
    package_dir = os.path.join(lib_root, *package.split("."))
    test_dir = os.path.join(lib_root, "test")
    for d in (package_dir, os.path.join(test_dir, "support")):
        if not os.path.isfile(os.path.join(d, "__init__.py")):
            raise SystemExit(
                f"cpython_suite.py: {d}/__init__.py is not visible in the guest: is "
                "libpython3.11-testsuite installed (scripts/setup.sh) and its "
                "directory preopened with --dir?"
            )
    sys.meta_path.insert(0, PackageFinder({package: package_dir, "test": test_dir}))
    return package_dir


def install_ctypes_test_module(so_path, stub_path):
    """`import _ctypes_test` as the tests use it: only `__file__` matters
    (they all do `CDLL(_ctypes_test.__file__)`)."""
    import ctypes

    # _ctypes_test.so is a CPython extension module: it references a few
    # C-API symbols that the stub defines. RTLD_GLOBAL makes them visible to
    # libraries loaded afterwards. Keep the handle for the whole run.
    stub = ctypes.CDLL(stub_path, mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(so_path)  # fail here, clearly, rather than in every module
    mod = types.ModuleType("_ctypes_test")
    mod.__file__ = so_path
    mod._wasmffi_pystub = stub
    sys.modules["_ctypes_test"] = mod


def load_skips(path):
    """skips.toml: [[group]] name, reason, tests = [patterns]. A pattern is a
    module (`test_python_api`), a class (`test_x.SomeTestCase`), a test
    (`test_x.SomeTestCase.test_y`) or an fnmatch pattern over test ids."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    groups = []
    for g in doc.get("group", []):
        for key in ("name", "reason", "tests"):
            if key not in g:
                raise SystemExit(f"cpython_suite.py: {path}: a [[group]] lacks {key!r}")
        unknown = set(g) - {"name", "reason", "tests"}
        if unknown:
            raise SystemExit(f"cpython_suite.py: {path}: group {g['name']!r}: unknown keys {sorted(unknown)}")
        groups.append(g)
    return groups


def match_skip(groups, test_id):
    for g in groups:
        for pat in g["tests"]:
            if test_id == pat or test_id.startswith(pat + ".") or fnmatch.fnmatchcase(test_id, pat):
                return g
    return None


def module_skipped(groups, module):
    """A group naming the whole module: do not even import it."""
    for g in groups:
        if module in g["tests"]:
            return g
    return None


PACKAGE = "ctypes.test"


def short_id(test):
    """test_x.Class.method, relative to the test package."""
    tid = test.id()
    prefix = PACKAGE + "."
    return tid[len(prefix):] if tid.startswith(prefix) else tid


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


STREAM = False


def stream(line):
    if STREAM:
        print("@@ " + line, flush=True)


class Result(unittest.TestResult):
    """Collects (status, test id, detail) per test."""

    def __init__(self):
        super().__init__()
        self.records = []

    def startTest(self, test):
        super().startTest(test)
        stream(f"RUN {short_id(test)}")

    def _add(self, status, test, detail=""):
        self.records.append((status, short_id(test), detail))
        if status == "skip":
            stream(f"SKIP {short_id(test)} :: {detail}")
        elif status == "fail":
            stream(f"FAIL {short_id(test)} :: {first_line(detail)}")
        else:
            stream(f"{status.upper()} {short_id(test)}")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add("pass", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add("fail", test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        # setUpModule/setUpClass errors arrive as _ErrorHolder objects
        self._add("fail", test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add("skip", test, reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add("pass", test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add("fail", test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        # a failing subtest fails its test (recorded once, by the test id)
        if err is not None:
            if issubclass(err[0], test.failureException):
                super().addFailure(subtest, err)
            else:
                super().addError(subtest, err)
            self._add("fail", test, f"{subtest.id()}:\n" + self._exc_info_to_string(err, test))


def one_line(text):
    return " ".join(text.split())


EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure)\b")


def first_line(detail):
    """The exception line of a traceback, for the per-module listing."""
    lines = [l for l in detail.strip().splitlines() if l.strip()]
    last_tb = max((i for i, l in enumerate(lines) if l.startswith("Traceback")), default=0)
    for l in lines[last_tb:]:
        if EXC_LINE.match(l):
            return l[:200]
    for l in reversed(lines):
        if not l.startswith(" "):
            return l[:200]
    return lines[-1][:200] if lines else ""


def run_module(name, groups):
    """Import and run one test module; returns records (status, id, detail)."""
    records = []
    try:
        module = importlib.import_module(PACKAGE + "." + name)
    except unittest.SkipTest as e:
        stream(f"SKIP {name} :: module skipped: {e}")
        return [("skip", name, f"module skipped: {e}")]
    except BaseException as e:  # an import failure fails the module as a whole
        if isinstance(e, KeyboardInterrupt):
            raise
        g = module_skipped(groups, name)
        if g is not None:  # ... unless the whole module does not apply anyway
            stream(f"N/A {name} :: {g['name']} :: {one_line(g['reason'])}")
            return [("n/a", name, g["name"])]
        detail = "import failed:\n" + traceback.format_exc()
        stream(f"FAIL {name} :: {first_line(detail)}")
        return [("fail", name, detail)]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    to_run = unittest.TestSuite()
    for test in iter_tests(suite):
        g = match_skip(groups, short_id(test))
        if g is not None:
            stream(f"N/A {short_id(test)} :: {g['name']} :: {one_line(g['reason'])}")
            records.append(("n/a", short_id(test), g["name"]))
        else:
            to_run.addTest(test)
    # Run through a suite so that setUpModule/setUpClass happen as usual.
    result = Result()
    unittest.TestSuite([to_run]).run(result)
    # A test that failed in a subtest and then "passed" is a failure.
    failed = {tid for status, tid, _ in result.records if status == "fail"}
    for status, tid, detail in result.records:
        if status == "pass" and tid in failed:
            continue
        records.append((status, tid, detail))
    # fold repeated failure records of one test (several failing subtests)
    seen = {}
    out = []
    for rec in records:
        if rec[0] == "fail" and rec[1] in seen:
            prev = out[seen[rec[1]]]
            out[seen[rec[1]]] = (prev[0], prev[1], prev[2] + "\n" + rec[2])
            continue
        if rec[0] == "fail":
            seen[rec[1]] = len(out)
        out.append(rec)
    return out


def main():
    global STREAM, PACKAGE
    opts = parse_args(sys.argv[1:])
    STREAM = opts["stream"]
    PACKAGE = opts["package"]
    # The test directories are read-only or private copies; never write
    # bytecode next to them either way.
    sys.dont_write_bytecode = True
    groups = load_skips(opts["skips"])
    package_dir = install_packages(opts["lib_root"], PACKAGE)
    if opts["ctypes_test_so"]:
        install_ctypes_test_module(opts["ctypes_test_so"], opts["pystub"])
    if opts["workdir"]:
        # os_helper.TESTFN and tempfile go here (a writable preopen)
        os.chdir(opts["workdir"])
        os.environ.setdefault("TMPDIR", opts["workdir"])

    modules = sorted(
        f[:-3] for f in os.listdir(package_dir) if f.startswith("test_") and f.endswith(".py")
    )
    if opts["only"]:
        wanted = opts["only"].split(",")
        modules = [m for m in modules if m in wanted]

    totals = {"pass": 0, "fail": 0, "skip": 0, "n/a": 0}
    failures = []  # (id, detail)
    skip_reasons = {}  # reason -> [ids]
    na_groups = {}  # group name -> [ids]
    started = time.monotonic()
    print(f"CPython tests of {PACKAGE} from {package_dir} ({len(modules)} modules)", flush=True)
    for name in modules:
        t0 = time.monotonic()
        records = run_module(name, groups)
        counts = {"pass": 0, "fail": 0, "skip": 0, "n/a": 0}
        for status, tid, detail in records:
            counts[status] += 1
            totals[status] += 1
            if status == "fail":
                failures.append((tid, detail))
            elif status == "skip":
                skip_reasons.setdefault(detail, []).append(tid)
            elif status == "n/a":
                na_groups.setdefault(detail, []).append(tid)
        print(
            f"{name}: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['skip'] + counts['n/a']} skipped ({time.monotonic() - t0:.1f}s)",
            flush=True,
        )
        for status, tid, detail in records:
            if status == "fail":
                print(f"    FAIL {tid}: {first_line(detail)}", flush=True)
            elif opts["verbose"]:
                print(f"    {status.upper()} {tid}{': ' + detail if detail else ''}", flush=True)

    if failures:
        print("\n==================== failures ====================")
        for tid, detail in failures:
            print(f"---- {tid}")
            print(detail.rstrip())
    print("\n==================== skipped ====================")
    by_name = {g["name"]: g for g in groups}
    for name, ids in na_groups.items():
        print(f"not applicable: {name} ({len(ids)}): {one_line(by_name[name]['reason'])}")
        print("    " + ", ".join(ids))
    for reason, ids in sorted(skip_reasons.items(), key=lambda kv: -len(kv[1])):
        print(f"skipped by the test itself ({len(ids)}): {reason}")
        print("    " + ", ".join(ids))
    skipped = totals["skip"] + totals["n/a"]
    print(
        f"\n{totals['pass']} tests passed, {totals['fail']} failed, {totals['skip']} skipped by "
        f"the tests themselves, {totals['n/a']} not applicable (skips.toml); "
        f"{time.monotonic() - started:.1f}s"
    )
    print(f"Summary: {totals['pass']} passed, {totals['fail']} failed, {skipped} skipped", flush=True)


if __name__ == "__main__":
    main()
