# ctypes benchmark, run unchanged in the wasmffi guest and in CPython:
#   wasmffi run --allow-lib libc.so.6 bench/ctypes_bench.py [N]
#   python3 bench/ctypes_bench.py [N]
# Prints one line per figure: `<name> <value> <unit>` (best of REPEATS):
#   labs_ns      ns per labs(i) call with argtypes/restype set
#   field_ns     ns per read of a c_int field of a Structure
#   copy_mib_s   MiB/s of create_string_buffer(1 MiB) + memmove + string_at
import sys
import time
import ctypes
from ctypes import CDLL, Structure, c_int, c_long, c_double, create_string_buffer, memmove, string_at

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
REPEATS = 3
clock = time.perf_counter

libc = CDLL("libc.so.6")
labs = libc.labs
labs.argtypes = [c_long]
labs.restype = c_long
for i in range(-100, 100):
    assert labs(i) == abs(i)


def best(f, n):
    return min(f(n) for _ in range(REPEATS))


def bench_labs(n):
    f = labs
    t0 = clock()
    for i in range(n):
        f(i)
    return (clock() - t0) / n * 1e9


class S(Structure):
    _fields_ = [("a", c_double), ("x", c_int)]


s = S(1.0, 7)


def bench_field(n):
    obj = s
    t0 = clock()
    for _ in range(n):
        obj.x
    return (clock() - t0) / n * 1e9


MIB = 1 << 20
payload = bytes(range(256)) * (MIB // 256)


def bench_copy(rounds):
    t0 = clock()
    for _ in range(rounds):
        src = create_string_buffer(payload, MIB)
        dst = create_string_buffer(MIB)
        memmove(dst, src, MIB)
        out = string_at(dst, MIB)
    elapsed = clock() - t0
    assert out == payload
    return -(rounds / elapsed)  # negated so that min() keeps the best


print("impl %s" % sys.implementation.name)
print("labs_ns %.1f ns" % best(bench_labs, N))
print("field_ns %.1f ns" % best(bench_field, N))
print("copy_mib_s %.1f MiB/s" % -best(bench_copy, 20))
