# zlib compressing and decompressing SIZE_MIB (default 64) MiB once each: in
# the guest the host-backed mixed module `zlib` (the host's libz), natively
# CPython's own (bench/zlib_bench.sh runs both).
#
#   wasmffi run bench/zlib_bench.py [SIZE_MIB]
#   python3 bench/zlib_bench.py [SIZE_MIB]
import sys
import time
import zlib

size = int(sys.argv[1]) * (1 << 20) if len(sys.argv) > 1 else 64 << 20

# Compressible but not trivial: 1 MiB of numbers, tiled (farther apart than
# deflate's 32 KiB window, so every copy is real work).
block = b"".join(b"%d:%d;" % (i, (i * 7919) % 104729) for i in range(110000))[: 1 << 20]
data = (block * (size // len(block) + 1))[:size]


def measure(mod):
    t0 = time.perf_counter()
    packed = mod.compress(data, 6)
    t1 = time.perf_counter()
    unpacked = mod.decompress(packed)
    t2 = time.perf_counter()
    assert unpacked == data
    return t1 - t0, t2 - t1, len(packed)


mib = size / (1 << 20)
c, d, n = measure(zlib)
print("zlib %d MiB, %d -> %d bytes: compress %.3f s (%.0f MiB/s), decompress %.3f s (%.0f MiB/s)"
      % (mib, size, n, c, mib / c, d, mib / d))
