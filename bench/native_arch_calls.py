# Per-call cost of a native call wherever native code runs: in-process,
# --isolate-native, --native-arch ARCH. Run it with each, e.g.
#   wasmffi run --allow-lib libc.so.6 --native-arch aarch64 bench/native_arch_calls.py
# It prints microseconds per call of libc's labs through ctypes, and of
# qsort calling back into Python (per callback).
import ctypes
import time

libc = ctypes.CDLL("libc.so.6")
labs = libc.labs
labs.argtypes = [ctypes.c_long]
labs.restype = ctypes.c_long
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
compare = CMP(lambda a, b: 0)


def per_call(n, f):
    f()
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n * 1e6


call = per_call(20000, lambda: labs(-5))
items = (ctypes.c_int * 64)(*range(64, 0, -1))
callbacks = []
counting = CMP(lambda a, b: (callbacks.append(1), 0)[1])
libc.qsort(items, 64, 4, counting)
per_sort = len(callbacks)
sort = per_call(50, lambda: libc.qsort(items, 64, 4, compare))
print("%s: labs %.1f us/call, qsort callback %.1f us/callback" % (
    ctypes.sizeof(ctypes.c_void_p) * 8, call, sort / per_sort))
