# Run with --isolate-native: native crashes become OSError and the runtime
# keeps going with a fresh helper process.
import os
import _rawffi

lib = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
labs = libc.ptr("labs", ["l"], "l")
assert labs(-5) == 5

for crash_name in ["t_crash_null", "t_abort", "t_crash_null"]:
    crash = lib.ptr(crash_name, [], "v")
    try:
        crash()
    except OSError as e:
        print("caught:", e)
        assert crash_name in str(e)
    else:
        raise AssertionError("%s did not crash" % crash_name)
    # The next call works, in a new helper.
    assert labs(-7) == 7

# State that lived in the crashed helper is gone: its memory is not
# readable any more, and that is an exception too.
block = _rawffi.malloc(16)
_rawffi.store(block, "i", 1234)
try:
    lib.ptr("t_crash_null", [], "v")()
except OSError:
    pass
# A fresh helper may map the same addresses again (always without address
# randomisation, as under qemu-user): the runtime remembers the crashed
# helper's blocks and refuses them, whatever the new helper maps there.
try:
    _rawffi.load(block, "i")
except (_rawffi.SegfaultException, OSError) as e:
    print("old memory is gone:", type(e).__name__)
else:
    raise AssertionError("memory of a crashed helper was readable")

# ctypes after a crash: objects made before it are lost with the helper, but
# new objects, symbol lookups and calls work in the fresh helper.
import ctypes

clib = ctypes.CDLL(_rawffi.platform["libc_soname"])
before = [ctypes.c_int(i) for i in range(50)]
buf = ctypes.create_string_buffer(b"before", 32)
try:
    ctypes.CDLL(os.environ["WASMFFI_TESTLIB"]).t_crash_null()
except OSError as e:
    print("ctypes caught:", e)
else:
    raise AssertionError("t_crash_null did not crash")
fresh = [ctypes.c_int(i * 3) for i in range(200)]
assert [v.value for v in fresh] == [i * 3 for i in range(200)]
s = ctypes.create_string_buffer(b"hello after the crash")
clib.strlen.restype = ctypes.c_size_t
assert clib.strlen(s) == 21, clib.strlen(s)
assert ctypes.string_at(ctypes.addressof(s)) == b"hello after the crash"
clib.labs.restype = ctypes.c_long
assert clib.labs(-42) == 42
# Objects of the lost helper: their memory is gone, and saying so is an
# exception, not a wrong value or a crash.
try:
    before[3].value
except (_rawffi.SegfaultException, OSError) as e:
    print("old ctypes memory is gone:", type(e).__name__)
else:
    raise AssertionError("a ctypes object of the crashed helper was readable")
# Freeing the lost objects must not free blocks of the fresh helper that
# happen to sit at the same addresses.
del before, buf
again = [ctypes.c_int(i + 1000) for i in range(200)]
assert [v.value for v in again] == [i + 1000 for i in range(200)]
assert [v.value for v in fresh] == [i * 3 for i in range(200)]
print("OK isolated_crash")
