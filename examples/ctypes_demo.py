"""Plain CPython ctypes code, running in the sandbox.

    wasmffi run --allow-lib libc.so.6 --allow-lib libz.so.1 examples/ctypes_demo.py
"""
import ctypes
import ctypes.util

# find_library is answered by the host, and only with libraries the policy allows.
libz = ctypes.CDLL(ctypes.util.find_library("z"))
libz.zlibVersion.restype = ctypes.c_char_p
libz.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
libz.crc32.restype = ctypes.c_ulong
data = b"hello from the guest"
print("zlib", libz.zlibVersion().decode(), "crc32 =", hex(libz.crc32(0, data, len(data))))

# A struct returned by value.
class DivT(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_int), ("rem", ctypes.c_int)]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.div.argtypes = [ctypes.c_int, ctypes.c_int]
libc.div.restype = DivT
r = libc.div(47, 5)
print("div(47, 5) =", r.quot, r.rem)

# Native code calling back into Python: qsort with a Python comparator.
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMP]
libc.qsort.restype = None
values = (ctypes.c_int * 8)(5, 3, 9, 1, 7, 2, 8, 6)
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), CMP(lambda a, b: a[0] - b[0]))
print("sorted by qsort:", list(values))

# errno, as C left it, in the guest's numbering (so the errno module names it).
libc_errno = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc_errno.strtol.restype = ctypes.c_long
libc_errno.strtol(b"9" * 40, None, 10)
import errno
print("strtol overflow errno:", errno.errorcode[ctypes.get_errno()])
