# ctypes: Structure/Union, _fields_, _pack_, _align_, _anonymous_, bitfields (GCC layout),
# nesting, arrays, arrays of structs, incomplete types, _layout_.
import os
from ctypes import *

t = CDLL(os.environ["WASMFFI_TESTLIB"])
t.t_layout.argtypes = [c_char_p]
t.t_layout.restype = c_size_t
C = lambda what: t.t_layout(what.encode())

class Point(Structure):
    _fields_ = [("x", c_int), ("y", c_int)]
class Pair(Structure):
    _fields_ = [("a", c_double), ("b", c_double)]
class Nested(Structure):
    _fields_ = [("origin", Point), ("name", c_char * 12), ("scale", Pair)]
class Mixed(Structure):
    _fields_ = [("c", c_char), ("s", c_short), ("d", c_double), ("c2", c_char)]

for cls in (Point, Pair, Nested, Mixed):
    assert sizeof(cls) == C(cls.__name__), (cls, sizeof(cls))
    assert alignment(cls) == C("align " + cls.__name__)
    for name, _ in cls._fields_:
        assert getattr(cls, name).offset == C(cls.__name__ + "." + name), (cls, name)

n = Nested()
n.origin.x = 3
n.origin = Point(5, 6)
n.name = b"widget"
n.scale = (1.5, 4.0)
assert (n.origin.x, n.origin.y, n.name, n.scale.b) == (5, 6, b"widget", 4.0)
t.t_nested_digest.argtypes = [Nested]
t.t_nested_digest.restype = c_double
assert t.t_nested_digest(n) == 5 + 6 + 100 * 6 + 1.5 * 4.0
o = n.origin           # a view that keeps n alive
o.y = 60
assert n.origin.y == 60 and o._b_base_ is n
assert Point(1, 2).y == 2 and Point(y=7).y == 7 and Point(1, y=2).x == 1
try:
    Point(1, 2, 3)
except TypeError:
    pass
else:
    raise AssertionError

class U(Union):
    _fields_ = [("i", c_uint32), ("f", c_float), ("b", c_ubyte * 4)]
u = U()
u.f = 1.0
assert u.i == 0x3F800000 and list(u.b) == [0, 0, 0x80, 0x3F] and sizeof(U) == 4

class Packed(Structure):
    _layout_ = "ms"
    _pack_ = 1
    _fields_ = [("c", c_char), ("i", c_int), ("d", c_double)]
assert sizeof(Packed) == 13 and Packed.i.offset == 1 and Packed.d.offset == 5
class Aligned(Structure):
    _align_ = 16
    _fields_ = [("c", c_char)]
assert sizeof(Aligned) == 16 and alignment(Aligned) == 16

class Inner(Structure):
    _fields_ = [("a", c_int), ("b", c_int)]
class Outer(Structure):
    _anonymous_ = ("inner",)
    _fields_ = [("tag", c_int), ("inner", Inner)]
ou = Outer()
ou.a = 5
ou.b = 6
assert ou.inner.a == 5 and ou.inner.b == 6 and Outer.b.offset == 8

class Bits(Structure):
    _fields_ = [("a", c_uint, 3), ("b", c_int, 5), ("c", c_uint, 24), ("d", c_ushort, 9)]
bt = Bits()
bt.a, bt.b, bt.c, bt.d = 5, -3, 0xABCDEF, 300
assert (bt.a, bt.b, bt.c, bt.d) == (5, -3, 0xABCDEF, 300)
raw = int.from_bytes(bytes(bt)[:4], "little")
assert raw & 7 == 5 and (raw >> 3) & 31 == (-3 & 31) and (raw >> 8) == 0xABCDEF
assert sizeof(Bits) == 8 and Bits.b.bit_offset == 3 and Bits.b.bit_size == 5
bt.a = 9                      # truncated to 3 bits
assert bt.a == 1

pts = (Point * 3)(Point(1, 2), Point(3, 4))
assert pts[1].y == 4 and pts[2].x == 0
pts[2] = Point(9, 9)
assert [p.x for p in pts] == [1, 3, 9]
assert sizeof(pts) == 24

class Node(Structure):
    pass
Node._fields_ = [("value", c_int), ("next", POINTER(Node))]
a, b = Node(1), Node(2)
a.next = pointer(b)
assert a.next.contents.value == 2 and not b.next
try:
    Node._fields_ = [("x", c_int)]
except AttributeError:
    pass
else:
    raise AssertionError("_fields_ not final")

class Base(Structure):
    _fields_ = [("a", c_int)]
class Derived(Base):
    _fields_ = [("b", c_int)]
dd = Derived(1, 2)
assert (dd.a, dd.b) == (1, 2) and sizeof(Derived) == 8

class Matrix(Structure):
    _fields_ = [("m", (c_double * 2) * 2)]
mm = Matrix()
mm.m[1][0] = 2.5
assert mm.m[1][0] == 2.5
assert Point.x.__class__.__name__ == "CField" and "ofs=4" in repr(Point.y)

# BigEndianUnion: the bytes are big-endian in memory, as libc's ntohl sees them
libc = CDLL("libc.so.6")
libc.ntohl.argtypes = [c_uint32]
libc.ntohl.restype = c_uint32
class Wire(BigEndianUnion):
    _fields_ = [("word", c_uint32), ("octets", c_ubyte * 4)]
w = Wire()
w.word = 0x0A0B0C0D
assert list(w.octets) == [0x0A, 0x0B, 0x0C, 0x0D] and bytes(w) == b"\x0a\x0b\x0c\x0d"
raw = cast(pointer(w), POINTER(c_uint32))[0]
assert libc.ntohl(raw) == 0x0A0B0C0D

# incomplete types, the old way: POINTER("name") completed by SetPointerType
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    lpcell = POINTER("cell")
    class cell(Structure):
        _fields_ = [("name", c_char_p), ("next", lpcell)]
    SetPointerType(lpcell, cell)
c1, c2 = cell(b"foo"), cell(b"bar")
c1.next = pointer(c2)
c2.next = pointer(c1)
walk, seen = c1, []
for _ in range(4):
    seen.append(walk.name)
    walk = walk.next[0]
assert seen == [b"foo", b"bar", b"foo", b"bar"]

# attribute access keeps Python's rules when a class customises it
class WithFallback(Structure):
    _fields_ = [("v", c_int)]
    def __getattr__(self, name):
        return "fallback:" + name
wf = WithFallback(3)
assert wf.v == 3 and wf.missing == "fallback:missing"
class Late(Structure):
    _fields_ = [("v", c_int)]
Late.__getattr__ = lambda self, name: 42
assert Late(1).v == 1 and Late(1).nope == 42
class Audited(Late):
    def __getattribute__(self, name):
        return ("audited", object.__getattribute__(self, name))
assert Audited(5).v == ("audited", 5)
class Guarded(Structure):
    _fields_ = [("v", c_int)]
    def __setattr__(self, name, value):
        if name == "v" and value < 0:
            raise ValueError("negative")
        super().__setattr__(name, value)
g = Guarded()
g.v = 4
assert g.v == 4
try:
    g.v = -1
except ValueError:
    assert g.v == 4
else:
    raise AssertionError("__setattr__ bypassed")
try:
    Point(1, 2).nope
except AttributeError:
    pass
else:
    raise AssertionError("missing attribute")

print("OK ctypes_aggregates")
