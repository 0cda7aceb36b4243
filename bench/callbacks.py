"""qsort of 100 000 C ints with a Python comparator, through ctypes.CFUNCTYPE
(in the guest or in CPython) or, with `rawffi` as the second argument,
through the guest's _rawffi.CallbackPtr.

Prints the whole sort's time, then splits one callback's cost into the
boundary (native -> Python -> native, with a comparator that does nothing)
and the interpreter (the same function called from Python).
"""
import random
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
random.seed(7)
VALUES = [random.randrange(-(1 << 30), 1 << 30) for _ in range(N)]

_rawffi = None
if len(sys.argv) > 2 and sys.argv[2] == "rawffi":
    import _rawffi

if _rawffi is not None:
    impl = "rawffi"
    libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
    qsort_fn = libc.ptr("qsort", ["P", "N", "N", "P"], "v")
    load = _rawffi.load

    def compare(a, b):
        return load(a, "i") - load(b, "i") and (1 if load(a, "i") > load(b, "i") else -1)

    def make_array(values):
        return _rawffi.Array("i")(len(values), values)

    def callback(fn):
        return _rawffi.CallbackPtr(fn, ["P", "P"], "i")

    def qsort(array, n, cb):
        qsort_fn(array, n, 4, cb.buffer)

    def as_list(array):
        return list(array)
else:
    import ctypes

    impl = "ctypes"
    libc = ctypes.CDLL("libc.so.6")
    CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
    libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMP]
    libc.qsort.restype = None

    def compare(a, b):
        x, y = a[0], b[0]
        return (x > y) - (x < y)

    def make_array(values):
        return (ctypes.c_int * len(values))(*values)

    def callback(fn):
        return CMP(fn)

    def qsort(array, n, cb):
        libc.qsort(array, n, 4, cb)

    def as_list(array):
        return list(array)


def compare_for_sort(a, b):
    x, y = (load(a, "i"), load(b, "i")) if _rawffi else (a[0], b[0])
    return (x > y) - (x < y)


clock = time.perf_counter
array = make_array(VALUES)
cb = callback(compare_for_sort)
t0 = clock()
qsort(array, N, cb)
sort_s = clock() - t0
assert as_list(array) == sorted(VALUES)

# Boundary cost: a comparator that does nothing, counted.
calls = [0]


def nothing(a, b):
    calls[0] += 1
    return 0


array = make_array(VALUES)
empty_cb = callback(nothing)
t0 = clock()
qsort(array, N, empty_cb)
empty_s = clock() - t0
# The same Python function called from Python, as many times.
count = calls[0]
calls[0] = 0
t0 = clock()
for _ in range(count):
    nothing(0, 0)
python_s = clock() - t0

print("impl %s" % impl)
print("qsort_ms %.1f" % (sort_s * 1e3))
print("callbacks %d" % count)
print("callback_ns %.1f" % (empty_s * 1e9 / count))
print("python_call_ns %.1f" % (python_s * 1e9 / count))
print("boundary_ns %.1f" % ((empty_s - python_s) * 1e9 / count))
