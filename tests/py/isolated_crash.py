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
try:
    _rawffi.load(block, "i")
except (_rawffi.SegfaultException, OSError) as e:
    print("old memory is gone:", type(e).__name__)
else:
    raise AssertionError("memory of a crashed helper was readable")
print("OK isolated_crash")
