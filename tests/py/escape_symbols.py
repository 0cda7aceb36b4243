# Under the libc-math preset: forbidden symbols and pinned signatures.
import _rawffi
from escape_common import cases, expect, still_alive

libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
libm = _rawffi.CDLL(_rawffi.platform["libm_soname"])

for name in ["system", "execve", "execv", "fork", "dlopen", "mprotect", "popen", "getenv"]:
    expect(PermissionError, libc.ptr, name, ["z"], "i", contains=name, what="bind " + name)
    expect(PermissionError, libc.getaddressindll, name, contains=name, what="address of " + name)
expect(PermissionError, libm.ptr, "system", ["z"], "i", what="system via libm")

# Pinned symbols with the wrong signature: TypeError before any native code runs.
expect(TypeError, libc.ptr, "strlen", ["z"], "i", contains="size_t(const char *)",
       what="strlen wrong result")
expect(TypeError, libc.ptr, "strlen", ["z", "i"], "N", what="strlen extra arg")
expect(TypeError, libc.ptr, "memcpy", ["P", "P", "i"], "P", what="memcpy narrow size")
expect(TypeError, libc.ptr, "labs", ["i"], "l", what="labs int")
expect(TypeError, libc.ptr, "labs", ["d"], "l", what="labs double")
expect(TypeError, libm.ptr, "pow", ["d"], "d", what="pow one arg")
expect(TypeError, libm.ptr, "pow", ["f", "f"], "f", what="pow floats")
expect(TypeError, libc.ptr, "snprintf", ["P", "N", "z", "i"], "i", what="snprintf not variadic")

# The right signatures work.
assert libc.ptr("strlen", ["z"], "N")(b"hello") == 5
assert libc.ptr("labs", ["l"], "l")(-7) == 7
assert libm.ptr("pow", ["d", "d"], "d")(2.0, 10.0) == 1024.0
# div(n, 0) raises SIGFPE natively: the preset leaves it out.
DivT = _rawffi.Structure([("quot", "i"), ("rem", "i")])
expect(PermissionError, libc.ptr, "div", ["i", "i"], DivT, what="div")
expect(PermissionError, libc.ptr, "isalpha", ["i"], "i", what="isalpha")

still_alive()
print("cases:", len(cases))
print("OK escape_symbols")
