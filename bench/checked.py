# Per-call cost of checked memory mode: calls with pointer arguments into a
# runtime block, timed in whatever mode the policy gives libc.
#
#   wasmffi run --allow-lib libc.so.6 bench/checked.py            # trusted
#   wasmffi run --allow-lib-checked libc.so.6 bench/checked.py    # checked, unpinned
#   wasmffi run --preset libc-math bench/checked.py               # checked, pinned
#
# Prints `ns_per_call <call> <float>` for each call: the best of REPEATS
# loops of N calls, divided by N (the Python loop's overhead is included,
# the same in every mode).
import sys
import time

import _rawffi

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
REPEATS = 5

libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
block = _rawffi.malloc(64)
other = _rawffi.malloc(64)
_rawffi.memwrite(block, b"hello, world\0")
memset = libc.ptr("memset", ["P", "i", "N"], "P")
memcpy = libc.ptr("memcpy", ["P", "P", "N"], "P")
strlen = libc.ptr("strlen", ["P"], "N")
labs = libc.ptr("labs", ["l"], "l")


def bench(name, fn, *args):
    best = None
    for _ in range(REPEATS):
        t0 = time.perf_counter_ns()
        for _ in range(N):
            fn(*args)
        dt = time.perf_counter_ns() - t0
        best = dt if best is None or dt < best else best
    print("ns_per_call %s %.1f" % (name, best / N))


bench("labs(i)", labs, -5)
bench("strlen(block)", strlen, block)
bench("memset(block,0,16)", memset, other, 0, 16)
bench("memcpy(a,b,32)", memcpy, other, block, 32)
