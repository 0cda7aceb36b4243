# Checked memory mode (libc-math preset plus escape_policy.toml): forged
# pointers, out of bounds, use after free, double free; nothing reaches
# native code or memory.
import _rawffi
from escape_common import cases, expect, still_alive

Segv = _rawffi.SegfaultException
libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
strlen = libc.ptr("strlen", ["z"], "N")
memset = libc.ptr("memset", ["P", "i", "N"], "P")
memcpy = libc.ptr("memcpy", ["P", "P", "N"], "P")
strtol = libc.ptr("strtol", ["z", "P", "i"], "l")
snprintf = libc.ptr("snprintf", ["P", "N", "z"], "i", variadic=3)

block = _rawffi.malloc(32)
other = _rawffi.malloc(32)
here = id(block)  # some integer that is not a runtime address

# The memory interface refuses foreign addresses.
for addr in [0x1000, 0x7fff0000, 0xdeadbeef000, here, 2**63]:
    expect(Segv, _rawffi.memread, addr, 4, what="read %#x" % addr)
    expect(Segv, _rawffi.memwrite, addr, b"x", what="write %#x" % addr)
    expect(Segv, _rawffi.load, addr, "i", what="load %#x" % addr)
    expect(Segv, _rawffi.store, addr, "i", 1, what="store %#x" % addr)
    expect(Segv, _rawffi.memmove, block, addr, 4, what="copy from %#x" % addr)
    expect(Segv, _rawffi.memmove, addr, block, 4, what="copy to %#x" % addr)
    expect(Segv, _rawffi.memset, addr, 0, 4, what="fill %#x" % addr)
    expect(Segv, _rawffi.strlen, addr, what="strlen %#x" % addr)
# Function addresses are integers, not functions.
expect(PermissionError, _rawffi.FuncPtr, strlen.address, ["z"], "N", what="from-address")
expect(Segv, _rawffi.memread, strlen.address, 8, what="read code")

# Out of bounds, through the memory interface and through native code.
expect(Segv, _rawffi.memread, block, 33, what="read past end")
expect(Segv, _rawffi.memwrite, block + 30, b"xyz", what="write past end")
expect(Segv, memset, block, 0, 33, contains="run past", what="memset past end")
expect(Segv, memset, block + 16, 0, 17, what="memset past end (interior)")
expect(Segv, memcpy, block, other, 64, what="memcpy past end")
expect(Segv, memset, here, 0, 1, contains="not memory of this runtime", what="memset forged")
expect(Segv, memset, 0, 0, 1, contains="NULL", what="memset NULL")
expect(Segv, memset, -1, 0, 1, what="memset -1")
assert strlen(block) == 0  # zeroed memory is an empty string
_rawffi.memset(block, 0x41, 32)
expect(Segv, strlen, block, contains="NUL-terminated", what="strlen unterminated")
expect(Segv, memcpy, block, other, -1, what="memcpy size -1")
expect(Segv, memcpy, block, other, 2**62, what="memcpy huge size")
# printf formats are checked against the arguments.
buf = _rawffi.malloc(64)
expect(Segv, snprintf, buf, 64, b"%s", contains="more arguments", what="printf %s missing")
expect(Segv, snprintf, buf, 64, b"%n", contains="%n", what="printf %n")
p2 = libc.ptr("snprintf", ["P", "N", "z", "l"], "i", variadic=3)
expect(Segv, p2, buf, 64, b"%s", here, what="printf %s forged")
expect(Segv, p2, buf, 64, b"%f", 1, what="printf %f with an int")
assert p2(buf, 64, b"<%ld>", 42) == 4
assert _rawffi.charp2string(buf) == b"<42>"
p3 = libc.ptr("snprintf", ["P", "N", "z", "z"], "i", variadic=3)
assert p3(buf, 64, b"[%s]", b"hi") == 4 and _rawffi.charp2string(buf) == b"[hi]"
expect(Segv, p3, buf, 65, b"%s", b"x", what="snprintf size past end")
expect(Segv, p3, buf, 64, b"%ls", b"x", contains="%ls", what="printf wide string")

# strtol's end pointer must be a block with room for a pointer, or NULL.
end = _rawffi.malloc(8)
assert strtol(b"123xyz", end, 10) == 123
assert strtol(b"77", 0, 10) == 77
expect(Segv, strtol, b"1", here, 10, what="strtol forged end")
small = _rawffi.malloc(4)
expect(Segv, strtol, b"1", small, 10, what="strtol end too small")

# Use after free, double free, interior free.
_rawffi.free(other)
expect(Segv, _rawffi.memread, other, 4, contains="use after free", what="read after free")
expect(Segv, memset, other, 0, 4, contains="use after free", what="memset after free")
expect(Segv, _rawffi.free, other, contains="double free", what="double free")
expect(Segv, _rawffi.free, block + 8, what="interior free")
expect(Segv, _rawffi.free, here, what="foreign free")

# Callbacks cannot return pointers in checked mode.
expect(PermissionError, _rawffi.CallbackPtr, lambda: 0, [], "P", what="pointer callback")

# Borrowed results: getenv is pinned `const char *getenv(const char *)` in
# the policy file; the string it returns is readable, not writable, and
# passes only where a pinned parameter is const.
getenv = libc.ptr("getenv", ["z"], "P")
home = getenv(b"PATH")
assert home != 0
s = _rawffi.charp2string(home)
assert len(s) > 0 and strlen(home) == len(s), s
expect(Segv, _rawffi.memwrite, home, b"x", contains="read-only", what="write borrowed")
expect(Segv, memset, home, 0, 1, contains="read-only", what="memset borrowed")
expect(Segv, _rawffi.memread, home, len(s) + 2, what="read past borrowed")
assert getenv(b"WASMFFI_SURELY_UNSET_VARIABLE") == 0

# Good calls still work.
_rawffi.memwrite(block, b"hello\0")
assert strlen(block) == 5
assert memset(block, 0x42, 32) == block
assert _rawffi.memread(block, 2) == b"BB"
_rawffi.free(block)
still_alive()
print("cases:", len(cases))
print("OK escape_checked")
