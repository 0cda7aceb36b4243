# Opening libraries the policy does not allow, by every spelling. The runner
# allows libm by soname and the test library by absolute path, and passes:
#   WASMFFI_TESTLIB   the test library's real path (allowed)
#   ESCAPE_LIBC_PATH  the real path of libc (not allowed)
#   ESCAPE_LINK_OK    a symlink in a temp dir to the test library
#   ESCAPE_LINK_BAD   a symlink in a temp dir to libc
import os

import _rawffi
from escape_common import cases, expect, still_alive

env = os.environ
testlib = env["WASMFFI_TESTLIB"]
libc_path = env["ESCAPE_LIBC_PATH"]

# Allowed ones open.
_rawffi.CDLL(_rawffi.platform["libm_soname"])
t = _rawffi.CDLL(testlib)
assert t.ptr("t_add_int", ["i", "i"], "i")(2, 3) == 5

expect(PermissionError, _rawffi.CDLL, _rawffi.platform["libc_soname"], what="soname")
expect(PermissionError, _rawffi.CDLL, libc_path, what="absolute path")
expect(PermissionError, _rawffi.CDLL, None, what="process namespace")
expect(PermissionError, _rawffi.CDLL, "./" + os.path.basename(testlib), contains="relative",
       what="relative path")
expect(PermissionError, _rawffi.CDLL, "lib/" + os.path.basename(testlib), what="relative dir")
dotdot = os.path.dirname(testlib) + "/../" + os.path.basename(os.path.dirname(testlib)) + "/" \
    + os.path.basename(testlib)
expect(PermissionError, _rawffi.CDLL, dotdot, contains="..", what="dot-dot path")
expect(PermissionError, _rawffi.CDLL, env["ESCAPE_LINK_BAD"], what="symlink to libc")
for proc in ["/proc/self/root" + libc_path, "/proc/self/root" + testlib,
             "/proc/self/fd/0", "/proc/self/exe", "/dev/zero"]:
    expect(PermissionError, _rawffi.CDLL, proc, what="pseudo fs " + proc)
expect(PermissionError, _rawffi.CDLL, "", what="empty name")

# A symlink to an allowed library resolves to it (the host opens the real path).
linked = _rawffi.CDLL(env["ESCAPE_LINK_OK"])
assert linked.path == testlib, (linked.path, testlib)
assert linked.ptr("t_add_int", ["i", "i"], "i")(4, 5) == 9

still_alive()
print("cases:", len(cases))
print("OK escape_libraries")
