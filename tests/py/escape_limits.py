# Limits that end in exceptions: run with --max-libraries 3 --max-handles 200
# --max-callbacks 5 --max-native-memory 1MiB. Each limit is hit, then things
# still work once handles are released.
import gc

import _rawffi
from escape_common import cases, expect, still_alive

libc_name = _rawffi.platform["libc_soname"]

# Huge and over-limit allocations.
expect(MemoryError, _rawffi.malloc, 2**62, what="huge malloc")
expect(MemoryError, _rawffi.malloc, 2**20 + 1, contains="native memory limit", what="over limit")
a = _rawffi.malloc(2**19)
expect(MemoryError, _rawffi.malloc, 2**19 + 1, what="over limit with a block live")
_rawffi.free(a)
b = _rawffi.malloc(2**19)
_rawffi.free(b)

# Open libraries.
libs = [_rawffi.CDLL(libc_name) for _ in range(3)]
expect(MemoryError, _rawffi.CDLL, libc_name, contains="limits.libraries", what="4th library")
del libs
gc.collect()
libc = _rawffi.CDLL(libc_name)

# Live handles (signatures + functions + ...).
funcs = []
try:
    while True:
        funcs.append(libc.ptr("labs", ["l"], "l"))
except MemoryError as e:
    assert "limits.handles" in str(e), e
    cases.append("handles")
assert 50 < len(funcs) < 200, len(funcs)
del funcs
gc.collect()
assert libc.ptr("labs", ["l"], "l")(-3) == 3

# Live callbacks.
cbs = []
try:
    while True:
        cbs.append(_rawffi.CallbackPtr(lambda a, b: 0, ["P", "P"], "i"))
except MemoryError as e:
    assert "limits.callbacks" in str(e), e
    cases.append("callbacks")
assert len(cbs) == 5, len(cbs)
del cbs
gc.collect()
cb = _rawffi.CallbackPtr(lambda a, b: 0, ["P", "P"], "i")
assert cb.address != 0

still_alive()
print("cases:", len(cases))
print("OK escape_limits")
