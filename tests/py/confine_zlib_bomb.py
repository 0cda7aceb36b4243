# Decompression bombs against the host's libz under a small --max-memory:
# every path that could grow output without bound ends in MemoryError,
# the program catches it and carries on, and bounded use still works.
# (tests/confine_zlib.rs runs this and bounds the host's peak RSS.)
import gc
import gzip
import struct
import sys
import zlib

MiB = 1 << 20
ZERO = bytes(MiB)

# One MiB of zeros as a raw deflate block ending in a full flush: the
# dictionary is reset, so the same bytes repeat for every MiB.
c = zlib.compressobj(9, zlib.DEFLATED, -15)
c.compress(ZERO)
c.flush(zlib.Z_FULL_FLUSH)
BLOCK = c.compress(ZERO) + c.flush(zlib.Z_FULL_FLUSH)
del c
assert len(BLOCK) < 2048, len(BLOCK)


def bomb(mib):
    """A valid zlib stream of `mib` MiB of zeros (about mib KiB)."""
    n = mib * MiB
    return b"\x78\xda" + BLOCK * mib + b"\x03\x00" + struct.pack(">I", ((n % 65521) << 16) | 1)


def gzip_bomb(mib):
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(ZERO, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + BLOCK * mib + b"\x03\x00"
            + struct.pack("<II", crc, (mib * MiB) & 0xFFFFFFFF))


# A small one is what it says it is.
assert zlib.decompress(bomb(4)) == bytes(4 * MiB)

GIB = bomb(1024)       # 1 GiB out
BIG = bomb(8 * 1024)   # 8 GiB out
caught = []


def expect_memory_error(name, f):
    try:
        f()
    except MemoryError as e:
        caught.append(name)
        print(name, "MemoryError:", e)
    else:
        raise AssertionError(name + ": no MemoryError")
    gc.collect()


expect_memory_error("decompress", lambda: zlib.decompress(GIB))
expect_memory_error("decompress-8g", lambda: zlib.decompress(BIG))
expect_memory_error("decompress-bufsize", lambda: zlib.decompress(BIG, 15, sys.maxsize))
expect_memory_error("decompress-autodetect", lambda: zlib.decompress(GIB, 32 + 15))
expect_memory_error("decompressobj", lambda: zlib.decompressobj().decompress(GIB))
expect_memory_error("decompressobj-max_length", lambda: zlib.decompressobj().decompress(BIG, sys.maxsize))

# (sys.maxsize: the largest Py_ssize_t, 2 GiB - 1 in the wasm32 guest; more is an
# OverflowError, as in CPython.)

# A bounded read, then flush() the rest: flush is unbounded in CPython.
d = zlib.decompressobj()
head = d.decompress(GIB, MiB)
assert head == ZERO and d.unconsumed_tail and not d.eof
twin = d.copy()
expect_memory_error("decompressobj-flush", lambda: d.flush())
expect_memory_error("copy-flush", lambda: twin.flush(sys.maxsize))
del d, twin

expect_memory_error("gzip.decompress", lambda: gzip.decompress(gzip_bomb(2048)))

# Streaming with max_length stays within bounds and gets all of it.
d = zlib.decompressobj()
data, total = GIB, 0
ZEROS16 = bytes(16 * MiB)
while not d.eof:
    out = d.decompress(data, 16 * MiB)
    assert out == ZEROS16[:len(out)]
    total += len(out)
    data = d.unconsumed_tail
assert total == 1024 * MiB, total
del d, data, out, ZEROS16

# Normal use goes on: big enough to need many output blocks, within the limit.
assert zlib.decompress(bomb(32)) == bytes(32 * MiB)
import os
blob = os.urandom(16 * MiB)
packed = zlib.compress(blob)
assert zlib.decompress(packed) == blob
co = zlib.compressobj()
assert zlib.decompress(co.compress(blob) + co.flush()) == blob
assert zlib.decompress(zlib.compress(b"hello" * 1000)) == b"hello" * 1000
print("caught", len(caught))
print("OK confine_zlib_bomb")
