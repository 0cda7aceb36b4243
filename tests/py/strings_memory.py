# Strings, pointers and raw memory through _rawffi: libc string functions, wide strings,
# malloc/memread/memwrite/memmove/memset/free, load/store, and a global variable of the
# test library reached through getaddressindll.
import os
import struct

import _rawffi

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
E = ">" if PLAT["big_endian"] else "<"
Chars = _rawffi.Array("c")

# --------------------------------------------------------------- libc strings
strlen = libc.ptr("strlen", ["z"], "N")
for s in [b"", b"hello", b"x" * 1000]:
    assert strlen(s) == len(s)
assert strlen("h\u00e9llo \u2603") == len("h\u00e9llo \u2603".encode("utf-8"))  # str is UTF-8

buf = Chars(32)
strcpy = libc.ptr("strcpy", ["P", "z"], "P")
ret = strcpy(buf.buffer, b"hello world")
assert ret == buf.buffer  # strcpy returns its destination
assert _rawffi.charp2string(buf.buffer) == b"hello world"
assert _rawffi.charp2string(buf.buffer, 5) == b"hello"
assert buf.tobytes()[:12] == b"hello world\0"
assert _rawffi.strlen(buf.buffer) == len(b"hello world")

strchr = libc.ptr("strchr", ["z", "i"], "P")
for ch in b"hwdo":
    p = strchr(buf.buffer, ch)  # an address int is accepted for char*
    assert p - buf.buffer == b"hello world".index(bytes([ch])), (ch, p, buf.buffer)
    assert _rawffi.charp2string(p) == b"hello world"[p - buf.buffer:]
assert strchr(buf.buffer, ord("Q")) == 0
p = strchr(buf, ord(" "))  # an Array instance is accepted too
assert p == buf.buffer + 5

strdup = libc.ptr("strdup", ["z"], "P")
c_free = libc.ptr("free", ["P"], "v")
d = strdup(b"duplicate me")
assert d != 0 and d != buf.buffer
assert _rawffi.charp2string(d) == b"duplicate me"
assert _rawffi.memread(d, 13) == b"duplicate me\0"
_rawffi.memwrite(d, b"D")
assert _rawffi.charp2string(d) == b"Duplicate me"
c_free(d)

strncmp = libc.ptr("strncmp", ["z", "z", "N"], "i")
assert strncmp(b"abcdef", b"abcxyz", 3) == 0
assert strncmp(b"abcdef", b"abcxyz", 4) < 0
assert strncmp(b"b", b"a", 1) > 0

# 'z' results are bytes, NULL is None
assert t.ptr("t_static_string", [], "z")() == b"wasmffi test library"
assert t.ptr("t_null_string", [], "z")() is None
static_addr = t.ptr("t_static_string", [], "P")()
assert _rawffi.charp2string(static_addr) == b"wasmffi test library"
assert _rawffi.charp2string(static_addr, 7) == b"wasmffi"
assert _rawffi.charp2string(0) is None

# testlib: malloc'd result released by the library's own free
upper = t.ptr("t_strdup_upper", ["z"], "P")
t_free = t.ptr("t_free", ["P"], "v")
src = b"Mixed Case 123 xyz"
u = upper(src)
assert _rawffi.charp2string(u) == src.upper()
t_free(u)

# in-place modification of a caller buffer
reverse = t.ptr("t_reverse", ["P"], "v")
for word in [b"stressed", b"a", b"", b"racecar!"]:
    w = Chars(len(word) + 1)
    _rawffi.memwrite(w.buffer, word + b"\0")
    reverse(w.buffer)
    assert _rawffi.charp2string(w.buffer) == word[::-1], (word, _rawffi.charp2string(w.buffer))
    w.free()

fill_string = t.ptr("t_fill_string", ["P", "N"], "N")
full = fill_string(buf.buffer, len(buf))
assert _rawffi.charp2string(buf.buffer) == b"hello from C" and full == len(b"hello from C")
_rawffi.memset(buf.buffer, ord("#"), len(buf))
assert fill_string(buf.buffer, 6) == full
assert buf.tobytes()[:7] == b"hello\0#"

# strtol's end pointer, an out-param of type char**
strtol = libc.ptr("strtol", ["z", "P", "i"], "l")
_rawffi.memwrite(buf.buffer, b"  -123abc\0")
endp = _rawffi.malloc(_rawffi.sizeof("P"))
assert strtol(buf.buffer, endp, 10) == -123
assert _rawffi.load(endp, "P") - buf.buffer == b"  -123abc".index(b"a")
_rawffi.free(endp)
buf.free()

# ------------------------------------------------------------- wide strings
wcslen = libc.ptr("wcslen", ["Z"], "N")
t_wcslen = t.ptr("t_wcslen", ["Z"], "N")
cps = t.ptr("t_wcs_codepoint_sum", ["Z"], "l")
samples = ["", "abc", "h\u00e9llo \u2603"]
if _rawffi.sizeof("u") == 4:
    samples.append("emoji \U0001F600 \U0001F680!")  # one wchar_t per code point
for s in samples:
    assert wcslen(s) == len(s), (s, wcslen(s))
    assert t_wcslen(s) == len(s)
    assert cps(s) == sum(ord(c) for c in s)
wide = "h\u00e9llo w\u00f6rld \u2603 \U0001F600"
if _rawffi.sizeof("u") == 4:
    assert t.ptr("t_wide_static", [], "Z")() == wide
    waddr = t.ptr("t_wide_static", [], "P")()
    assert _rawffi.wcharp2unicode(waddr) == wide
    assert _rawffi.wcharp2unicode(waddr, 5) == wide[:5]
    assert _rawffi.memread(waddr, 8) == struct.pack(E + "2I", ord("h"), ord("\u00e9"))
assert _rawffi.wcharp2unicode(0) is None
# a wide string written by hand into guest memory
W = _rawffi.Array("u")
ws = W(4)
ws[0] = "\u00c5"
ws[1] = "x"
ws[2] = "\u2603"
assert _rawffi.wcharp2unicode(ws.buffer) == "\u00c5x\u2603"
assert wcslen(ws) == 3 and wcslen(ws.buffer) == 3
ws.free()

# ------------------------------------------------------------- raw memory
n = 64
a = _rawffi.malloc(n)
assert a != 0 and a % 16 == 0
assert _rawffi.memread(a, n) == bytes(n)  # zeroed
_rawffi.memwrite(a, b"abcdef")
assert _rawffi.memread(a, 8) == b"abcdef\0\0"
_rawffi.memmove(a + 10, a, 6)
assert _rawffi.memread(a + 10, 6) == b"abcdef"
# overlapping move, as memmove (not memcpy) does it
model = bytearray(_rawffi.memread(a, n))
_rawffi.memmove(a + 2, a, 6)
model[2:8] = model[0:6]
assert _rawffi.memread(a, n) == bytes(model)
_rawffi.memset(a + 20, 0x41, 4)
model[20:24] = b"AAAA"
assert _rawffi.memread(a, n) == bytes(model)
_rawffi.memset(a, 0, n)
assert _rawffi.memread(a, n) == bytes(n)

# load/store of every scalar code, checked against the bytes in memory
for code, fmt, value in [("b", "b", -5), ("B", "B", 250), ("h", "h", -1234), ("H", "H", 65000),
                         ("i", "i", -(2 ** 31)), ("I", "I", 2 ** 32 - 1), ("q", "q", -(2 ** 60)),
                         ("Q", "Q", 2 ** 64 - 2), ("f", "f", 1.5), ("d", "d", -2.0 ** -1000)]:
    _rawffi.store(a, code, value)
    assert _rawffi.load(a, code) == value, (code, _rawffi.load(a, code))
    assert _rawffi.memread(a, struct.calcsize(E + fmt)) == struct.pack(E + fmt, value), code
_rawffi.store(a, "i", -1)
assert _rawffi.load(a, "I") == 2 ** 32 - 1  # same bits, other type
_rawffi.store(a, "l", -7)
assert _rawffi.load(a, "l") == -7
_rawffi.store(a, "P", a)
assert _rawffi.load(a, "P") == a
_rawffi.store(a, "c", b"Z")
assert _rawffi.load(a, "c") == b"Z" and _rawffi.memread(a, 1) == b"Z"
_rawffi.store(a, "?", True)
assert _rawffi.load(a, "?") is True
_rawffi.store(a + 16, "g", 0.75)  # a + 16 is aligned for long double
assert _rawffi.load(a + 16, "g") == 0.75
_rawffi.free(a)

big = _rawffi.malloc(1 << 20)
_rawffi.memset(big, 0xAB, 1 << 20)
assert _rawffi.memread(big + (1 << 20) - 4, 4) == b"\xab" * 4
_rawffi.free(big)

aligned = _rawffi.malloc(100, 64)
assert aligned % 64 == 0
_rawffi.free(aligned)

# memory that native code allocated is readable and writable too
ints = t.ptr("t_make_ints", ["N"], "P")(5)
view = _rawffi.Array("i").fromaddress(ints, 5)
assert [view[k] for k in range(5)] == [3 * k for k in range(5)]
view[4] = -1
assert t.ptr("t_sum_ints", ["P", "N"], "l")(ints, 5) == 0 + 3 + 6 + 9 - 1
t_free(ints)

# ----------------------------------------------------- shape instances
Pt = _rawffi.Structure([("x", "i"), ("y", "i")])
pt = Pt()
pt.x = 5
pt.y = 6
assert _rawffi.memread(pt.buffer, Pt.size) == struct.pack(E + "ii", 5, 6)
pt.free()
arr = _rawffi.Array("H")(3, [1, 2, 65535])
assert arr.tobytes() == struct.pack(E + "3H", 1, 2, 65535)
arr.free()

# ------------------------------------------------------ a global variable
counter = t.getaddressindll("t_counter")
assert counter != 0
bump = t.ptr("t_bump", [], "i")
get_counter = t.ptr("t_get_counter", [], "i")
start = _rawffi.load(counter, "i")
assert start == get_counter()
assert bump() == start + 1
assert _rawffi.load(counter, "i") == start + 1
_rawffi.store(counter, "i", 100)
assert get_counter() == 100
assert bump() == 101 and bump() == 102
assert _rawffi.load(counter, "i") == 102
assert _rawffi.load(t.getaddressindll("t_gdouble"), "d") == 2.5
assert _rawffi.charp2string(t.getaddressindll("t_greeting")) == b"hello, global"

print("OK strings_memory")
