# Scalars through _rawffi: every C scalar type as argument and as result.
#
# Run inside the guest:
#   wasmffi run --allow-lib libc.so.6 --allow-lib libm.so.6 --allow-lib $TESTLIB \
#       --env WASMFFI_TESTLIB=$TESTLIB tests/py/scalars.py
# Every expected value is computed here in Python from the inputs (or is a math fact),
# never copied from a previous run.
import math
import os
import struct

import _rawffi

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
libm = _rawffi.CDLL(PLAT["libm_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])


def bits_of(code):
    return 8 * _rawffi.sizeof(code)


def wrap(v, bits, signed):
    """v converted to a C integer of `bits` bits, as C's conversions do."""
    v &= (1 << bits) - 1
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def f32(x):
    """x rounded to a C float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---------------------------------------------------------------- sizes
# The sizes _rawffi reports are the host's C sizes, as the test library sees them.
layout = t.ptr("t_layout", ["z"], "N")
for code, cname in [("c", "char"), ("b", "char"), ("B", "char"), ("h", "short"),
                    ("H", "short"), ("i", "int"), ("I", "int"), ("l", "long"),
                    ("L", "long"), ("q", "long long"), ("Q", "long long"),
                    ("n", "ssize_t"), ("N", "size_t"), ("P", "void*"), ("f", "float"),
                    ("d", "double"), ("g", "long double"), ("u", "wchar_t"),
                    ("?", "_Bool"), ("z", "void*"), ("Z", "void*")]:
    c_size = layout(cname)
    assert _rawffi.sizeof(code) == c_size, (code, cname, _rawffi.sizeof(code), c_size)
    c_align = layout("align " + cname)
    assert _rawffi.alignment(code) == c_align, (code, cname, _rawffi.alignment(code), c_align)
assert layout("no such type") == 2 ** bits_of("N") - 1  # (size_t)-1 comes back unsigned
assert _rawffi.sizeof("P") * 8 == PLAT["pointer_width"], PLAT

# ----------------------------------------------------------- libc / libm
labs = libc.ptr("labs", ["l"], "l")
c_abs = libc.ptr("abs", ["i"], "i")
llabs = libc.ptr("llabs", ["q"], "q")
LONG_BITS = bits_of("l")
for v in [0, 1, -1, 5, -5, 12345, -(2 ** (LONG_BITS - 1)) + 1, 2 ** (LONG_BITS - 1) - 1]:
    assert labs(v) == abs(v), (v, labs(v))
for v in [0, -7, 7, -(2 ** 31) + 1, 2 ** 31 - 1]:
    assert c_abs(v) == abs(v), (v, c_abs(v))
for v in [-(2 ** 63) + 1, -(2 ** 40), 3]:
    assert llabs(v) == abs(v), (v, llabs(v))

c_pow = libm.ptr("pow", ["d", "d"], "d")
c_sqrt = libm.ptr("sqrt", ["d"], "d")
c_floor = libm.ptr("floor", ["d"], "d")
c_ceil = libm.ptr("ceil", ["d"], "d")
c_fmod = libm.ptr("fmod", ["d", "d"], "d")
c_hypot = libm.ptr("hypot", ["d", "d"], "d")
c_cbrt = libm.ptr("cbrt", ["d"], "d")
c_sinf = libm.ptr("sinf", ["f"], "f")
c_sqrtf = libm.ptr("sqrtf", ["f"], "f")
c_ldexp = libm.ptr("ldexp", ["d", "i"], "d")
c_frexp = libm.ptr("frexp", ["d", "P"], "d")

assert c_pow(2.0, 10.0) == 1024.0
assert c_pow(3.0, 4.0) == 81.0
assert abs(c_pow(2.0, 0.5) - math.sqrt(2.0)) <= 2e-16 * math.sqrt(2.0)
for x in [0.0, 1.0, 2.0, 10.0, 0.5, 1e-300, 1e300, 12345.678]:
    assert c_sqrt(x) == math.sqrt(x), x  # sqrt is exactly rounded in IEEE 754
assert math.isnan(c_sqrt(-1.0))
for x in [-2.5, -2.0, -0.5, 0.0, 0.5, 2.5, 1e15 + 0.5, -1e15 - 0.5]:
    assert c_floor(x) == math.floor(x), x
    assert c_ceil(x) == math.ceil(x), x
assert c_fmod(7.5, 2.0) == math.fmod(7.5, 2.0)
assert c_fmod(-7.5, 2.0) == math.fmod(-7.5, 2.0)
assert c_hypot(3.0, 4.0) == 5.0
# glibc's cbrt is not always correctly rounded (cbrt(27.0) is 3.0000000000000004)
for x in [27.0, -8.0, 1000.0, 2.0, 1e-9]:
    r = c_cbrt(x)
    assert abs(r * r * r - x) <= 1e-15 * abs(x), (x, r)
for x in [0.0, 0.5, 1.0, -2.0, 3.0]:
    s = c_sinf(x)
    assert f32(s) == s, (x, s)  # a float result has float precision
    assert abs(s - math.sin(x)) < 1e-6, (x, s, math.sin(x))
assert c_sqrtf(2.0) == f32(math.sqrt(f32(2.0)))
assert c_sqrtf(16.0) == 4.0
assert c_ldexp(0.75, 4) == 12.0 == math.ldexp(0.75, 4)
exp_out = _rawffi.Array("i")(1)
m = c_frexp(12.0, exp_out.buffer)
assert (m, exp_out[0]) == math.frexp(12.0), (m, exp_out[0])
exp_out.free()

# --------------------------------------------------- integers, every width
# (code, C function suffix, bits, signed)
INT_TYPES = [
    ("b", "i8", 8, True), ("B", "u8", 8, False),
    ("h", "i16", 16, True), ("H", "u16", 16, False),
    ("i", "i32", 32, True), ("I", "u32", 32, False),
    ("q", "i64", 64, True), ("Q", "u64", 64, False),
    ("b", "schar", bits_of("b"), True), ("B", "uchar", bits_of("B"), False),
    ("h", "short", bits_of("h"), True), ("H", "ushort", bits_of("H"), False),
    ("i", "int", bits_of("i"), True), ("I", "uint", bits_of("I"), False),
    ("l", "long", bits_of("l"), True), ("L", "ulong", bits_of("L"), False),
    ("q", "llong", bits_of("q"), True), ("Q", "ullong", bits_of("Q"), False),
    ("n", "ssize", bits_of("n"), True), ("N", "size", bits_of("N"), False),
]
assert bits_of("b") == 8 and bits_of("h") == 16 and bits_of("i") == 32 and bits_of("q") == 64

for code, suffix, bits, signed in INT_TYPES:
    add = t.ptr("t_add_" + suffix, [code, code], code)
    lo = -(2 ** (bits - 1)) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1
    # in-range values, the extremes, and out-of-range values that must wrap
    values = [0, 1, 2, -1, 7, -7, lo, hi, lo + 1, hi - 1, hi + 1, lo - 1, 2 ** bits + 3,
              100, -100, 0x5A5A5A5A5A5A5A5A & ((1 << bits) - 1)]
    values = [v for v in values if -(2 ** 63) <= v < 2 ** 64]
    for a in values:
        for b in values:
            got = add(a, b)
            want = wrap(wrap(a, bits, signed) + wrap(b, bits, signed), bits, signed)
            assert got == want, (suffix, a, b, got, want)
            assert type(got) is int, (suffix, type(got))
    if suffix[0] in "iu" and suffix[1:].isdigit():
        ident = t.ptr("t_id_" + suffix, [code], code)
        for a in values:
            assert ident(a) == wrap(a, bits, signed), (suffix, a, ident(a))

# the examples from the README, spelled out
assert t.ptr("t_id_u32", ["I"], "I")(-1) == 2 ** 32 - 1
assert t.ptr("t_id_u8", ["B"], "B")(257) == 1
assert t.ptr("t_add_u8", ["B", "B"], "B")(257, 0) == 1
assert t.ptr("t_add_i8", ["b", "b"], "b")(100, 100) == -56
assert t.ptr("t_add_u16", ["H", "H"], "H")(65535, 2) == 1

# results are read at the declared width: the same bits, two restypes
assert t.ptr("t_u64_max", [], "Q")() == 2 ** 64 - 1
assert t.ptr("t_u64_max", [], "q")() == -1
assert t.ptr("t_i64_min", [], "q")() == -(2 ** 63)
assert t.ptr("t_i64_min", [], "Q")() == 2 ** 63
assert t.ptr("t_i32_min", [], "i")() == -(2 ** 31)
assert t.ptr("t_i32_min", [], "I")() == 2 ** 31

# ------------------------------------------------------------ floating point
add_f = t.ptr("t_add_f", ["f", "f"], "f")
for a, b in [(1.5, 2.25), (0.1, 0.2), (1e10, 3.5), (-7.75, 1e-3), (0.0, -0.0), (1.0, 2 ** -30)]:
    got = add_f(a, b)
    want = f32(f32(a) + f32(b))  # the exact sum of two floats fits a double here
    assert got == want, (a, b, got, want)
assert t.ptr("t_f_to_d", ["f"], "d")(0.1) == f32(0.1) != 0.1
assert t.ptr("t_d_to_f", ["d"], "f")(0.1) == f32(0.1)

add_d = t.ptr("t_add_d", ["d", "d"], "d")
for a, b in [(0.1, 0.2), (1e308, 1e308), (-1e-310, 5e-324), (2.0 ** 53, 1.0), (1.5, -1.5),
             (math.pi, math.e)]:
    got = add_d(a, b)
    assert got == a + b, (a, b, got, a + b)
neg_zero = add_d(-0.0, -0.0)
assert neg_zero == 0.0 and math.copysign(1.0, neg_zero) == -1.0
assert add_d(math.inf, 1.0) == math.inf
assert math.isnan(add_d(math.nan, 0.0))
assert isinstance(add_d(1, 2), float) and add_d(1, 2) == 3.0  # ints are accepted for 'd'

# long double ('g'): supported, so NotImplementedError here is a failure.
add_ld = t.ptr("t_add_ld", ["g", "g"], "g")
mul_ld = t.ptr("t_mul_ld", ["g", "g"], "g")
div_ld = t.ptr("t_div_ld", ["g", "g"], "g")
assert add_ld(1.5, 2.25) == 3.75
assert add_ld(-1.0, 0.25) == -0.75
assert mul_ld(3.0, 7.0) == 21.0
assert mul_ld(2.0 ** 500, 2.0 ** 500) == 2.0 ** 1000
assert abs(div_ld(1.0, 3.0) - 1.0 / 3.0) <= 1.2e-16 / 3
assert div_ld(1.0, 4.0) == 0.25
assert type(add_ld(1.0, 1.0)) is float
assert t.ptr("t_ld_to_d", ["g"], "d")(2.5) == 2.5
assert t.ptr("t_d_to_ld", ["d"], "g")(-1e300) == -1e300
if _rawffi.sizeof("g") > 8:
    # (1 + 2**-60) - 1 is only non-zero if C got real extended-precision numbers
    cancel = t.ptr("t_ld_cancel", ["g", "g"], "d")
    assert cancel(1.0, 2.0 ** -60) == 2.0 ** -60, cancel(1.0, 2.0 ** -60)
    assert cancel(1.0, 2.0 ** -20) == 2.0 ** -20

# ------------------------------------------------------------- mixed args
mix = t.ptr("t_mix", ["b", "H", "i", "q", "f", "d", "l"], "d")
for args in [(-5, 65535, -100000, 2 ** 40, 0.5, 0.25, -7),
             (127, 0, 2 ** 31 - 1, -(2 ** 62), -1.5, 1e10, 2 ** 40),
             (200, -1, 2 ** 31, -1, 1.1, 2.2, 3)]:  # the last one wraps
    a, b, c, d, e, f, g = args
    want = (float(wrap(a, 8, True)) + float(wrap(b, 16, False)) + float(wrap(c, 32, True))
            + float(wrap(d, 64, True)) + f32(e) + f + float(wrap(g, LONG_BITS, True)))
    got = mix(*args)
    assert got == want, (args, got, want)

many_i = t.ptr("t_sum_many_ints", ["i"] * 10, "q")
vals = [1, -2, 3, -4, 2 ** 31 - 1, 6, -(2 ** 31), 8, 9, 10]
assert many_i(*vals) == sum(vals)
many_d = t.ptr("t_sum_many_doubles", ["d"] * 10, "d")
dvals = [0.5 * k - 1.25 for k in range(10)]
assert many_d(*dvals) == sum(dvals)
inter = t.ptr("t_interleaved", ["i", "d"] * 9, "d")
iv = [3, -1, 4, -1, 5, -9, 2, -6, 5]
dv = [0.25, 1.5, -2.75, 8.0, 0.125, -0.5, 3.0, 16.5, -1.0]
args = []
want = 0.0
for k in range(9):
    args += [iv[k], dv[k]]
    want += (k + 1) * (iv[k] + dv[k])
assert inter(*args) == want, (inter(*args), want)

# ------------------------------------------- bool, char, wchar, pointers, void
t_not = t.ptr("t_not", ["?"], "?")
assert t_not(True) is False and t_not(False) is True
assert t_not(0) is True and t_not(5) is False  # C semantics: any non-zero is true
t_is_even = t.ptr("t_is_even", ["i"], "?")
assert [t_is_even(k) for k in range(5)] == [k % 2 == 0 for k in range(5)]

next_char = t.ptr("t_next_char", ["c"], "c")
for ch in b"aAz0 ":
    got = next_char(bytes([ch]))
    assert got == bytes([ch + 1]) and type(got) is bytes, (ch, got)
count_char = t.ptr("t_count_char", ["z", "c"], "i")
assert count_char(b"banana", b"a") == b"banana".count(b"a")

wnext = t.ptr("t_wchar_next", ["u"], "u")
for ch in "aZ\u00e9\u2602":
    assert wnext(ch) == chr(ord(ch) + 1), ch
if _rawffi.sizeof("u") == 4:
    assert wnext("\U0001F600") == "\U0001F601"

ident = t.ptr("t_identity", ["P"], "P")
is_null = t.ptr("t_is_null", ["P"], "i")
for addr in [0x1234, 2 ** 40 + 8, 1]:
    assert ident(addr) == addr, addr
assert ident(None) == 0 and ident(0) == 0
assert is_null(None) == 1 and is_null(0) == 1 and is_null(4096) == 0

assert t.ptr("t_nothing", [], "v")() is None

print("OK scalars")
