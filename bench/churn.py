#!/usr/bin/env python3
"""Resource churn: does create/drop in a loop keep the host flat?

    python3 bench/churn.py [path/to/wasmffi]      (default: target/release/wasmffi)

Runs each workload in the guest and samples the RSS of the wasmffi process
and its --isolate-native helper (from /proc, outside the sandbox) when the guest reports 10% of its cycles done and
again at the end, then prints both and their ratio. Flat means the ratio is
within 1.05 (issue 10, item 8). A benchmark, not a test: one run, figures
printed. Environment: SCALE (multiplies every cycle count, default 1).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASMFFI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "wasmffi")
SCALE = float(os.environ.get("SCALE", "1"))

# Each program does `n` cycles and prints "mark" after n/10 of them and at
# the end; it then waits for a line on stdin so the sample is taken before
# it exits.
PRELUDE = """
import sys
def mark():
    print("mark", flush=True)
    sys.stdin.readline()
def churn(n, step):
    for i in range(n):
        step()
        if i + 1 == n // 10:
            mark()
    mark()
"""

WORKLOADS = [
    ("create_string_buffer(64) create/drop", 1_000_000, [], """
import ctypes
churn(N, lambda: ctypes.create_string_buffer(64))
"""),
    ("CFUNCTYPE callback create/drop", 100_000, [], """
import ctypes
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
f = lambda x: x
churn(N, lambda: CB(f))
"""),
    ("callback passed through cast()", 100_000, [], """
import ctypes
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
f = lambda x: x
churn(N, lambda: ctypes.cast(CB(f), ctypes.c_void_p).value)
"""),
    ("_rawffi malloc/free (64 B)", 100_000, [], """
import _rawffi
churn(N, lambda: _rawffi.free(_rawffi.malloc(64)))
"""),
    ("CFUNCTYPE callback, --isolate-native", 100_000, ["--isolate-native"], """
import ctypes
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
f = lambda x: x
churn(N, lambda: CB(f))
"""),
]


def rss_kib(pid):
    """RSS of `pid` and of its children (the --isolate-native helper)."""
    total = 0
    pids = [pid]
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    for p in pids:
        with open("/proc/%d/status" % p) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def measure(name, n, flags, body):
    n = max(10, int(n * SCALE))
    code = PRELUDE + ("N = %d\n" % n) + body
    proc = subprocess.Popen([WASMFFI, "run", *flags, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    for line in proc.stdout:
        if line.strip() == "mark":
            samples.append(rss_kib(proc.pid))
            proc.stdin.write("\n")
            proc.stdin.flush()
    proc.wait()
    err = proc.stderr.read()
    if proc.returncode != 0 or len(samples) != 2:
        print("%-40s failed (exit %s): %s" % (name, proc.returncode, err.strip()[-300:]))
        return False
    early, late = samples
    ratio = late / early
    print("%-40s %9d cycles  RSS %7d KiB at 10%%, %7d KiB at end  ratio %.3f %s"
          % (name, n, early, late, ratio, "flat" if ratio <= 1.05 else "GROWS"))
    return ratio <= 1.05


def main():
    if not os.access(WASMFFI, os.X_OK):
        sys.exit("wasmffi binary not found: %s (cargo build --release first)" % WASMFFI)
    results = [measure(*w) for w in WORKLOADS]
    print("flat: %d of %d" % (sum(results), len(results)))


if __name__ == "__main__":
    main()
