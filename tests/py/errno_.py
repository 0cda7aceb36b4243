# errno through _rawffi: the guest keeps its own copy of C errno, stores it into the
# host's errno before each call and captures it right after.  The numbers are the
# host's (_rawffi.errno_codes), which differ from the guest's WASI `errno` module.
import os

import _rawffi

PLAT = _rawffi.platform
libc = _rawffi.CDLL(PLAT["libc_soname"])
t = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
codes = _rawffi.errno_codes
LONG_BITS = 8 * _rawffi.sizeof("l")

for name in ["ERANGE", "ENOENT", "EINVAL", "EACCES", "EDOM", "EBADF"]:
    assert isinstance(codes[name], int) and codes[name] > 0, (name, codes.get(name))
assert len(set(codes[n] for n in ["ERANGE", "ENOENT", "EINVAL", "EACCES", "EDOM"])) == 5
if PLAT["os"] == "linux" and PLAT["arch"] in ("x86_64", "aarch64"):
    # asm-generic/errno-base.h
    assert (codes["ENOENT"], codes["EINVAL"], codes["ERANGE"], codes["EDOM"]) == (2, 22, 34, 33)

# ------------------------------------------------------------ round trip
for v in [0, 1, codes["ERANGE"], 12345]:
    _rawffi.set_errno(v)
    assert _rawffi.get_errno() == v

# the guest's value is what C sees when a call starts ...
get_errno = t.ptr("t_get_errno", [], "i")
for v in [codes["EACCES"], 77, 0]:
    _rawffi.set_errno(v)
    assert get_errno() == v, (v, get_errno())
# ... and a call that does not touch errno leaves it alone
labs = libc.ptr("labs", ["l"], "l")
_rawffi.set_errno(codes["EBADF"])
assert labs(-3) == 3
assert _rawffi.get_errno() == codes["EBADF"]

# ---------------------------------------------------- testlib sets errno
fail = t.ptr("t_fail_with_errno", ["i"], "i")
for name in ["ERANGE", "ENOENT", "EINVAL", "EACCES"]:
    _rawffi.set_errno(0)
    assert fail(codes[name]) == -1
    assert _rawffi.get_errno() == codes[name], (name, _rawffi.get_errno())
    # captured right after the call: another call that reads it sees the same value
    assert get_errno() == codes[name]

# ----------------------------------------------------------- strtol ERANGE
strtol = libc.ptr("strtol", ["z", "P", "i"], "l")
_rawffi.set_errno(0)
assert strtol(b"12345", None, 10) == 12345
assert _rawffi.get_errno() == 0
_rawffi.set_errno(0)
v = strtol(b"99999999999999999999999999999", None, 10)
assert v == 2 ** (LONG_BITS - 1) - 1, v  # LONG_MAX
assert _rawffi.get_errno() == codes["ERANGE"], (_rawffi.get_errno(), codes["ERANGE"])
_rawffi.set_errno(0)
v = strtol(b"-99999999999999999999999999999", None, 10)
assert v == -(2 ** (LONG_BITS - 1)), v  # LONG_MIN
assert _rawffi.get_errno() == codes["ERANGE"]
_rawffi.set_errno(0)
assert strtol(b"ff", None, 16) == 255
assert _rawffi.get_errno() == 0

# ------------------------------------------ a missing host path: ENOENT
missing = b"/nonexistent-wasmffi-dir/no/such/file.txt"
fopen = libc.ptr("fopen", ["z", "z"], "P")
_rawffi.set_errno(0)
fp = fopen(missing, b"r")
assert fp == 0, fp  # NULL
assert _rawffi.get_errno() == codes["ENOENT"], _rawffi.get_errno()

c_open = libc.ptr("open", ["z", "i", "I"], "i", variadic=2)  # int open(const char *, int, ...)
_rawffi.set_errno(0)
fd = c_open(missing, 0, 0)  # O_RDONLY
assert fd == -1, fd
assert _rawffi.get_errno() == codes["ENOENT"]

# errno is per call, not sticky: a later failing call overwrites it
_rawffi.set_errno(0)
assert fail(codes["EINVAL"]) == -1
assert _rawffi.get_errno() == codes["EINVAL"]

print("OK errno_")
