# ctypes: every simple type, .value, from_param, subclassing, byte-swapped types.
import sys
import struct
import ctypes
from ctypes import *

assert sizeof(c_char) == 1 and sizeof(c_short) == 2 and sizeof(c_int) == 4
assert sizeof(c_long) == 8 and sizeof(c_longlong) == 8 and sizeof(c_void_p) == 8
assert sizeof(c_double) == 8 and sizeof(c_float) == 4 and sizeof(c_bool) == 1
assert sizeof(c_wchar) == 4 and sizeof(c_size_t) == 8 and sizeof(c_longdouble) == 16
assert alignment(c_double) == 8 and alignment(c_longdouble) == 16
assert c_int is not c_long  # sizes from the host, not wasm32

cases = [
    (c_byte, -5, -5), (c_byte, 200, -56), (c_ubyte, 255, 255), (c_ubyte, 256, 0),
    (c_short, -300, -300), (c_ushort, -1, 65535), (c_int, 2**31 - 1, 2**31 - 1),
    (c_int, 2**31, -2**31), (c_uint, -1, 2**32 - 1), (c_long, -2**63, -2**63),
    (c_ulong, 2**64 - 1, 2**64 - 1), (c_longlong, 42, 42), (c_ulonglong, -1, 2**64 - 1),
    (c_int8, -1, -1), (c_uint16, 70000, 70000 - 65536), (c_int64, 2**40, 2**40),
    (c_size_t, 123, 123), (c_ssize_t, -123, -123),
    (c_float, 1.5, 1.5), (c_double, 0.1, 0.1), (c_longdouble, 2.5, 2.5),
    (c_bool, 7, True), (c_bool, 0, False), (c_char, b"x", b"x"), (c_char, 65, b"A"),
    (c_wchar, "\u20ac", "\u20ac"), (c_char_p, b"hi", b"hi"), (c_char_p, None, None),
    (c_wchar_p, "h\u00e9", "h\u00e9"), (c_void_p, 1234, 1234), (c_void_p, None, None),
]
for tp, value, expected in cases:
    obj = tp(value)
    assert obj.value == expected, (tp, value, obj.value)
    obj.value = value
    assert obj.value == expected
    assert tp().value in (0, 0.0, False, b"\0", "\0", None), (tp, tp().value)

assert repr(c_int(5)) == "c_int(5)"
assert bool(c_int(0)) is False and bool(c_int(3)) is True
try:
    c_int(1.5)
except TypeError:
    pass
else:
    raise AssertionError("c_int accepted a float")
try:
    c_char(b"ab")
except TypeError:
    pass
else:
    raise AssertionError

# float through a struct round trip
assert c_float(0.1).value == struct.unpack("f", struct.pack("f", 0.1))[0]
assert bytes(c_int(0x01020304)) == struct.pack("<i", 0x01020304)
assert memoryview(c_int(1)).format == "<i"

# from_param: an instance of the type as it is; anything else becomes a CArgObject that a
# call passes as the type it was converted for, whatever the declared argtypes.
ArgType = type(byref(c_int()))
x = c_int(3)
assert c_int.from_param(x) is x
p = c_int.from_param(5)
assert type(p) is ArgType and repr(p) == "<cparam 'i' (5)>", repr(p)
assert repr(c_double.from_param(1e300)) == "<cparam 'd' (1e+300)>"
assert repr(c_char.from_param(97)) == "<cparam 'c' ('a')>"
s = b"hello"
assert c_char_p.from_param(s)._obj is s and c_char_p.from_param(None) is None
for bad in ("nope", 1.5):
    try:
        c_int.from_param(bad)
    except (TypeError, OverflowError):
        pass
    else:
        raise AssertionError(bad)
libm = CDLL("libm.so.6")
libm.ldexp.restype = c_double
assert libm.ldexp(c_double.from_param(1.5), c_int.from_param(4)) == 24.0
libc = CDLL("libc.so.6")
libc.strlen.restype = c_size_t
assert libc.strlen(c_char_p.from_param(b"four")) == 4
assert libc.strlen(c_void_p.from_param(b"fives")) == 5

class Celsius:
    def __init__(self, degrees):
        self.degrees = degrees

class Fahrenheit(c_double):
    @classmethod
    def from_param(cls, obj):
        return c_double.from_param(obj.degrees * 1.8 + 32)

libm.fabs.argtypes = [Fahrenheit]
libm.fabs.restype = c_double
assert libm.fabs(Celsius(-100)) == 148.0

# subclassing: instances stay instances
class MyInt(c_int):
    def double(self):
        return self.value * 2
m = MyInt(21)
assert m.double() == 42 and sizeof(MyInt) == 4
assert "MyInt object" in repr(m)

# byte-swapped types
be = c_int.__ctype_be__
le = c_int.__ctype_le__
assert le is c_int
v = be(0x01020304)
assert v.value == 0x01020304
assert bytes(v) == b"\x01\x02\x03\x04"
assert bytes(c_uint16.__ctype_be__(0x0102)) == b"\x01\x02"
assert c_double.__ctype_be__(1.5).value == 1.5
assert bytes(c_double.__ctype_be__(1.0)) == struct.pack(">d", 1.0)
assert c_short.__ctype_be__(-2).value == -2

class BE(BigEndianStructure):
    _fields_ = [("a", c_uint32), ("b", c_int16), ("c", c_uint8)]
s = BE(0x11223344, -2, 9)
assert bytes(s)[:7] == b"\x11\x22\x33\x44\xff\xfe\x09"
assert (s.a, s.b, s.c) == (0x11223344, -2, 9)
class LE(LittleEndianStructure):
    _fields_ = [("a", c_uint32)]
assert bytes(LE(1)) == b"\x01\0\0\0"

# c_char_p keeps its bytes alive
p = c_char_p(b"keep me")
del cases
assert p.value == b"keep me"
assert string_at(cast(p, c_void_p).value) == b"keep me"

# c_time_t (CPython 3.12+; 3.11's ctypes has none): the host's time_t, filled
# in by libc's time(). On 3.11 the same call through c_long, time_t's type on
# x86_64 Linux.
import time as _time
if not hasattr(ctypes, "c_time_t"):
    c_time_t = c_long
libc.time.argtypes = [POINTER(c_time_t)]
libc.time.restype = c_time_t
stamp = c_time_t()
now = libc.time(byref(stamp))
assert now == stamp.value and abs(now - _time.time()) < 60, (now, _time.time())
assert sizeof(c_time_t) == 8  # x86_64 Linux

# py_object: any Python object, kept alive by the instance
payload = {"k": [1, 2]}
po = py_object(payload)
assert po.value is payload and po._objects is payload

print("OK ctypes_simple")
