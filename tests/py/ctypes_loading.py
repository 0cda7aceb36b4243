# ctypes: loading libraries (CDLL, cdll, LibraryLoader, handle=, use_errno=, find_library).
import os
import errno
import _rawffi
import ctypes
import ctypes.util
from ctypes import CDLL, cdll, LibraryLoader, PyDLL, c_long, c_int, c_char_p

TESTLIB = os.environ["WASMFFI_TESTLIB"]

libc = CDLL("libc.so.6")
assert libc.labs(-7) == 7
assert libc["abs"](-3) == 3
assert isinstance(libc._handle, int) and libc._handle != 0
assert "libc.so.6" in repr(libc)

# same library through an existing handle
again = CDLL("libc.so.6", handle=libc._handle)
assert again.abs(-9) == 9

# LibraryLoader / cdll
assert cdll.LoadLibrary("libm.so.6").cos is not None
loader = LibraryLoader(CDLL)
assert loader.LoadLibrary(TESTLIB).t_add_int(2, 3) == 5
z = cdll["libz.so.1"]
z.zlibVersion.restype = c_char_p
assert z.zlibVersion().startswith(b"1.")

# PyDLL behaves as CDLL in the guest
assert PyDLL("libc.so.6").labs(-1) == 1

# missing symbol: AttributeError; missing library: OSError; not allowed: PermissionError
try:
    libc.no_such_function_here
except AttributeError as e:
    # the symbol, the library and the loader's own words (dlerror)
    assert "no_such_function_here" in str(e) and "libc.so.6" in str(e), e
    assert "undefined symbol" in str(e), e
else:
    raise AssertionError("missing symbol resolved")
try:
    CDLL("libsqlite3.so.0")
except PermissionError:
    pass
else:
    raise AssertionError("library outside the allowlist opened")
try:
    CDLL("libwasmffi_absent.so.1")  # allowed by the test's policy, but not installed
except PermissionError:
    raise AssertionError("an allowed library was refused")
except OSError as e:
    assert "libwasmffi_absent.so.1: cannot open shared object file" in str(e), e
else:
    raise AssertionError("a missing library opened")
# The loader's attribute access: CPython 3.11's ctypes tries to open the
# library and meets the policy.
try:
    cdll.libnotallowed
except PermissionError as e:
    assert "libnotallowed" in str(e) and "--allow-lib" in str(e), e
else:
    raise AssertionError("cdll opened a library outside the allowlist")

# find_library answers from the host, consistent with the allowlist
assert ctypes.util.find_library("c") == "libc.so.6", ctypes.util.find_library("c")
assert ctypes.util.find_library("m") == "libm.so.6"
assert ctypes.util.find_library("z") == "libz.so.1"
assert ctypes.util.find_library("sqlite3") is None
assert ctypes.util.find_library("definitely_not_a_library") is None
assert CDLL(ctypes.util.find_library("m")).sqrt is not None

# use_errno=True
libc_e = CDLL("libc.so.6", use_errno=True)
t = CDLL(TESTLIB, use_errno=True)
t.t_fail_with_errno.argtypes = [c_int]
# Native code sets the host's numbers; get_errno/set_errno speak the guest's (WASI's), so
# they compare with the errno module and make the right OSError subclass, as on CPython.
host_errno = _rawffi.errno_codes
ctypes.set_errno(0)
assert t.t_fail_with_errno(host_errno["ERANGE"]) == -1
assert ctypes.get_errno() == errno.ERANGE
assert host_errno["ERANGE"] != errno.ERANGE  # the translation is not a no-op here
old = ctypes.set_errno(errno.EIO)
assert old == errno.ERANGE
t.t_get_errno.restype = c_int
assert t.t_get_errno() == host_errno["EIO"]  # the private copy goes into errno before the call
# without use_errno the private copy is untouched
plain = CDLL(TESTLIB)
ctypes.set_errno(0)
plain.t_fail_with_errno(7)
assert ctypes.get_errno() == 0

# RTLD_GLOBAL / RTLD_LOCAL modes reach dlopen
from ctypes import RTLD_GLOBAL, RTLD_LOCAL, c_double
gm = CDLL("libm.so.6", mode=RTLD_GLOBAL)
gm.cbrt.argtypes = [c_double]
gm.cbrt.restype = c_double
assert abs(gm.cbrt(27.0) - 3.0) < 1e-12 and RTLD_GLOBAL != RTLD_LOCAL

print("OK ctypes_loading")
