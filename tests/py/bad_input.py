# Bad input to _rawffi: every case must raise the right Python exception, and the
# program must keep running afterwards.
#
# The runner allows libc, libm, the test library and MISSING_LIB (a name that does not
# exist, so that loading it gets past the policy and fails in dlopen).
import os

import _rawffi

MISSING_LIB = "libwasmffi_missing.so.1"
FORBIDDEN_LIB = "libz.so.1"  # never on the allowlist

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
add = t.ptr("t_add_int", ["i", "i"], "i")
cases = []


def expect(exc_type, fn, *args, contains=None, what=None):
    """fn(*args) raises exactly exc_type (or a subclass), whose message contains `contains`."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - the type is checked below
        assert isinstance(e, exc_type), "%s: expected %s, got %s: %s" % (
            what, exc_type.__name__, type(e).__name__, e)
        if contains is not None:
            assert contains in str(e), "%s: %r not in %r" % (what, contains, str(e))
        cases.append(what)
        return e
    raise AssertionError("%s: no exception, expected %s" % (what, exc_type.__name__))


# ------------------------------------------------------------- libraries
e = expect(OSError, _rawffi.CDLL, MISSING_LIB, contains=MISSING_LIB, what="missing library")
assert not isinstance(e, PermissionError), "missing library reported as a policy refusal"
e = expect(PermissionError, _rawffi.CDLL, FORBIDDEN_LIB, contains=FORBIDDEN_LIB,
           what="library not allowed")
expect(PermissionError, _rawffi.CDLL, "/tmp/libwasmffi_evil.so", what="path not allowed")

expect(AttributeError, t.ptr, "t_no_such_function", ["i"], "i",
       contains="t_no_such_function", what="missing symbol")
expect(AttributeError, libc.ptr, "wasmffi_not_in_libc", [], "v",
       contains="wasmffi_not_in_libc", what="missing libc symbol")
expect((TypeError, ValueError), t.ptr, "t_add_int", ["i", "X"], "i", what="unknown arg code")
expect((TypeError, ValueError), t.ptr, "t_add_int", ["i", "i"], "X", what="unknown result code")

# --------------------------------------------------------------- calls
expect(TypeError, add, 1, what="too few args")
expect(TypeError, add, 1, 2, 3, what="too many args")
expect(TypeError, add, what="no args")
expect(TypeError, add, "x", 1, what="str for 'i'")
expect(TypeError, add, 1, 2.5, what="float for 'i'")
expect(TypeError, add, 1, None, what="None for 'i'")
add_d = t.ptr("t_add_d", ["d", "d"], "d")
expect(TypeError, add_d, "1.0", 2.0, what="str for 'd'")
strlen = t.ptr("t_strlen", ["z"], "N")
expect(TypeError, strlen, 3.5, what="float for 'z'")
expect(TypeError, strlen, [1, 2], what="list for 'z'")
Point = _rawffi.Structure([("x", "i"), ("y", "i")])
point_sum = t.ptr("t_point_sum", [Point], "i")
expect(TypeError, point_sum, 5, what="int for a struct")
expect(TypeError, t.ptr("t_next_char", ["c"], "c"), b"ab", what="2 bytes for 'c'")
assert add(2, 3) == 5  # still works

# ---------------------------------------------------------- raw memory
Segv = _rawffi.SegfaultException
assert issubclass(Segv, RuntimeError)
a = _rawffi.malloc(16)
_rawffi.free(a)
expect(Segv, _rawffi.free, a, what="double free")
expect(Segv, _rawffi.memread, a, 4, what="read after free")
expect(Segv, _rawffi.memwrite, a, b"x", what="write after free")
expect(Segv, _rawffi.memread, 0, 4, what="read NULL")
expect(Segv, _rawffi.memread, 0x10, 4, what="read forged address")
expect(Segv, _rawffi.memwrite, 0x10, b"boom", what="write forged address")
expect(Segv, _rawffi.load, 0, "i", what="load NULL")
expect(Segv, _rawffi.store, 0x10, "i", 1, what="store forged address")
expect(Segv, _rawffi.charp2string, 0x10, what="charp2string forged address")
expect(Segv, _rawffi.memset, 0x20, 0, 8, what="memset forged address")
expect(Segv, _rawffi.memmove, 0x20, 0x40, 8, what="memmove forged addresses")
expect(Segv, _rawffi.free, 0x1000, what="free of an address never allocated")
b = _rawffi.malloc(16)
expect(Segv, _rawffi.memread, b, 17, what="read past the end of an allocation")
expect(Segv, _rawffi.memwrite, b + 8, bytes(9), what="write past the end of an allocation")
assert _rawffi.memread(b, 16) == bytes(16)  # the allocation itself is intact
_rawffi.free(b)

e = expect(Exception, _rawffi.malloc, 1 << 60, what="huge malloc")
assert type(e) is MemoryError, "huge malloc raised %s: %s" % (type(e).__name__, e)

# --------------------------------------------------------- shape instances
p = Point()
p.x = 1
p.free()
expect(Segv, getattr, p, "x", what="field read after free")
expect(Segv, setattr, p, "y", 2, what="field write after free")
expect(Segv, p.free, what="double free of a structure")
expect(Segv, point_sum, p, what="freed structure as an argument")
Ints = _rawffi.Array("i")
arr = Ints(3, [1, 2, 3])
expect(IndexError, arr.__getitem__, 3, what="index past the end")
expect(IndexError, arr.__setitem__, -4, 0, what="index before the start")
arr.free()
expect(Segv, arr.__getitem__, 0, what="array read after free")
expect(Segv, arr.free, what="double free of an array")
expect(AttributeError, getattr, Point(), "z", what="no such field")

# ---------------------------------------------------- still in business
assert add(40, 2) == 42
assert libc.ptr("labs", ["l"], "l")(-9) == 9
print("%d cases" % len(cases))
print("OK bad_input")
