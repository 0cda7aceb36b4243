# Host memory held by live zlib objects is bounded under a small
# --max-memory: libz's state for each stream, copy() of streams, a kept
# zdict and a kept unconsumed_tail all count, a MemoryError says when the
# limit is reached, and dropping the objects gives the room back.
import gc
import os
import zlib

MiB = 1 << 20


def fill(name, make, cap):
    """Keep what make() returns until MemoryError; how many were made."""
    live = []
    try:
        for _ in range(cap):
            live.append(make())
    except MemoryError as e:
        print(name, len(live), "MemoryError:", e)
    else:
        raise AssertionError("%s: %d made, no MemoryError" % (name, cap))
    n = len(live)
    del live
    gc.collect()
    return n


def twice(name, make, cap, lo):
    """The limit is reached, and reached again at the same place once the
    first lot is dropped (their memory was given back)."""
    a = fill(name, make, cap)
    b = fill(name + " again", make, cap)
    assert lo <= a and abs(a - b) <= 2, (name, a, b)


# Each compressor holds ~270 KiB of libz state on the host.
twice("compressobj", zlib.compressobj, 4000, 50)
twice("compressobj-memLevel9", lambda: zlib.compressobj(9, zlib.DEFLATED, 15, 9), 4000, 30)

# copy() makes a new libz state each time.
src = zlib.compressobj()
src.compress(b"abc" * 1000)
twice("compressobj.copy", src.copy, 4000, 50)

# Decompressors with their window allocated (after the first input).
PACKED = zlib.compress(os.urandom(1024))


def started():
    d = zlib.decompressobj()
    d.decompress(PACKED, 1)
    return d


twice("decompressobj", started, 20000, 500)
d = zlib.decompressobj()
d.decompress(PACKED, 1)
twice("decompressobj.copy", d.copy, 20000, 500)
del d

# A zdict is kept by the host for the decompressor's life.
ZDICT = os.urandom(4 * MiB)
twice("decompressobj-zdict", lambda: zlib.decompressobj(zdict=ZDICT), 400, 3)

# So is the unconsumed tail (the whole input, with max_length=1; the guest's
# `unconsumed_tail` is its own copy, read-only as in CPython).
BIGPACKED = zlib.compress(os.urandom(4 * MiB), 0)


def hoard():
    d = zlib.decompressobj()
    d.decompress(BIGPACKED, 1)
    return d


twice("unconsumed_tail", hoard, 400, 3)

# Hostile parameters are refused as CPython refuses them.
for wbits in (-16, 7, 48, 1 << 20):
    try:
        zlib.decompressobj(wbits)
    except ValueError:
        pass
    else:
        raise AssertionError(wbits)
try:
    zlib.compressobj(9, zlib.DEFLATED, 15, 10)
except ValueError:
    pass
else:
    raise AssertionError("memLevel 10")

# Everything was given back: objects and round trips work as before.
objs = [zlib.compressobj() for _ in range(20)]
blob = os.urandom(MiB)
c = objs[-1]
assert zlib.decompress(c.compress(blob) + c.flush()) == blob
print("OK confine_zlib_streams")
