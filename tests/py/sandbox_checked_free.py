# Checked mode (libc-math): a callback frees the very block the native call
# that is calling it was handed, then churns the allocator so that, were the
# block released, the next blocks would be carved from it while qsort still
# writes there. The runtime must keep the block until qsort returns.
import _rawffi

libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
qsort = libc.ptr("qsort", ["P", "N", "N", "P"], "v")
N, INT = 64, 4
SIZE = N * INT

# Blocks of the same size freed first: the allocator's per-size caches are
# full by the time the victim block would be released.
for p in [_rawffi.malloc(SIZE) for _ in range(16)]:
    _rawffi.free(p)

base = _rawffi.malloc(SIZE)
for i in range(N):
    _rawffi.store(base + i * INT, "i", N - i)
victims = []
state = {"freed": False}


def compare(a, b):
    if not state["freed"]:
        state["freed"] = True
        _rawffi.free(base)
        # Past the quarantine's bounds in bytes and in blocks.
        for _ in range(20):
            _rawffi.free(_rawffi.malloc(1 << 20))
        for _ in range(2048):
            _rawffi.free(_rawffi.malloc(32))
        for _ in range(64):
            v = _rawffi.malloc(SIZE)
            for off in range(0, SIZE, 8):
                _rawffi.store(v + off, "Q", 0x5A5A5A5A5A5A5A5A)
            victims.append(v)
    return 1  # keeps qsort moving elements around in `base`


CMP = _rawffi.CallbackPtr(compare, ["P", "P"], "i")
qsort(base, N, INT, CMP.buffer)

assert state["freed"]
reused = [hex(v) for v in victims if base <= v < base + SIZE]
assert not reused, "the freed block at %#x was handed out again during the call: %s" % (base, reused)
for v in victims:
    for off in range(0, SIZE, 8):
        assert _rawffi.load(v + off, "Q") == 0x5A5A5A5A5A5A5A5A, "block %#x changed at +%d" % (v, off)
# After the call the block is gone like any freed block.
try:
    _rawffi.load(base, "i")
except _rawffi.SegfaultException as e:
    assert "use after free" in str(e) or "not memory of this runtime" in str(e), e
else:
    raise AssertionError("the freed block is still readable")
print("OK sandbox_checked_free")
