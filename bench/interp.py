"""The interpreter's own speed, in ns per operation (median of 5 rounds):
the same program under the machine's CPython and in the guest, so that the
interpreter's share of every FFI figure is visible.

    python3 bench/interp.py [N]        wasmffi run bench/interp.py [N]
"""
import functools
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000


def median_ns(body, n=N):
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        body(n)
        rounds.append((time.perf_counter() - t0) / n * 1e9)
    return sorted(rounds)[2]


def empty_loop(n):
    for i in range(n):
        pass


def loop(n):
    s = 0
    for i in range(n):
        s += i


def builtin_call(n):
    f = abs
    for i in range(n):
        f(i)


def py_fn(x):
    return x


def python_call(n):
    f = py_fn
    for i in range(n):
        f(i)


class Obj:
    def __init__(self):
        self.attr = 1

    def method(self, x):
        return x


def method_call(n):
    o = Obj()
    for i in range(n):
        o.method(i)


def attribute_read(n):
    o = Obj()
    for _ in range(n):
        o.attr


def sorted_cmp(n):
    # Python code called from the interpreter's own C (or Rust) code: what a
    # ctypes callback costs the interpreter.
    data = list(range(n, 0, -1))
    sorted(data, key=functools.cmp_to_key(lambda a, b: a - b))


# Each figure is net of an empty loop's iteration.
base = median_ns(empty_loop)
for name, body in [("loop_add_ns", loop), ("builtin_call_ns", builtin_call), ("python_call_ns", python_call),
                   ("method_call_ns", method_call), ("attribute_read_ns", attribute_read)]:
    print(name, "%.1f" % max(median_ns(body) - base, 0.0))
t0 = time.perf_counter()
sorted_cmp(20_000)
print("sorted_cmp_20k_ms", "%.1f" % ((time.perf_counter() - t0) * 1e3))
