# Native code's byte order in ctypes, asserted against C compiled for the
# architecture native code runs on (tests/clib's testlib.c, cross-built for
# --native-arch): run in-process on x86-64 and under --native-arch aarch64,
# i686 and s390x (big-endian) by tests/native_arch.rs. Whatever the guest's
# own order (wasm32: little), what ctypes writes or reads in native memory is
# in the order of the C that reads or wrote it.
import ctypes
import os
import struct
import sys

import _rawffi

BIG = _rawffi.platform["big_endian"]
NATIVE = "big" if BIG else "little"
SWAPPED = "little" if BIG else "big"
t = ctypes.CDLL(os.environ["WASMFFI_TESTLIB"])
libc = ctypes.CDLL(_rawffi.platform["libc_soname"])


def check(what, got, expected):
    if got != expected:
        raise AssertionError("%s: got %r, want %r" % (what, got, expected))
    print("%s: %r" % (what, got))


# The interpreter stays what it is; ctypes speaks native code's order.
check("sys.byteorder (the guest's)", sys.byteorder, "little")

t.t_bytes_le.restype = t.t_bytes_be.restype = ctypes.c_ulonglong
t.t_bytes_le.argtypes = t.t_bytes_be.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
t.t_store_le.argtypes = t.t_store_be.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_ulonglong]
read_native = t.t_bytes_be if BIG else t.t_bytes_le
read_swapped = t.t_bytes_le if BIG else t.t_bytes_be
read_order = {"little": t.t_bytes_le, "big": t.t_bytes_be}
store_order = {"little": t.t_store_le, "big": t.t_store_be}

# Struct fields of every width, written by Python, read by C byte by byte
# in native order; written by C, read by Python.
WIDTHS = [(ctypes.c_uint8, 0xA1), (ctypes.c_uint16, 0xA1B2), (ctypes.c_uint32, 0xA1B2C3D4),
          (ctypes.c_uint64, 0xA1B2C3D4E5F60718), (ctypes.c_int16, -2), (ctypes.c_int64, -(2 ** 40) - 5)]


class Widths(ctypes.Structure):
    _fields_ = [("f%d" % i, tp) for i, (tp, _) in enumerate(WIDTHS)]


w = Widths(*[v for _, v in WIDTHS])
for i, (tp, v) in enumerate(WIDTHS):
    field = getattr(Widths, "f%d" % i)
    size = ctypes.sizeof(tp)
    check("%s field read by C" % tp.__name__,
          read_native(ctypes.addressof(w) + field.offset, size), v & ((1 << (8 * size)) - 1))
for i, (tp, v) in enumerate(WIDTHS):
    field = getattr(Widths, "f%d" % i)
    store_order[NATIVE](ctypes.addressof(w) + field.offset, ctypes.sizeof(tp), (v * 3) & (2 ** 64 - 1))
    size = ctypes.sizeof(tp)
    want = (v * 3) & ((1 << (8 * size)) - 1)
    if tp(-1).value < 0 and want >> (8 * size - 1):
        want -= 1 << (8 * size)
    check("%s field written by C" % tp.__name__, getattr(w, "f%d" % i), want)

# Bit fields: C sets them, Python reads them; Python sets them, C reads them.
# GCC allocates them from the most significant end on a big-endian target.


class Bits(ctypes.Structure):
    _fields_ = [("a", ctypes.c_uint, 3), ("b", ctypes.c_int, 5), ("c", ctypes.c_uint, 12),
                ("d", ctypes.c_ubyte, 4), ("e", ctypes.c_ushort, 9), ("g", ctypes.c_int, 7),
                ("f", ctypes.c_longlong, 40), ("h", ctypes.c_ubyte, 1)]


t.t_bits_size.restype = ctypes.c_size_t
check("sizeof(Bits) as C", ctypes.sizeof(Bits), t.t_bits_size())
t.t_bits_set.argtypes = [ctypes.POINTER(Bits), ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                         ctypes.c_uint, ctypes.c_int, ctypes.c_longlong, ctypes.c_uint]
t.t_bits_get.restype = ctypes.c_longlong
t.t_bits_get.argtypes = [ctypes.POINTER(Bits), ctypes.c_char]
from_c = dict(a=5, b=-11, c=0xABC, d=9, e=0x155, g=-37, f=-(2 ** 38) + 12345, h=1)
bits = Bits()
t.t_bits_set(ctypes.byref(bits), *[from_c[k] for k in "abcdegfh"])
check("bit fields written by C", {k: getattr(bits, k) for k in from_c}, from_c)
from_py = dict(a=2, b=13, c=0x5A5, d=6, e=0x0AA, g=50, f=2 ** 39 - 99, h=0)
for k, v in from_py.items():
    setattr(bits, k, v)
check("bit fields written by Python, read by C",
      {k: t.t_bits_get(ctypes.byref(bits), k.encode()) for k in from_py}, from_py)

# Byte-swapped types: which is native and which swapped is native code's
# order (ctypes/_endian.py and __ctype_be__/__ctype_le__).
for tp in (ctypes.c_short, ctypes.c_int, ctypes.c_long, ctypes.c_ulonglong, ctypes.c_double):
    check("%s.__ctype_%se__ is itself" % (tp.__name__, NATIVE[0]),
          getattr(tp, "__ctype_%se__" % NATIVE[0]) is tp, True)
    check("%s.__ctype_%se__ is another type" % (tp.__name__, SWAPPED[0]),
          getattr(tp, "__ctype_%se__" % SWAPPED[0]) is tp, False)
native_struct = ctypes.BigEndianStructure if BIG else ctypes.LittleEndianStructure
swapped_struct = ctypes.LittleEndianStructure if BIG else ctypes.BigEndianStructure
check("%sEndianStructure is Structure" % NATIVE.capitalize(), native_struct is ctypes.Structure, True)
check("%sEndianStructure is swapped" % SWAPPED.capitalize(), swapped_struct is ctypes.Structure, False)
check("%sEndianUnion is Union" % NATIVE.capitalize(),
      (ctypes.BigEndianUnion if BIG else ctypes.LittleEndianUnion) is ctypes.Union, True)

for order in ("little", "big"):
    for tp, v in ((ctypes.c_uint16, 0x0102), (ctypes.c_int32, -0x01020304), (ctypes.c_uint64, 0x0102030405060708)):
        other = getattr(tp, "__ctype_%se__" % order[0])
        size = ctypes.sizeof(tp)
        x = other(v)
        check("%s.__ctype_%se__ read by C as %s-endian" % (tp.__name__, order[0], order),
              read_order[order](ctypes.addressof(x), size), v & ((1 << (8 * size)) - 1))
        store_order[order](ctypes.addressof(x), size, 0x1122334455667788 & ((1 << (8 * size)) - 1))
        check("%s.__ctype_%se__ written by C" % (tp.__name__, order[0]),
              x.value, 0x1122334455667788 & ((1 << (8 * size)) - 1))
    d = getattr(ctypes.c_double, "__ctype_%se__" % order[0])(1.5)
    check("c_double.__ctype_%se__(1.5) read by C" % order[0], read_order[order](ctypes.addressof(d), 8), 0x3FF8000000000000)


class BE(ctypes.BigEndianStructure):
    _fields_ = [("i", ctypes.c_uint32), ("hi", ctypes.c_uint32, 4), ("lo", ctypes.c_uint32, 12), ("q", ctypes.c_int64)]


class LE(ctypes.LittleEndianStructure):
    _fields_ = [("i", ctypes.c_uint32), ("lo", ctypes.c_uint32, 4), ("hi", ctypes.c_uint32, 12), ("q", ctypes.c_int64)]


for cls, order, unit in ((BE, "big", (0xA << 28) | (0x123 << 16)), (LE, "little", 0xA | (0x123 << 4))):
    s = cls(i=0x01020304, q=-3)
    if cls is BE:
        s.hi, s.lo = 0xA, 0x123
    else:
        s.lo, s.hi = 0xA, 0x123
    base = ctypes.addressof(s)
    check("%s: uint32 field read by C" % cls.__name__, read_order[order](base, 4), 0x01020304)
    check("%s: bit fields' unit read by C" % cls.__name__, read_order[order](base + 4, 4), unit)
    check("%s: int64 field read by C" % cls.__name__, read_order[order](base + cls.q.offset, 8), 2 ** 64 - 3)
    store_order[order](base + cls.q.offset, 8, 0x0807060504030201)
    check("%s: int64 field written by C" % cls.__name__, s.q, 0x0807060504030201)

# long double through memory (alone and as a struct field) and as argument
# and result; its bytes are the architecture's (binary128 big-endian on s390x).
t.t_ld_store.argtypes = [ctypes.POINTER(ctypes.c_longdouble), ctypes.c_longdouble]
t.t_ld_load.restype = ctypes.c_double
t.t_ld_load.argtypes = [ctypes.POINTER(ctypes.c_longdouble)]
ld = ctypes.c_longdouble(-2.75)
check("c_longdouble(-2.75) read by C", t.t_ld_load(ctypes.byref(ld)), -2.75)
t.t_ld_store(ctypes.byref(ld), 1e300)
check("long double written by C", ld.value, 1e300)
arr = (ctypes.c_longdouble * 3)(0.5, -1.25, 3.0)
check("long double array items read by C", [t.t_ld_load(ctypes.byref(arr, i * ctypes.sizeof(ctypes.c_longdouble))) for i in range(3)], [0.5, -1.25, 3.0])
if _rawffi.platform["c_types"]["long double"][0] == 16 and ctypes.sizeof(ctypes.c_longdouble) == 16 and \
        _rawffi.platform["arch"] in ("s390x", "aarch64"):
    # IEEE binary128: sign and exponent 0xC000 lead -2.0 in big-endian order
    raw = ctypes.string_at(ctypes.addressof(ctypes.c_longdouble(-2.0)), 16)
    check("bytes of (long double)-2 (binary128)", raw, (0xC000 << 112).to_bytes(16, NATIVE))


class LdBox(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_char), ("x", ctypes.c_longdouble), ("after", ctypes.c_int)]


t.t_ldbox_size.restype = t.t_ldbox_x_offset.restype = ctypes.c_size_t
check("sizeof(LdBox) as C", ctypes.sizeof(LdBox), t.t_ldbox_size())
check("offsetof(LdBox, x) as C", LdBox.x.offset, t.t_ldbox_x_offset())
t.t_ldbox_set.argtypes = [ctypes.POINTER(LdBox), ctypes.c_char, ctypes.c_longdouble, ctypes.c_int]
t.t_ldbox_digest.restype = ctypes.c_longdouble
t.t_ldbox_digest.argtypes = [ctypes.POINTER(LdBox)]
box = LdBox(b"\x03", 0.375, 7)
check("LdBox digest by C", t.t_ldbox_digest(ctypes.byref(box)), 3 + 0.75 + 28)
t.t_ldbox_set(ctypes.byref(box), b"\x01", -1e-300, -9)
check("LdBox written by C", (box.tag, box.x, box.after), (b"\x01", -1e-300, -9))
t.t_add_ld.restype = ctypes.c_longdouble
t.t_add_ld.argtypes = [ctypes.c_longdouble, ctypes.c_longdouble]
check("t_add_ld(1.5, 2.25)", t.t_add_ld(1.5, 2.25), 3.75)

# Callbacks with POINTER arguments: qsort hands ctypes pointers that must
# read as native code's addresses.
for tp, values in ((ctypes.c_int, [5, -7, 2 ** 30, 0, -(2 ** 31), 3]),
                   (ctypes.c_longlong, [5, -(2 ** 40), 4, 2 ** 41, 3, -1]),
                   (ctypes.c_short, [300, -2, 7, -300, 0])):
    CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(tp), ctypes.POINTER(tp))
    seen = []

    def compare(a, b):
        seen.append(ctypes.addressof(a.contents))
        return (a[0] > b[0]) - (a[0] < b[0])

    data = (tp * len(values))(*values)
    libc.qsort(data, len(values), ctypes.sizeof(tp), CMP(compare))
    check("qsort(%s[]) with a POINTER callback" % tp.__name__, list(data), sorted(values))
    end = ctypes.addressof(data) + ctypes.sizeof(data)
    check("qsort's pointers inside the array", all(ctypes.addressof(data) <= a < end for a in seen), True)

# A callback taking a pointer to a struct and a pointer to a pointer.
VISIT = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.POINTER(Widths), ctypes.POINTER(ctypes.c_void_p))
holder = ctypes.c_void_p(ctypes.addressof(w))
cb = VISIT(lambda s, pp: s.contents.f2 + (pp[0] == ctypes.addressof(w)))
check("callback's struct and pointer-to-pointer arguments",
      cb(ctypes.byref(w), ctypes.byref(holder)), w.f2 + 1)

# long double as a callback's argument and result, and behind a POINTER.
LD_CB = ctypes.CFUNCTYPE(ctypes.c_longdouble, ctypes.c_longdouble, ctypes.POINTER(ctypes.c_longdouble))
ld_cb = LD_CB(lambda x, p: x * 2 + p[0])
check("long double callback", ld_cb(1.25, ctypes.byref(ctypes.c_longdouble(-0.5))), 2.0)

# Wide strings in native memory: wcstol parses what ctypes encoded, ctypes
# decodes what libc found.
libc.wcstol.restype = ctypes.c_long
libc.wcstol.argtypes = [ctypes.c_wchar_p, ctypes.c_void_p, ctypes.c_int]
check("wcstol(c_wchar_p '12345')", libc.wcstol("12345", None, 10), 12345)
buf = ctypes.create_unicode_buffer("-4242 rest")
check("wcstol(unicode buffer)", libc.wcstol(buf, None, 10), -4242)
libc.wcschr.restype = ctypes.c_wchar_p
libc.wcschr.argtypes = [ctypes.c_wchar_p, ctypes.c_wchar]
check("wcschr result decoded", libc.wcschr("héllo wörld", "w"), "wörld")
check("wstring_at(buffer)", ctypes.wstring_at(ctypes.addressof(buf)), "-4242 rest")
check("unicode buffer's first unit read by C",
      read_native(ctypes.addressof(buf), ctypes.sizeof(ctypes.c_wchar)), ord("-"))

# PEP 3118 formats say native code's order, as CPython on that machine.
E, S = (">", "<") if BIG else ("<", ">")
check("memoryview(c_short).format", memoryview(ctypes.c_short(1)).format, E + "h")
check("memoryview(c_short.__ctype_%se__).format" % SWAPPED[0],
      memoryview(getattr(ctypes.c_short, "__ctype_%se__" % SWAPPED[0])(1)).format, S + "h")
check("memoryview(c_long).format", memoryview(ctypes.c_long(1)).format,
      E + ("q" if ctypes.sizeof(ctypes.c_long) == 8 else "l"))
# Where long double is double (32-bit ARM), ctypes makes c_longdouble c_double.
check("memoryview(c_longdouble).format", memoryview(ctypes.c_longdouble(1)).format,
      E + ("d" if ctypes.c_longdouble is ctypes.c_double else "g"))
ints = (ctypes.c_int32 * 3)(1, -2, 0x01020304)
view = memoryview(ints)
check("int32[3] unpacked by its PEP 3118 format",
      struct.unpack(view.format[0] + "3" + view.format[1:], bytes(view)), (1, -2, 0x01020304))


class Pt(ctypes.Structure):
    _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_double)]


check("memoryview(struct).format", memoryview(Pt()).format, "T{%sh:x:%dx%sd:y:}" % (E, Pt.y.offset - 2, E))
print("OK native_arch_byteorder")
