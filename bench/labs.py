# Call overhead benchmark: labs(i) N times through the FFI.
#
# Runs unchanged in the wasmffi guest (with _rawffi) and in CPython (with ctypes):
#   wasmffi run --allow-lib libc.so.6 bench/labs.py [N]
#   python3 bench/labs.py [N]
# Prints `impl <rawffi|ctypes>` and `ns_per_call <float>`: the best of REPEATS timed
# loops of N calls, divided by N (the Python loop's own overhead is included, the same
# for both).
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
REPEATS = 3

try:
    import _rawffi
except ImportError:
    _rawffi = None

if _rawffi is not None:
    impl = "rawffi"
    libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
    labs = libc.ptr("labs", ["l"], "l")
else:
    import ctypes

    impl = "ctypes"
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    labs = libc.labs
    labs.argtypes = [ctypes.c_long]
    labs.restype = ctypes.c_long

clock = getattr(time, "perf_counter_ns", None)
if clock is None:
    def clock():
        return int(time.perf_counter() * 1e9)

# correctness first, then warm up
for i in range(-1000, 1000):
    assert labs(i) == abs(i), (i, labs(i))


def bench(n):
    f = labs
    t0 = clock()
    for i in range(n):
        f(i)
    return clock() - t0


best = min(bench(N) for _ in range(REPEATS))
print("impl %s" % impl)
print("calls %d" % N)
print("ns_per_call %.1f" % (best / N))
