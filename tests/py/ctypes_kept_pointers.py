# ctypes: memory that native code keeps past the call (as FreeType's
# FT_New_Memory_Face keeps a font's bytes) stays valid as long as the Python
# object that owns it, whatever path it took into the call. Runs under
# CPython too (tests/ctypes.rs compares).
import gc
import os
import sys
from ctypes import (CDLL, POINTER, Structure, byref, c_char_p, c_int, c_size_t,
                    c_ulonglong, c_void_p, cast, create_string_buffer)

t = CDLL(os.environ.get("WASMFFI_TESTLIB") or sys.argv[1])
t.t_keep.restype = c_int
t.t_kept_hash.argtypes = [c_int]
t.t_kept_hash.restype = c_ulonglong
t.t_keep_bufs.argtypes = [c_int, c_void_p, c_int]


def fnv1a(*chunks):
    h = 14695981039346656037
    for chunk in chunks:
        for b in chunk:
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def data(tag, n=3000):
    """n bytes without NUL (c_char_p fields read back up to the first)."""
    return bytes(1 + (tag * 31 + i * 7) % 255 for i in range(n))


def churn():
    """Other calls and allocations that would reuse freed memory."""
    for i in range(200):
        junk = bytes([i & 0xFF]) * (64 + i * 13)
        t.t_keep(15, junk, len(junk))
        create_string_buffer(junk)
    t.t_forget(15)
    gc.collect()


kept = {}


def check(slot, label, *owned, expected=None):
    churn()
    got = t.t_kept_hash(slot)
    assert got == (fnv1a(*owned) if expected is None else expected), label
    print(slot, label, "ok")


# argtypes c_char_p, a bytes argument
keep_char_p = t.t_keep
keep_char_p.argtypes = [c_int, c_char_p, c_size_t]
kept[0] = data(0)
keep_char_p(0, kept[0], len(kept[0]))
check(0, "argtypes c_char_p", kept[0])

# argtypes c_void_p, a bytes argument
keep_void_p = CDLL(t._name).t_keep
keep_void_p.argtypes = [c_int, c_void_p, c_size_t]
kept[1] = data(1)
keep_void_p(1, kept[1], len(kept[1]))
check(1, "argtypes c_void_p", kept[1])

# no argtypes: a plain bytes argument
plain = CDLL(t._name).t_keep
kept[2] = data(2)
plain(2, kept[2], c_size_t(len(kept[2])))
check(2, "no argtypes", kept[2])


# from_param returning the bytes it was built around
class Blob:
    def __init__(self, raw):
        self.raw = raw

    @classmethod
    def from_param(cls, obj):
        return obj.raw


keep_blob = CDLL(t._name).t_keep
keep_blob.argtypes = [c_int, Blob, c_size_t]
kept[3] = Blob(data(3))
keep_blob(3, kept[3], len(kept[3].raw))
check(3, "from_param", kept[3].raw)


# _as_parameter_
class Holder:
    def __init__(self, raw):
        self._as_parameter_ = raw


kept[4] = Holder(data(4))
plain(4, kept[4], c_size_t(len(kept[4]._as_parameter_)))
check(4, "_as_parameter_", kept[4]._as_parameter_)

# cast(bytes, c_void_p): the cast result is dropped, the bytes are not
kept[5] = data(5)
keep_void_p(5, cast(kept[5], c_void_p), len(kept[5]))
check(5, "cast", kept[5])


# a structure field and an array of structures
class KeptBuf(Structure):
    _fields_ = [("data", c_char_p), ("len", c_size_t)]


one = data(6)
expected = fnv1a(one)
kept[6] = KeptBuf(one, len(one))
del one
t.t_keep_bufs(6, byref(kept[6]), 1)
check(6, "structure field", expected=expected)

parts = [data(7 + i, 500 + i) for i in range(3)]
expected = fnv1a(*parts)
kept[7] = (KeptBuf * 3)(*[(p, len(p)) for p in parts])
del parts
t.t_keep_bufs(7, kept[7], 3)
check(7, "array of structures", expected=expected)

# the same bytes object passed twice points to the same memory
again = data(11)
keep_char_p(9, again, len(again))
keep_char_p(10, again, len(again))
check(9, "the same object twice", again)
check(10, "the same object twice (2)", again)
