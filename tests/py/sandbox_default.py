# Run under a policy that grants no raw native memory (the default `none`
# preset, or libraries only in checked mode): the guest must not read, write
# or call any host address the runtime did not hand out, through any door.
# argv[1] == "raw": the policy grants raw memory and the same reads work.
import ctypes
import gc
import sys

import _rawffi
from escape_common import cases, expect, still_alive

raw = sys.argv[1:] == ["raw"]
Segfault = _rawffi.SegfaultException

buf = ctypes.create_string_buffer(b"mine", 64)
mine = ctypes.addressof(buf)
block = _rawffi.malloc(64)

# Our own memory works through every door.
assert ctypes.string_at(mine) == b"mine"
ctypes.memmove(mine, b"ours", 4)
assert buf.value == b"ours"
_rawffi.store(block, "q", 7)
assert _rawffi.load(block, "q") == 7

# Host addresses next to ours that belong to no block: the allocator's own
# header just before each block (mapped heap memory; a guest that can read
# it can walk the heap to libc and call system()).
blocks = [_rawffi.malloc(64) for _ in range(8)]
candidates = [b - 8 for b in blocks]
readable = []
for address in candidates:
    try:
        ctypes.string_at(address, 8)
    except (Segfault, OSError, ValueError) as e:
        if not raw:
            assert "raw native memory" in str(e), e
    else:
        readable.append(address)

if raw:
    # With the grant, the same reads reach the host's heap.
    assert readable == candidates, "heap headers not readable with raw memory granted"
    print("OK sandbox_raw")
    sys.exit(0)

assert not readable, "read host memory at %s without a grant" % [hex(a) for a in readable[:4]]
foreign = candidates[0]
expect(Segfault, ctypes.string_at, foreign, 8, what="string_at", contains="raw native memory")
expect(Segfault, ctypes.memmove, foreign, buf, 8, what="memmove into host memory",
       contains="raw native memory")
expect(Segfault, ctypes.memmove, buf, foreign, 8, what="memmove out of host memory",
       contains="raw native memory")
expect(Segfault, ctypes.memset, foreign, 0, 8, what="memset", contains="raw native memory")
expect(Segfault, lambda: ctypes.cast(foreign, ctypes.POINTER(ctypes.c_char))[0],
       what="cast()[0]", contains="raw native memory")
expect(Segfault, lambda: ctypes.c_long.from_address(foreign).value, what="from_address",
       contains="raw native memory")
expect(Segfault, lambda: setattr(ctypes.c_long.from_address(foreign), "value", 1),
       what="from_address store", contains="raw native memory")
expect(Segfault, ctypes.wstring_at, foreign, what="wstring_at", contains="raw native memory")
expect(Segfault, _rawffi.load, foreign, "q", what="_rawffi.load", contains="raw native memory")
expect(Segfault, _rawffi.store, foreign, "q", 1, what="_rawffi.store",
       contains="raw native memory")
expect(Segfault, _rawffi.memmove, foreign, block, 8, what="_rawffi.memmove",
       contains="raw native memory")
expect(Segfault, ctypes.string_at, block + 60, 8, what="past our own block", contains="past the end")

# Calling an address: only a live callback, through its own signature.
PROTO = ctypes.CFUNCTYPE(ctypes.c_int)
expect((PermissionError, OSError), lambda: PROTO(foreign)(), what="call a host address",
       contains="not a live callback")
expect((PermissionError, OSError), lambda: PROTO(0x400000)(), what="call a forged address",
       contains="not a live callback")

seen = []
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
cb = CB(lambda x: seen.append(x) or x * 2)
cb_address = ctypes.cast(cb, ctypes.c_void_p).value
assert CB(cb_address)(21) == 42 and seen == [21], seen
OTHER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.c_double)
expect((PermissionError, OSError), lambda: OTHER(cb_address)(1.0, 2.0),
       what="call a callback through another signature", contains="another signature")
del cb
gc.collect()  # cast() left a cycle (the result's _objects keeps the source), as in CPython
expect((PermissionError, OSError), lambda: CB(cb_address)(1),
       what="call a dropped callback", contains="not a live callback")

still_alive()
print("refused:", len(cases))
print("OK sandbox_default")
