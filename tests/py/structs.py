# Structures, unions and arrays through _rawffi: layout facts checked against what C
# says (t_layout), and structs passed and returned by value in both directions.
import os
import struct

import _rawffi

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
E = ">" if PLAT["big_endian"] else "<"
layout = t.ptr("t_layout", ["z"], "N")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def check_layout(shape, cname, fields):
    """shape's size, alignment and field offsets are those of the C type `cname`."""
    assert shape.size == layout(cname), (cname, shape.size, layout(cname))
    assert shape.alignment == layout("align " + cname), (cname, shape.alignment)
    for f in fields:
        c_off = layout(cname + "." + f)
        assert shape.fieldoffset(f) == c_off, (cname, f, shape.fieldoffset(f), c_off)


Point = _rawffi.Structure([("x", "i"), ("y", "i")])
Pair = _rawffi.Structure([("a", "d"), ("b", "d")])
Big = _rawffi.Structure([("a", "q"), ("b", "q"), ("c", "q"), ("d", "d")])
Nested = _rawffi.Structure([("origin", Point), ("name", ("c", 12)), ("scale", Pair)])
Mixed = _rawffi.Structure([("c", "c"), ("s", "h"), ("d", "d"), ("c2", "c")])
IntFloat = _rawffi.Structure([("i", "i"), ("f", "f")])
DoubleInt = _rawffi.Structure([("d", "d"), ("i", "i")])
Float3 = _rawffi.Structure([("x", "f"), ("y", "f"), ("z", "f")])
CharLong = _rawffi.Structure([("tag", "c"), ("v", "q")])

check_layout(Point, "Point", ["x", "y"])
check_layout(Pair, "Pair", ["a", "b"])
check_layout(Big, "Big", ["a", "b", "c", "d"])
check_layout(Nested, "Nested", ["origin", "name", "scale"])
check_layout(Mixed, "Mixed", ["c", "s", "d", "c2"])
check_layout(IntFloat, "IntFloat", ["i", "f"])
check_layout(DoubleInt, "DoubleInt", ["d", "i"])
check_layout(Float3, "Float3", ["x", "y", "z"])
check_layout(CharLong, "CharLong", ["tag", "v"])

# Layout facts that follow from the C rules, whatever the platform:
# padding puts a field at a multiple of its alignment, the size is a multiple of the
# alignment, and the struct is aligned like its most aligned member.
for shape, codes, names in [(Mixed, "chdc", ["c", "s", "d", "c2"]),
                            (CharLong, "cq", ["tag", "v"]),
                            (DoubleInt, "di", ["d", "i"])]:
    end = 0
    for name, code in zip(names, codes):
        off = shape.fieldoffset(name)
        assert off % _rawffi.alignment(code) == 0 and off >= end, (name, off, end)
        end = off + _rawffi.sizeof(code)
    assert shape.alignment == max(_rawffi.alignment(c) for c in codes)
    assert shape.size % shape.alignment == 0 and shape.size >= end
assert Mixed.fieldoffset("s") > Mixed.fieldoffset("c")  # padding after the char
assert Mixed.size > 1 + 2 + 8 + 1                         # padding is real
assert Nested.fieldoffset("name") == Point.size
assert Nested.fieldoffset("scale") % Pair.alignment == 0

# unions: all members at offset 0, size of the largest
U = _rawffi.Structure([("i", "I"), ("f", "f"), ("b", ("B", 4))], union=True)
assert U.size == 4 and U.fieldoffset("i") == U.fieldoffset("f") == U.fieldoffset("b") == 0
u = U()
u.f = 1.0
assert u.i == struct.unpack(E + "I", struct.pack(E + "f", 1.0))[0]
u.free()
U2 = _rawffi.Structure([("c", "c"), ("d", "d"), ("q", "q")], union=True)
assert U2.size == max(_rawffi.sizeof("d"), _rawffi.sizeof("q"))
assert U2.alignment == max(_rawffi.alignment("d"), _rawffi.alignment("q"))

# an inline array field
S = _rawffi.Structure([("n", "i"), ("data", ("i", 3)), ("tail", "c")])
assert S.fieldoffset("data") == _rawffi.sizeof("i")
assert S.fieldoffset("tail") == 4 * _rawffi.sizeof("i")
assert S.size == 5 * _rawffi.sizeof("i")  # 17 bytes rounded up to int alignment
s = S()
s.n = 3
for k in range(3):
    s.data[k] = 10 * (k + 1)
assert len(s.data) == 3 and [s.data[k] for k in range(3)] == [10, 20, 30]
assert _rawffi.memread(s.buffer, 4 * 4) == struct.pack(E + "4i", 3, 10, 20, 30)
s.free()

# ----------------------------------------------- fields, zeroing, views
p = Point()
assert p.buffer != 0
assert _rawffi.memread(p.buffer, Point.size) == bytes(Point.size)  # zeroed
assert (p.x, p.y) == (0, 0)
p.x = 3
p.y = -4
assert (p.x, p.y) == (3, -4)
assert _rawffi.memread(p.buffer, 8) == struct.pack(E + "ii", 3, -4)
p.x = 2 ** 32 + 5  # wraps like an int argument does
assert p.x == 5
v = Point.fromaddress(p.buffer)  # a view on the same memory
v.y = 99
assert p.y == 99 and v.buffer == p.buffer
_rawffi.store(p.buffer + Point.fieldoffset("x"), "i", -11)
assert p.x == -11 and v.x == -11

# ----------------------------------------------------- libc div/ldiv/lldiv


def c_div(a, b):
    """C's truncating division: (quot, rem)."""
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return q, a - b * q


for fname, code in [("div", "i"), ("ldiv", "l"), ("lldiv", "q")]:
    Res = _rawffi.Structure([("quot", code), ("rem", code)])
    f = libc.ptr(fname, [code, code], Res)
    bits = 8 * _rawffi.sizeof(code)
    big = 2 ** (bits - 1) - 1
    for a, b in [(17, 5), (-17, 5), (17, -5), (-17, -5), (0, 3), (big, 2), (-big, 7),
                 (big, big), (123456789, 1000)]:
        r = f(a, b)
        assert (r.quot, r.rem) == c_div(a, b), (fname, a, b, r.quot, r.rem)
        assert r.buffer != 0
        r.free()

# ------------------------------------------- testlib structs by value
make_point = t.ptr("t_make_point", ["i", "i"], Point)
point_sum = t.ptr("t_point_sum", [Point], "i")
point_scale = t.ptr("t_point_scale", [Point, "i"], Point)
point_add = t.ptr("t_point_add", [Point, Point], Point)
point_move = t.ptr("t_point_move", ["P", "i", "i"], "v")

a = make_point(3, -4)
assert (a.x, a.y) == (3, -4)
assert point_sum(a) == -1
b = point_scale(a, 5)
assert (b.x, b.y) == (15, -20)
assert b.buffer != a.buffer  # results are new instances
c = point_add(a, b)
assert (c.x, c.y) == (18, -24)
assert (a.x, a.y) == (3, -4)  # by value: the caller's copy is untouched
point_move(a.buffer, 10, 20)  # by pointer: it is changed
assert (a.x, a.y) == (13, 16)
q = Point()
q.x, q.y = 1000, 2000
assert point_sum(q) == 3000
for inst in (a, b, c, q):
    inst.free()

make_pair = t.ptr("t_make_pair", ["d", "d"], Pair)
pair_sum = t.ptr("t_pair_sum", [Pair], "d")
pair_swap = t.ptr("t_pair_swap", [Pair], Pair)
pr = make_pair(1.5, -2.25)
assert (pr.a, pr.b) == (1.5, -2.25)
assert pair_sum(pr) == 1.5 + -2.25
sw = pair_swap(pr)
assert (sw.a, sw.b) == (-2.25, 1.5)
pr.a = 0.1
pr.b = 0.7
assert pair_sum(pr) == 0.1 + 0.7
pr.free()
sw.free()

make_big = t.ptr("t_make_big", ["q", "q", "q", "d"], Big)
big_sum = t.ptr("t_big_sum", [Big], "d")
big_scale = t.ptr("t_big_scale", [Big, "q"], Big)
bg = make_big(2 ** 40, -3, 7, 0.5)
assert (bg.a, bg.b, bg.c, bg.d) == (2 ** 40, -3, 7, 0.5)
assert big_sum(bg) == float(2 ** 40) + -3.0 + 7.0 + 0.5
bs = big_scale(bg, -3)
assert (bs.a, bs.b, bs.c, bs.d) == (-3 * 2 ** 40, 9, -21, -1.5)
mine = Big()
mine.a, mine.b, mine.c, mine.d = 1, 2, 3, 4.25
assert big_sum(mine) == 10.25
for inst in (bg, bs, mine):
    inst.free()

make_nested = t.ptr("t_make_nested", ["i", "i", "z", "d", "d"], Nested)
nested_digest = t.ptr("t_nested_digest", [Nested], "d")
n = make_nested(3, 4, b"widget", 1.5, 4.0)
assert (n.origin.x, n.origin.y) == (3, 4)
assert (n.scale.a, n.scale.b) == (1.5, 4.0)
raw_name = _rawffi.memread(n.buffer + Nested.fieldoffset("name"), 12)
assert raw_name == b"widget" + bytes(12 - len(b"widget")), raw_name
assert len(n.name) == 12 and n.name[0] == b"w" and n.name[5] == b"t" and n.name[6] == b"\0"
assert nested_digest(n) == 3 + 4 + 100 * len(b"widget") + 1.5 * 4.0
# build one in Python, field by field, and let C read it
m = Nested()
m.origin.x = -10
m.origin.y = 25
_rawffi.memwrite(m.buffer + Nested.fieldoffset("name"), b"abc")
m.name[3] = b"d"
m.scale.a = 0.5
m.scale.b = 8.0
assert nested_digest(m) == -10 + 25 + 100 * len(b"abcd") + 0.5 * 8.0
assert _rawffi.load(m.buffer + Nested.fieldoffset("origin") + Point.fieldoffset("y"), "i") == 25
n.free()
m.free()

make_mixed = t.ptr("t_make_mixed", ["c", "h", "d", "c"], Mixed)
mixed_digest = t.ptr("t_mixed_digest", [Mixed], "d")
mx = make_mixed(b"A", -2, 3.5, b"z")
assert (mx.c, mx.s, mx.d, mx.c2) == (b"A", -2, 3.5, b"z")
assert mixed_digest(mx) == ord("A") + 2 * -2 + 4 * 3.5 + 8 * ord("z")
mine = Mixed()
mine.c = b"\x01"
mine.s = 300
mine.d = -0.25
mine.c2 = b"\x02"
assert mixed_digest(mine) == 1 + 2 * 300 + 4 * -0.25 + 8 * 2
# the padding bytes were never written: the fields sit where C expects them
raw = _rawffi.memread(mine.buffer, Mixed.size)
assert raw[Mixed.fieldoffset("c")] == 1 and raw[Mixed.fieldoffset("c2")] == 2
assert struct.unpack(E + "h", raw[Mixed.fieldoffset("s"):Mixed.fieldoffset("s") + 2])[0] == 300
mx.free()
mine.free()

# small structs of mixed classes (how they travel in registers is the ABI's business)
r = t.ptr("t_make_intfloat", ["i", "f"], IntFloat)(-7, 0.1)
assert (r.i, r.f) == (-7, f32(0.1))
assert t.ptr("t_intfloat_sum", [IntFloat], "d")(r) == -7 + f32(0.1)
r.free()
r = t.ptr("t_make_doubleint", ["d", "i"], DoubleInt)(2.75, 123456)
assert (r.d, r.i) == (2.75, 123456)
assert t.ptr("t_doubleint_sum", [DoubleInt], "d")(r) == 2.75 + 123456
r.free()
r = t.ptr("t_make_float3", ["f", "f", "f"], Float3)(1.5, -2.0, 0.25)
assert (r.x, r.y, r.z) == (1.5, -2.0, 0.25)
assert t.ptr("t_float3_digest", [Float3], "d")(r) == 1.5 + 10 * -2.0 + 100 * 0.25
r.free()
r = t.ptr("t_make_charlong", ["c", "q"], CharLong)(b"\x05", -(2 ** 50))
assert (r.tag, r.v) == (b"\x05", -(2 ** 50))
assert t.ptr("t_charlong_digest", [CharLong], "q")(r) == 5 * 1000 - 2 ** 50
r.free()

# ------------------------------------------------------------ arrays
Ints = _rawffi.Array("i")
sum_ints = t.ptr("t_sum_ints", ["P", "N"], "l")
vals = [1, -2, 30, 400, -5000, 2 ** 31 - 1]
arr = Ints(len(vals), vals)
assert len(arr) == len(vals)
assert [arr[k] for k in range(len(arr))] == vals
assert sum_ints(arr.buffer, len(arr)) == sum(vals)
assert arr.tobytes() == struct.pack(E + "%di" % len(vals), *vals)
arr[0] = 100
assert sum_ints(arr.buffer, len(arr)) == sum(vals) - 1 + 100
view = Ints.fromaddress(arr.buffer + 2 * _rawffi.sizeof("i"), 3)
assert [view[k] for k in range(3)] == vals[2:5]
view[0] = -1
assert arr[2] == -1
arr.free()

zeros = Ints(8)
assert zeros.tobytes() == bytes(8 * _rawffi.sizeof("i"))
zeros.free()

Doubles = _rawffi.Array("d")
dv = [0.5, 1.25, -2.0, 8.0, 1e-3]
da = Doubles(len(dv), dv)
assert t.ptr("t_sum_doubles", ["P", "N"], "d")(da.buffer, len(dv)) == sum(dv)
da.free()

Longs = _rawffi.Array("q")
sq = Longs(6)
assert t.ptr("t_fill_squares", ["P", "N"], "N")(sq.buffer, 6) == 6
assert [sq[k] for k in range(6)] == [k * k for k in range(6)]
sq.free()

Bytes = _rawffi.Array("B")
buf = Bytes(300)
t.ptr("t_fill", ["P", "N", "B"], "v")(buf.buffer, 300, 250)
assert buf.tobytes() == bytes((250 + k) % 256 for k in range(300))
buf.free()

Chars = _rawffi.Array("c")
cs = Chars(6)
for k, ch in enumerate(b"hello"):
    cs[k] = bytes([ch])
assert cs.tobytes() == b"hello\0"
assert cs[1] == b"e"
assert t.ptr("t_strlen", ["z"], "N")(cs) == 5  # an Array instance passed as char*
cs.free()

# divmod through out-params in an array
out = Ints(2)
divmod_ = t.ptr("t_divmod", ["i", "i", "P", "P"], "v")
for a_, b_ in [(17, 5), (-17, 5), (100, -7)]:
    divmod_(a_, b_, out.buffer, out.buffer + _rawffi.sizeof("i"))
    assert (out[0], out[1]) == c_div(a_, b_), (a_, b_, out[0], out[1])
out.free()

print("OK structs")
