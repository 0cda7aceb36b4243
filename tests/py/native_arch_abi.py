# Run with --native-arch ARCH: the guest must see ARCH's ABI, not the host's,
# and calls, structs, callbacks, errno and memory must behave as on a real
# ARCH machine. argv[1]: what ARCH must give, as a JSON object (the ABI's
# facts, from tests/native_arch.rs).
import ctypes
import json
import sys

import _rawffi

want = json.loads(sys.argv[1])
p = _rawffi.platform


def check(what, got, expected):
    if got != expected:
        raise AssertionError("%s: got %r, want %r" % (what, got, expected))
    print("%s: %r" % (what, got))


# Platform facts come from the helper's architecture.
check("arch", p["arch"], want["arch"])
check("pointer_width", p["pointer_width"], want["pointer"] * 8)
check("big_endian", p["big_endian"], want["big_endian"])
check("c_types long", p["c_types"]["long"][:2], (want["long"], want["long"]))
check("c_types long double", p["c_types"]["long double"][:2], tuple(want["long_double"]))
check("sizeof(c_void_p)", ctypes.sizeof(ctypes.c_void_p), want["pointer"])
check("sizeof(c_long)", ctypes.sizeof(ctypes.c_long), want["long"])
check("sizeof(c_size_t)", ctypes.sizeof(ctypes.c_size_t), want["pointer"])
check("sizeof(c_longdouble)", ctypes.sizeof(ctypes.c_longdouble), want["long_double"][0])
check("_rawffi.sizeof('l')", _rawffi.sizeof("l"), want["long"])
check("_rawffi.sizeof('P')", _rawffi.sizeof("P"), want["pointer"])


# Struct layouts are that libffi's.
def layout(*types):
    class S(ctypes.Structure):
        _fields_ = [("f%d" % i, t) for i, t in enumerate(types)]
    return [ctypes.sizeof(S), ctypes.alignment(S)] + [getattr(S, "f%d" % i).offset for i in range(len(types))]


check("struct {char; double}", layout(ctypes.c_char, ctypes.c_double), want["char_double"])
check("struct {char; long long}", layout(ctypes.c_char, ctypes.c_longlong), want["char_longlong"])
check("struct {char; long double}", layout(ctypes.c_char, ctypes.c_longdouble), want["char_longdouble"])
check("struct {char; void *; short}", layout(ctypes.c_char, ctypes.c_void_p, ctypes.c_short), want["char_pointer_short"])
raw = _rawffi.Structure([("c", "c"), ("d", "d")])
check("_rawffi struct {char; double}", [raw.size, raw.alignment, raw.fieldoffset("d")], want["char_double"][:2] + want["char_double"][3:])


class U(ctypes.Union):
    _fields_ = [("c", ctypes.c_char * 3), ("ld", ctypes.c_longdouble)]


check("union {char[3]; long double}", [ctypes.sizeof(U), ctypes.alignment(U)], want["long_double"])

libc = ctypes.CDLL(p["libc_soname"], use_errno=True)
libm = ctypes.CDLL(p["libm_soname"])

# Calls: integers of every width, doubles, long double, struct results.
check("labs(-5)", libc.labs(-5), 5)
libc.llabs.restype = ctypes.c_longlong
libc.llabs.argtypes = [ctypes.c_longlong]
check("llabs(-2**40)", libc.llabs(-(2 ** 40)), 2 ** 40)
libc.strtoul.restype = ctypes.c_ulong
libc.strtoul.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
check("strtoul(ULONG_MAX)", libc.strtoul(b"18446744073709551615", None, 10), 2 ** (8 * want["long"]) - 1)
libc.strtol.restype = ctypes.c_long
libc.strtol.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
ctypes.set_errno(0)
big = libc.strtol(b"99999999999999999999", None, 10)
check("strtol overflow", big, 2 ** (8 * want["long"] - 1) - 1)
check("errno after overflow", ctypes.get_errno(), __import__("errno").ERANGE)
libc.abs.argtypes = [ctypes.c_short]
check("abs((short)-7)", libc.abs(-7), 7)
libm.pow.restype = ctypes.c_double
libm.pow.argtypes = [ctypes.c_double, ctypes.c_double]
check("pow(2, 10)", libm.pow(2.0, 10.0), 1024.0)
libm.ldexpf.restype = ctypes.c_float
libm.ldexpf.argtypes = [ctypes.c_float, ctypes.c_int]
check("ldexpf(1.5, 3)", libm.ldexpf(1.5, 3), 12.0)
libm.powl.restype = ctypes.c_longdouble
libm.powl.argtypes = [ctypes.c_longdouble, ctypes.c_longdouble]
check("powl(2, 10)", libm.powl(2.0, 10.0), 1024.0)


class DivT(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_int), ("rem", ctypes.c_int)]


class LLDivT(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_longlong), ("rem", ctypes.c_longlong)]


libc.div.restype = DivT
r = libc.div(47, 5)
check("div(47, 5)", (r.quot, r.rem), (9, 2))
libc.lldiv.restype = LLDivT
libc.lldiv.argtypes = [ctypes.c_longlong, ctypes.c_longlong]
r = libc.lldiv(2 ** 40 + 3, 2 ** 20)
check("lldiv(2**40 + 3, 2**20)", (r.quot, r.rem), (2 ** 20, 3))
libc.strchr.restype = ctypes.c_char_p
check("strchr", libc.strchr(b"hello world", ord("w")), b"world")

# Callbacks: qsort calling back with pointers of this architecture's width,
# through ctypes (POINTER arguments) and through _rawffi.
values = (ctypes.c_longlong * 6)(5, -(2 ** 40), 4, 2 ** 41, 3, -1)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_longlong), ctypes.POINTER(ctypes.c_longlong))
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_longlong), CMP(lambda a, b: (a[0] > b[0]) - (a[0] < b[0])))
check("qsort(long long[])", list(values), sorted([5, -(2 ** 40), 4, 2 ** 41, 3, -1]))
raw_values = (ctypes.c_longlong * 6)(5, -(2 ** 40), 4, 2 ** 41, 3, -1)
RAW_CMP = _rawffi.CallbackPtr(
    lambda a, b: (_rawffi.load(a, "q") > _rawffi.load(b, "q")) - (_rawffi.load(a, "q") < _rawffi.load(b, "q")),
    ["P", "P"], "i")
raw_qsort = _rawffi.CDLL(p["libc_soname"]).ptr("qsort", ["P", "N", "N", "P"], "v")
raw_qsort(ctypes.addressof(raw_values), len(raw_values), 8, RAW_CMP.buffer)
check("_rawffi qsort(long long[])", list(raw_values), sorted([5, -(2 ** 40), 4, 2 ** 41, 3, -1]))
SUM = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_int, ctypes.c_longlong, ctypes.c_double)
seen = []


def total(i, q, d):
    seen.append((i, q, d))
    return i + q + d


cb = SUM(total)
check("callback called directly", cb(-3, 2 ** 40, 0.5), -3 + 2 ** 40 + 0.5)
check("callback arguments", seen, [(-3, 2 ** 40, 0.5)])

# Byte order in native memory: struct fields and scalars as this
# architecture lays them out.
class Fields(ctypes.Structure):
    _fields_ = [("i", ctypes.c_uint32), ("h", ctypes.c_uint16), ("q", ctypes.c_uint64)]


f = Fields(0x01020304, 0x0506, 0x0708090A0B0C0D0E)
order = "big" if want["big_endian"] else "little"
expected = (0x01020304).to_bytes(4, order) + (0x0506).to_bytes(2, order)
check("struct fields' bytes", ctypes.string_at(ctypes.addressof(f), 6), expected)
check("uint64 field's bytes", ctypes.string_at(ctypes.addressof(f) + Fields.q.offset, 8), (0x0708090A0B0C0D0E).to_bytes(8, order))
libc.memcmp.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
check("memcmp(native bytes of a field)", libc.memcmp(ctypes.addressof(f), expected, 6), 0)

# Memory: values stored in native memory read back through native code.
n = ctypes.c_long(-123456)
check("c_long in memory", ctypes.cast(ctypes.pointer(n), ctypes.POINTER(ctypes.c_long))[0], -123456)
buf = ctypes.create_string_buffer(b"native", 16)
check("strlen(buffer)", libc.strlen(buf), 6)
block = _rawffi.malloc(16)
_rawffi.store(block, "l", -2)
check("_rawffi store/load 'l'", _rawffi.load(block, "l"), -2)
labs = _rawffi.CDLL(p["libc_soname"]).ptr("labs", ["l"], "l")
check("_rawffi labs", labs(-(2 ** (8 * want["long"] - 1) + 1)), 2 ** (8 * want["long"] - 1) - 1)
_rawffi.free(block)

# Addresses above 2 GiB (the upper half of the address space on a
# 32-bit architecture) stay unsigned through calls, memory and results.
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
high = libc.mmap(want["high_address"], 65536, 3, 0x22, -1, 0)
assert high and high >= 2 ** 31, hex(high or 0)
ctypes.memmove(high, b"upper half\0", 11)
check("string_at(high address)", ctypes.string_at(high), b"upper half")
libc.strlen.argtypes = [ctypes.c_void_p]
check("strlen(high address)", libc.strlen(high), 10)
libc.memchr.restype = ctypes.c_void_p
libc.memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
check("memchr result above 2 GiB", libc.memchr(high, ord("h"), 10), high + 6)
check("_rawffi.memread(high)", _rawffi.memread(high, 5), b"upper")
print("OK native_arch_abi")
