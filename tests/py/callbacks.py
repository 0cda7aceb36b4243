# Native code calling back into Python through _rawffi.CallbackPtr, against
# libc (qsort, bsearch) and the project's C library.
import os
import random
import _rawffi

libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
lib = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
INT = _rawffi.sizeof("i")

# --- qsort and bsearch with a Python comparator --------------------------
qsort = libc.ptr("qsort", ["P", "N", "N", "P"], "v")
bsearch = libc.ptr("bsearch", ["P", "P", "N", "N", "P"], "P")
calls = [0]


def compare(a, b):
    calls[0] += 1
    x, y = _rawffi.load(a, "i"), _rawffi.load(b, "i")
    return (x > y) - (x < y)


cmp_ptr = _rawffi.CallbackPtr(compare, ["P", "P"], "i")
values = [random.randrange(-10**6, 10**6) for _ in range(5000)]
array = _rawffi.Array("i")(len(values), values)
qsort(array, len(values), INT, cmp_ptr.buffer)
assert list(array) == sorted(values)
assert calls[0] > len(values), calls[0]

key = _rawffi.Array("i")(1, [sorted(values)[1234]])
found = bsearch(key, array, len(values), INT, cmp_ptr.buffer)
assert found != 0 and _rawffi.load(found, "i") == key[0]
key[0] = 10**7  # not present
assert bsearch(key, array, len(values), INT, cmp_ptr.buffer) == 0

# --- doubles, structs by value, pointers ---------------------------------
apply_d = lib.ptr("t_apply_d", ["P", "d"], "d")
half = _rawffi.CallbackPtr(lambda x: x / 2.0, ["d"], "d")
assert apply_d(half.buffer, 5.0) == 2.5

Point = _rawffi.Structure([("x", "i"), ("y", "i")])
Pair = _rawffi.Structure([("a", "d"), ("b", "d")])


def scale_point(p, k):
    out = Point()
    out.x, out.y = int(p.x * k), int(p.y * k)
    return out


scale_ptr = _rawffi.CallbackPtr(scale_point, [Point, "d"], Point)
apply_point = lib.ptr("t_apply_point", ["P", Point, "d"], Point)
p = Point()
p.x, p.y = 3, -4
r = apply_point(scale_ptr.buffer, p, 2.5)
assert (r.x, r.y) == (7, -10), (r.x, r.y)

pair_sum = _rawffi.CallbackPtr(lambda ptr: Pair.fromaddress(ptr).a + Pair.fromaddress(ptr).b, ["P"], "d")
apply_pair = lib.ptr("t_apply_pair", ["P", "d", "d"], "d")
assert apply_pair(pair_sum.buffer, 1.25, 2.5) == 3.75

# --- a table of function pointers ----------------------------------------
Ops = _rawffi.Structure([("combine", "P"), ("scale", "P")])
combine = _rawffi.CallbackPtr(lambda a, b: a * 10 + b, ["i", "i"], "i")
scale = _rawffi.CallbackPtr(lambda x: x * 0.5, ["d"], "d")
ops = Ops()
ops.combine, ops.scale = combine.buffer, scale.buffer
run_ops = lib.ptr("t_run_ops", ["P", "i", "i"], "d")
assert run_ops(ops, 4, 2) == 21.0

# --- a callback stored by C and called during a later call ---------------
set_cb = lib.ptr("t_set_cb", ["P"], "v")
call_stored = lib.ptr("t_call_stored", ["i"], "i")
stored = _rawffi.CallbackPtr(lambda x: x + 1000, ["i"], "i")
set_cb(stored.buffer)
assert call_stored(5) == 1005
assert call_stored(-5) == 995

# --- nesting: callback -> native -> callback ... ---------------------------
apply = lib.ptr("t_apply", ["P", "i"], "i")


def countdown(n):
    return 0 if n == 0 else 1 + apply(nested.buffer, n - 1)


nested = _rawffi.CallbackPtr(countdown, ["i"], "i")
assert apply(nested.buffer, 100) == 100

# --- many callbacks in one call --------------------------------------------
apply_n = lib.ptr("t_apply_n", ["P", "i", "i"], "i")
inc = _rawffi.CallbackPtr(lambda x: x + 1, ["i"], "i")
assert apply_n(inc.buffer, 0, 10000) == 10000

# --- plain calls still work once callbacks exist ---------------------------
labs = libc.ptr("labs", ["l"], "l")
assert labs(-42) == 42
print("OK callbacks")
