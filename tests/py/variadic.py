# Variadic functions through _rawffi: libc's snprintf compared with Python's own
# %-formatting, and the test library's variadic sums.
#
# lib.ptr(name, argtypes, restype, variadic=N): N is the number of fixed arguments;
# argtypes lists the fixed ones followed by the types of this call's variadic ones.
import os

import _rawffi

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
LONG_BITS = 8 * _rawffi.sizeof("l")

# ------------------------------------------------- snprintf into an Array('c')
Chars = _rawffi.Array("c")
buf = Chars(128)
snprintf = libc.ptr("snprintf", ["P", "N", "z", "i", "d", "z", "l"], "i", variadic=3)
big_long = -(2 ** (LONG_BITS - 2)) + 12345
cases = [
    (42, 3.25, b"abc", big_long),
    (-7, -0.1, b"", 0),
    (2 ** 31 - 1, 1e10 / 3, b"wasm ffi", 2 ** (LONG_BITS - 1) - 1),
]
for i, d, s, l in cases:
    n = snprintf(buf.buffer, len(buf), b"%d|%f|%s|%ld", i, d, s, l)
    want = ("%d|%f|%s|%d" % (i, d, s.decode(), l)).encode()
    got = _rawffi.charp2string(buf.buffer)
    assert got == want, (got, want)
    assert n == len(want), (n, len(want))
    assert buf.tobytes()[n] == 0  # NUL-terminated

# other conversions, still against Python's formatting of the same values
snprintf_e = libc.ptr("snprintf", ["P", "N", "z", "d", "I", "i", "z"], "i", variadic=3)
n = snprintf_e(buf.buffer, len(buf), b"[%.3e] [%x] [%-6d] [%8s]", 12345.6789, 48879, -42, b"right")
want = "[%.3e] [%x] [%-6d] [%8s]" % (12345.6789, 48879, -42, "right")
assert _rawffi.charp2string(buf.buffer) == want.encode(), (_rawffi.charp2string(buf.buffer), want)
assert n == len(want)

# truncation: snprintf returns the length it would have written
small = 8
n = snprintf(buf.buffer, small, b"%d|%f|%s|%ld", 1, 2.5, b"xyz", 3)
full = ("%d|%f|%s|%d" % (1, 2.5, "xyz", 3)).encode()
assert n == len(full), (n, full)
assert _rawffi.charp2string(buf.buffer) == full[:small - 1]
buf.free()

# ------------------------------------------- snprintf into a malloc'd buffer
size = 64
mem = _rawffi.malloc(size)
snprintf_s = libc.ptr("snprintf", ["P", "N", "z", "z", "i", "z"], "i", variadic=3)
n = snprintf_s(mem, size, b"%s=%d (%s)", "caf\u00e9", 7, b"ok")  # a str goes as UTF-8
want = "%s=%d (%s)" % ("caf\u00e9", 7, "ok")
assert _rawffi.memread(mem, n) == want.encode("utf-8"), _rawffi.memread(mem, n)
assert _rawffi.charp2string(mem) == want.encode("utf-8")
assert _rawffi.strlen(mem) == n
_rawffi.free(mem)

# many variadic doubles: more than fit in registers
fmt = b" ".join([b"%.2f"] * 12)
vals = [k * 1.25 - 3 for k in range(12)]
mem = _rawffi.malloc(256)
f = libc.ptr("snprintf", ["P", "N", "z"] + ["d"] * 12, "i", variadic=3)
n = f(mem, 256, fmt, *vals)
want = (fmt.decode() % tuple(vals)).encode()
assert _rawffi.charp2string(mem) == want and n == len(want), (_rawffi.charp2string(mem), want)
_rawffi.free(mem)

# --------------------------------------------------- testlib variadics
for count in range(0, 12):
    ints = [(k * 37) % 101 - 50 for k in range(count)]
    f = t.ptr("t_sum_variadic", ["i"] + ["i"] * count, "i", variadic=1)
    got = f(count, *ints)
    assert got == sum(ints), (count, got, sum(ints))

for count in range(1, 14):
    ds = [0.5 * k - 1.75 for k in range(count)]
    f = t.ptr("t_avg_variadic", ["i"] + ["d"] * count, "d", variadic=1)
    got = f(count, *ds)
    want = 0.0
    for x in ds:
        want += x
    want /= count
    assert got == want, (count, got, want)

# declaring fewer variadic args than `count` claims would be undefined; check count=0
assert t.ptr("t_avg_variadic", ["i"], "d", variadic=1)(0) == 0.0

# mixed kinds, weighted by position: 'i' int, 'l' long, 'd' double, 's' strlen(char*)
spec = [("i", "i", -3), ("d", "d", 0.25), ("s", "z", b"four"), ("l", "l", 2 ** 40),
        ("d", "d", -8.5), ("i", "i", 7), ("s", "z", "\u00e9t\u00e9"), ("d", "d", 1.5),
        ("i", "i", 1), ("d", "d", 2.0), ("d", "d", 3.0), ("d", "d", 4.0), ("l", "l", -5)]
f = t.ptr("t_variadic_mixed", ["z"] + [code for _, code, _ in spec], "d", variadic=1)
got = f("".join(letter for letter, _, _ in spec), *[v for _, _, v in spec])
want = 0.0
for k, (letter, _, v) in enumerate(spec, start=1):
    if letter == "s":
        v = len(v.encode("utf-8") if isinstance(v, str) else v)
    want += k * float(v)
assert got == want, (got, want)

print("OK variadic")
