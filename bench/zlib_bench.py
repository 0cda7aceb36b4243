# zlib in the guest: the host-backed mixed module `zlib` (the host's libz)
# against RustPython's in-guest zlib (`_zlib_guest`, pure Rust compiled to
# wasm), compressing and decompressing SIZE_MIB (default 64) MiB once each.
#
#   wasmffi run bench/zlib_bench.py [SIZE_MIB]
#   python3 bench/zlib_bench.py [SIZE_MIB]        (CPython's zlib, for reference)
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
host_c, host_d, host_n = measure(zlib)
try:
    import _zlib_guest
except ImportError:
    print("zlib %d MiB (this interpreter's zlib): compress %.3f s, decompress %.3f s, %d -> %d bytes"
          % (mib, host_c, host_d, size, host_n))
    raise SystemExit(0)
guest_c, guest_d, guest_n = measure(_zlib_guest)
assert zlib.decompress(_zlib_guest.compress(data[:1 << 20])) == data[:1 << 20]
print("zlib %d MiB, %d -> %d bytes (host libz) / %d bytes (in-guest)" % (mib, size, host_n, guest_n))
print("compress:   host-backed %.3f s (%.0f MiB/s)   in-guest %.3f s (%.0f MiB/s)   ratio in-guest/host %.2fx"
      % (host_c, mib / host_c, guest_c, mib / guest_c, guest_c / host_c))
print("decompress: host-backed %.3f s (%.0f MiB/s)   in-guest %.3f s (%.0f MiB/s)   ratio in-guest/host %.2fx"
      % (host_d, mib / host_d, guest_d, mib / guest_d, guest_d / host_d))
