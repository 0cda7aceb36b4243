# ctypes: functions: argtypes, restype (types, callable, None), errcheck, paramflags,
# variadic calls with promotions, structs/unions by value both ways, pointers returned,
# _as_parameter_, CFUNCTYPE prototypes, callbacks.
import os
import errno
import _rawffi
import ctypes
from ctypes import *

t = CDLL(os.environ["WASMFFI_TESTLIB"])
libc = CDLL("libc.so.6")
libm = CDLL("libm.so.6")
z = CDLL("libz.so.1")

# argtypes / restype
libm.pow.argtypes = [c_double, c_double]
libm.pow.restype = c_double
assert libm.pow(2, 10) == 1024.0
assert libm.pow.argtypes == (c_double, c_double) and libm.pow.restype is c_double
t.t_add_i8.argtypes = [c_int8, c_int8]
t.t_add_i8.restype = c_int8
assert t.t_add_i8(100, 100) == -56
t.t_add_u64.argtypes = [c_uint64, c_uint64]
t.t_add_u64.restype = c_uint64
assert t.t_add_u64(2**64 - 1, 2) == 1
t.t_add_ld.argtypes = [c_longdouble, c_longdouble]
t.t_add_ld.restype = c_longdouble
assert t.t_add_ld(1.25, 2.5) == 3.75
t.t_add_f.argtypes = [c_float, c_float]
t.t_add_f.restype = c_float
assert t.t_add_f(1.5, 2.25) == 3.75
t.t_not.argtypes = [c_bool]
t.t_not.restype = c_bool
assert t.t_not(False) is True
t.t_next_char.argtypes = [c_char]
t.t_next_char.restype = c_char
assert t.t_next_char(b"a") == b"b"
t.t_wchar_next.argtypes = [c_wchar]
t.t_wchar_next.restype = c_wchar
assert t.t_wchar_next("\u00e9") == "\u00ea"
t.t_sum_many_doubles.argtypes = [c_double] * 10
t.t_sum_many_doubles.restype = c_double
assert t.t_sum_many_doubles(*range(10)) == 45.0
assert t.t_add_int(2, 3) == 5          # default restype c_int, ints without argtypes
t.t_nothing.restype = None
assert t.t_nothing() is None

# wrong arguments: ArgumentError / TypeError, like CPython
try:
    libm.pow("x", 1)
except ctypes.ArgumentError as e:
    assert "argument 1" in str(e)
else:
    raise AssertionError
try:
    libm.pow(1.0)
except TypeError:
    pass
else:
    raise AssertionError

# restype: a callable and errcheck
t.t_is_even.restype = lambda v: "even" if v else "odd"
assert t.t_is_even(4) == "even" and t.t_is_even(3) == "odd"
def check(result, func, args):
    if result < 0:
        raise OSError(ctypes.get_errno(), "failed")
    return result * 10
te = CDLL(os.environ["WASMFFI_TESTLIB"], use_errno=True)
te.t_fail_with_errno.errcheck = check
try:
    te.t_fail_with_errno(_rawffi.errno_codes["ENOENT"])  # the host's number, as C sets it
except FileNotFoundError as e:
    assert e.errno == errno.ENOENT  # get_errno() speaks the guest's numbering
else:
    raise AssertionError
t.t_add_int.errcheck = check
assert t.t_add_int(1, 2) == 30

# pointers returned, _as_parameter_
t.t_identity.argtypes = [c_void_p]
t.t_identity.restype = c_void_p
assert t.t_identity(0x1234) == 0x1234 and t.t_identity(None) is None
class Handle:
    def __init__(self, v):
        self._as_parameter_ = v
t.t_is_null.argtypes = [c_void_p]
assert t.t_is_null(Handle(None)) == 1 and t.t_is_null(Handle(8)) == 0
assert t.t_add_int(Handle(40), 2) == 420    # errcheck above multiplies by 10

# strings
libc.strlen.argtypes = [c_char_p]
libc.strlen.restype = c_size_t
assert libc.strlen(b"hello") == 5
buf = create_string_buffer(32)
t.t_fill_string.argtypes = [c_char_p, c_size_t]
t.t_fill_string.restype = c_size_t
assert t.t_fill_string(buf, sizeof(buf)) == 12 and buf.value == b"hello from C"

# paramflags: out-parameters
proto = CFUNCTYPE(None, c_int, c_int, POINTER(c_int), POINTER(c_int))
divmod_ = proto(("t_divmod", t), ((1, "a"), (1, "b"), (2, "q"), (2, "r")))
assert divmod_(17, 5) == (3, 2)
assert divmod_(b=4, a=9) == (2, 1)

# variadic, printf-style, with promotions
libc.snprintf.restype = c_int
out = create_string_buffer(100)
n = libc.snprintf(out, 100, b"%d %s %.2f %c %ld", 42, b"str", c_double(3.14159), c_char(b"Z"), c_long(2**40))
assert out.value == b"42 str 3.14 Z 1099511627776", out.value
assert n == len(out.value)
libc.snprintf.argtypes = [c_char_p, c_size_t, c_char_p]
libc.snprintf(out, 100, b"%.1f|%d|%hd", c_float(2.5), c_short(-3), c_short(7))
assert out.value == b"2.5|-3|7", out.value
t.t_sum_variadic.argtypes = [c_int]
assert t.t_sum_variadic(4, 1, 2, 3, 4) == 10
t.t_avg_variadic.argtypes = [c_int]
t.t_avg_variadic.restype = c_double
assert t.t_avg_variadic(2, 1.0, 2.0) == 1.5

# structs by value, both ways
class Point(Structure):
    _fields_ = [("x", c_int), ("y", c_int)]
class Big(Structure):
    _fields_ = [("a", c_int64), ("b", c_int64), ("c", c_int64), ("d", c_double)]
class Mixed(Structure):
    _fields_ = [("c", c_char), ("s", c_short), ("d", c_double), ("c2", c_char)]
t.t_make_point.restype = Point
p = t.t_make_point(3, 4)
assert (p.x, p.y) == (3, 4)
t.t_point_add.argtypes = [Point, Point]
t.t_point_add.restype = Point
q = t.t_point_add(p, Point(10, 20))
assert (q.x, q.y) == (13, 24)
t.t_point_move.argtypes = [POINTER(Point), c_int, c_int]
t.t_point_move(p, 1, 1)          # a Point passed where POINTER(Point) is expected: byref
assert (p.x, p.y) == (4, 5)
t.t_big_scale.argtypes = [Big, c_int64]
t.t_big_scale.restype = Big
b = t.t_big_scale(Big(1, 2, 3, 0.5), -2)
assert (b.a, b.b, b.c, b.d) == (-2, -4, -6, -1.0)
t.t_make_mixed.argtypes = [c_char, c_short, c_double, c_char]
t.t_make_mixed.restype = Mixed
mx = t.t_make_mixed(b"A", -2, 3.5, b"z")
assert (mx.c, mx.s, mx.d, mx.c2) == (b"A", -2, 3.5, b"z")
class IF(Union):
    _fields_ = [("i", c_int), ("f", c_float)]
t.t_make_intfloat.restype = Point   # same 8 bytes, reinterpret as two ints
r = t.t_make_intfloat(7, c_float(1.0))
assert r.x == 7

# zlib: crc32, compress2/uncompress, zlibVersion
import zlib
z.crc32.argtypes = [c_ulong, c_char_p, c_uint]
z.crc32.restype = c_ulong
data = b"The quick brown fox jumps over the lazy dog" * 20
assert z.crc32(0, data, len(data)) == zlib.crc32(data)
z.compressBound.restype = c_ulong
bound = z.compressBound(len(data))
dest = create_string_buffer(bound)
dlen = c_ulong(bound)
z.compress2.argtypes = [POINTER(c_char), POINTER(c_ulong), c_char_p, c_ulong, c_int]
assert z.compress2(dest, byref(dlen), data, len(data), 9) == 0
comp = dest.raw[:dlen.value]
assert zlib.decompress(comp) == data
back = create_string_buffer(len(data))
blen = c_ulong(len(data))
assert z.uncompress(back, byref(blen), comp, c_ulong(len(comp))) == 0
assert back.raw[:blen.value] == data
z.zlibVersion.restype = c_char_p
assert z.zlibVersion().decode().startswith("1.")

# function pointers from addresses
labs_addr = cast(libc.labs, c_void_p).value
labs2 = CFUNCTYPE(c_long, c_long)(labs_addr)
assert labs2(-99) == 99

# callbacks: CFUNCTYPE around a Python function
CB = CFUNCTYPE(c_int, c_int)
t.t_apply.argtypes = [CB, c_int]
t.t_apply.restype = c_int
double = CB(lambda v: v * 2)
assert t.t_apply(double, 21) == 42
t.t_apply_n.argtypes = [CB, c_int, c_int]
assert t.t_apply_n(CB(lambda v: v + 3), 0, 100) == 300
assert double(5) == 10
IntCmp = CFUNCTYPE(c_int, POINTER(c_int), POINTER(c_int))
vals = (c_int * 6)(5, 1, 4, 2, 6, 3)
libc.qsort.argtypes = [c_void_p, c_size_t, c_size_t, IntCmp]
libc.qsort.restype = None
libc.qsort(vals, len(vals), sizeof(c_int), IntCmp(lambda a, b: a[0] - b[0]))
assert list(vals) == [1, 2, 3, 4, 5, 6]

# callbacks as struct fields: a table of function pointers that C calls
COMBINE = CFUNCTYPE(c_int, c_int, c_int)
SCALE = CFUNCTYPE(c_double, c_double)


class Ops(Structure):
    _fields_ = [("combine", COMBINE), ("scale", SCALE)]


ops = Ops()
ops.combine = COMBINE(lambda a, b: a * 10 + b)  # temporaries: the struct keeps them
ops.scale = SCALE(lambda x: x / 4)
import gc

gc.collect()
t.t_run_ops.argtypes = [POINTER(Ops)]
t.t_run_ops.restype = c_double
assert t.t_run_ops(byref(ops), 4, 2) == 42 / 4, t.t_run_ops(byref(ops), 4, 2)
assert ops.combine(1, 2) == 12  # read back from the struct and called from Python
print("OK ctypes_functions")
