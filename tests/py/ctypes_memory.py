# ctypes: pointers and memory: POINTER, pointer, contents, indexing, NULL, byref, addressof,
# cast, memmove, memset, string_at, wstring_at, buffers, resize, from_address/_buffer, in_dll.
import os
import sys
import ctypes
import gc
from ctypes import *

t = CDLL(os.environ["WASMFFI_TESTLIB"])
libc = CDLL("libc.so.6")

i = c_int(5)
p = pointer(i)
assert type(p) is POINTER(c_int) and POINTER(c_int) is POINTER(c_int)
assert p.contents.value == 5 and p[0] == 5
p[0] = 9
assert i.value == 9
p.contents = c_int(11)
assert p[0] == 11 and i.value == 9
null = POINTER(c_int)()
assert not null and bool(p)
try:
    null[0]
except ValueError:
    pass
else:
    raise AssertionError("NULL dereference")

arr = (c_int * 5)(10, 20, 30, 40, 50)
assert len(arr) == 5 and arr[-1] == 50 and arr[1:4] == [20, 30, 40] and arr[::2] == [10, 30, 50]
pa = cast(arr, POINTER(c_int))
assert pa[3] == 40 and pa[1:3] == [20, 30]
assert addressof(arr) == cast(arr, c_void_p).value
assert sizeof(arr) == 20 and alignment(arr) == 4
t.t_sum_ints.argtypes = [POINTER(c_int), c_size_t]
t.t_sum_ints.restype = c_long
assert t.t_sum_ints(arr, 5) == 150
assert t.t_sum_ints(byref(arr, sizeof(c_int) * 2), 3) == 120  # byref with offset

# out-params through byref
q, r = c_int(), c_int()
t.t_divmod(17, 5, byref(q), byref(r))
assert (q.value, r.value) == (3, 2)

# memmove / memset / string_at / wstring_at
buf = create_string_buffer(16)
assert sizeof(buf) == 16 and buf.raw == bytes(16)
memmove(buf, b"hello", 5)
assert buf.value == b"hello"
memset(byref(buf, 2), ord("L"), 2)
assert buf.value == b"heLLo"
assert string_at(buf) == b"heLLo" and string_at(buf, 3) == b"heL"
assert string_at(addressof(buf) + 1, 2) == b"eL"
w = create_unicode_buffer("h\u00e9llo \u2603")
assert w.value == "h\u00e9llo \u2603" and len(w) == 8
assert wstring_at(w) == "h\u00e9llo \u2603" and wstring_at(w, 2) == "h\u00e9"
t.t_wcslen.argtypes = [c_wchar_p]
assert t.t_wcslen(w) == 7
b2 = create_string_buffer(b"abc")
assert sizeof(b2) == 4 and b2.raw == b"abc\0"
b2.value = b"xy"
assert b2.raw == b"xy\0\0"
t.t_reverse(b2)
assert b2.value == b"yx"

# resize
rb = create_string_buffer(4)
resize(rb, 32)
assert sizeof(rb) == 32
try:
    resize(rb, 1)
except ValueError:
    pass

# from_address / from_buffer / from_buffer_copy
x = c_int(77)
y = c_int.from_address(addressof(x))
y.value = 78
assert x.value == 78
block = (c_ubyte * 8)(*range(8))
view = c_uint16.from_buffer(block, 2)
assert view.value == 2 | (3 << 8)
view.value = 0xFFFF
assert block[2] == 255 and block[3] == 255
assert view._b_base_ is block
# from_buffer over guest memory: a host copy kept coherent with the buffer both ways
import array
arr = array.array("i", range(8))
ints = (c_int * 8).from_buffer(arr, 0)
arr[0] = 100  # Python writes into the buffer: ctypes sees it
assert ints[0] == 100 and ints[:3] == [100, 1, 2]
ints[1] = -7  # ctypes writes: the buffer sees it
assert arr[1] == -7
t.t_sum_ints.argtypes = [POINTER(c_int), c_size_t]
t.t_sum_ints.restype = c_long
assert t.t_sum_ints(ints, 8) == sum(arr)  # native code reads the buffer's contents
libc.memset(byref(ints, 4 * 6), 0, 8)  # native code writes: the buffer sees it
assert arr.tolist() == [100, -7, 2, 3, 4, 5, 0, 0], arr
try:
    arr.append(1)  # the export pins the buffer, as in CPython
except BufferError:
    pass
else:
    raise AssertionError("buffer resized under a from_buffer() object")
del ints
gc.collect()
arr.append(1)
frame = bytearray(b"\x00\x10hello\x00")
class Frame(BigEndianStructure):
    _fields_ = [("length", c_uint16), ("text", c_char * 5)]
f = Frame.from_buffer(frame)
assert f.length == 16 and f.text == b"hello"
f.length = 0x0102
assert frame[:2] == b"\x01\x02"
cp = c_uint32.from_buffer_copy(b"\x01\x00\x00\x00extra")
assert cp.value == 1
try:
    c_uint64.from_buffer_copy(b"short")
except ValueError:
    pass

# in_dll: read and write a C global
counter = c_int.in_dll(t, "t_counter")
start = counter.value
assert t.t_bump() == start + 1 and counter.value == start + 1
counter.value = 1000
t.t_get_counter.restype = c_int
assert t.t_get_counter() == 1000
assert c_double.in_dll(t, "t_gdouble").value == 2.5
assert (c_char * 14).in_dll(t, "t_greeting").value == b"hello, global"

# pointers returned by C
t.t_make_ints.restype = POINTER(c_int32)
t.t_make_ints.argtypes = [c_size_t]
mi = t.t_make_ints(4)
assert mi[:4] == [0, 3, 6, 9]
t.t_free.argtypes = [c_void_p]
t.t_free(mi)
t.t_static_string.restype = c_char_p
assert t.t_static_string() == b"wasmffi test library"
t.t_null_string.restype = c_char_p
assert t.t_null_string() is None
t.t_strdup_upper.restype = POINTER(c_char)
up = t.t_strdup_upper(b"shout")
assert up[:5] == b"SHOUT"
assert string_at(up) == b"SHOUT"
t.t_free(up)

# memoryview / PEP 3118
class Pt(Structure):
    _fields_ = [("x", c_int), ("y", c_double)]
mv = memoryview(Pt())
assert mv.format == "T{<i:x:4x<d:y:}", mv.format
assert mv.itemsize == 16 and mv.nbytes == 16


def tolist_as_cpython(view, expected):
    """3.12+ unpacks ctypes' explicit-byte-order formats ("<i"); 3.11 refuses
    them, natively too."""
    if sys.version_info >= (3, 12):
        assert view.tolist() == expected, view.tolist()
        return
    try:
        view.tolist()
    except NotImplementedError:
        pass
    else:
        raise AssertionError(f"3.11's memoryview unpacked {view.format}")


ma = memoryview((c_int * 3)(1, 2, 3))
assert ma.format == "<i" and ma.shape == (3,)
tolist_as_cpython(ma, [1, 2, 3])
m2 = memoryview(((c_short * 2) * 3)())
assert m2.shape == (3, 2) and m2.format == "<h"
assert memoryview(c_double(1)).format == "<d"
scalar = memoryview(c_int(7))
assert len(scalar) == 1 and scalar.shape == ()
tolist_as_cpython(scalar, [7])
for typ, fmt in ((c_void_p, "<P"), (c_char_p, "<z"), (c_wchar_p, "<Z"), (py_object, "<O")):
    view = memoryview(typ())
    assert view.format == fmt and view.nbytes == sizeof(typ), (typ, view.format)
    try:
        view.tolist()  # the struct module cannot unpack these: CPython's error
    except NotImplementedError:
        pass
    else:
        raise AssertionError(typ)
assert memoryview(POINTER(c_short * 2)()).format == "&(2)<h"
class Nothing(Structure):
    pass
assert memoryview(Nothing()).itemsize == 0

# cast between pointer types and to c_void_p / c_char_p
d = c_double(1.0)
raw = cast(pointer(d), POINTER(c_uint64))
assert raw[0] == 0x3FF0000000000000
assert cast(None, c_void_p).value is None
assert cast(c_char_p(b"xyz"), c_void_p).value != 0

# keep-alive (`_objects`): what native memory points at lives as long as CPython keeps it,
# laid out as CPython lays it out, and the pointed-at bytes stay readable by C (strlen).
import gc
libc.strlen.argtypes = [c_void_p]
libc.strlen.restype = c_size_t

class Named(Structure):
    _fields_ = [("id", c_int), ("name", c_char_p)]
n = Named(1, b"x" * 40 + b"tail")
assert n._objects == {"1": b"x" * 40 + b"tail"}, n._objects
gc.collect()
assert libc.strlen(cast(n.name, c_void_p)) == 44 and n.name.endswith(b"tail")
class Outer(Structure):
    _fields_ = [("a", c_int), ("names", c_char_p * 3)]
o = Outer()
assert o._objects is None
o.names[2] = b"deep"
assert o._objects == {"2:1": b"deep"}, o._objects
names = (c_char_p * 2)()
names[1] = b"kept by the array"
pn = cast(names, POINTER(c_char_p))
assert pn._objects is names._objects and pn._objects[id(names)] is names
del names
gc.collect()
assert pn[1] == b"kept by the array"  # the array (and its string) live on through the cast
pp = pointer(c_int(42))
assert list(pp._objects) == ["1"] and pp._objects["1"].value == 42
assert c_char_p(b"abc")._objects == b"abc" and c_int(3)._objects is None

print("OK ctypes_memory")
