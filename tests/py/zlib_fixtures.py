# Run by CPython (python3) on the host at test time: writes what CPython's
# zlib says about a set of inputs into the directory argv[1], for
# tests/py/zlib_compat.py to check the guest's host-backed zlib against.
import base64
import gzip
import json
import os
import random
import sys
import zlib

out = sys.argv[1]
rng = random.Random(1234)
payloads = {
    "empty": b"",
    "text": b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(4000)),
    "random": bytes(rng.getrandbits(8) for _ in range(50000)),
    "mixed": bytes(rng.choice(b"abcde") for _ in range(300000)) + bytes(range(256)) * 64,
}
b64 = lambda b: base64.b64encode(b).decode()
for name, data in payloads.items():
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        f.write(data)

expected = {"compress": [], "stream": [], "checksums": [], "errors": [], "maxlen": [], "gzip": {}}
for name, data in payloads.items():
    for wbits in (15, 9, -15, -9, 31, 16 + 9):
        for level in (0, 1, 6, 9, -1):
            if wbits in (9, -9, 25) and level not in (1, 9):
                continue
            c = zlib.compress(data, level, wbits)
            expected["compress"].append([name, level, wbits, len(c), zlib.crc32(c)])
    for value in (0, 1, 12345, 0xFFFFFFFF):
        expected["checksums"].append([name, value, zlib.crc32(data, value), zlib.adler32(data, value)])
    expected["checksums"].append([name, None, zlib.crc32(data), zlib.adler32(data)])

zdict = b"the quick brown fox jumps over the lazy dog line"
for name in ("text", "mixed"):
    data = payloads[name]
    for (level, wbits, mem, strategy, use_dict) in [(6, 15, 8, 0, False), (9, 31, 9, 1, False),
                                                    (1, -15, 1, 2, False), (6, 15, 8, 3, True),
                                                    (6, -12, 8, 4, True)]:
        kw = {"zdict": zdict} if use_dict else {}
        co = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy, **kw)
        third = len(data) // 3
        parts = [co.compress(data[:third]), co.flush(zlib.Z_SYNC_FLUSH),
                 co.compress(data[third:2 * third]), co.flush(zlib.Z_FULL_FLUSH),
                 co.compress(data[2 * third:]), co.flush()]
        expected["stream"].append([name, level, wbits, mem, strategy, use_dict,
                                   [[len(p), zlib.crc32(p)] for p in parts]])

text_z = zlib.compress(payloads["text"])
bad_cases = [
    ("garbage", b"this is not zlib data", 15),
    ("truncated", text_z[:100], 15),
    ("wrong_wbits", text_z, -15),
    ("gzip_as_zlib", gzip.compress(b"abc", mtime=0), 15),
    ("bad_checksum", text_z[:-1] + bytes([text_z[-1] ^ 1]), 15),
    ("empty", b"", 15),
]
for case, data, wbits in bad_cases:
    try:
        zlib.decompress(data, wbits)
        msg = None
    except zlib.error as e:
        msg = str(e)
    expected["errors"].append([case, b64(data), wbits, msg])

for max_length in (7, 1000, 4096):
    d = zlib.decompressobj()
    seq = []
    buf = text_z + b"TRAILING"
    chunk = buf[:5000]
    rest = buf[5000:]
    while True:
        got = d.decompress(chunk, max_length)
        seq.append([len(got), len(d.unconsumed_tail), d.eof, len(d.unused_data)])
        if d.eof:
            break
        chunk = d.unconsumed_tail
        if not chunk:
            chunk, rest = rest[:5000], rest[5000:]
        if len(seq) > 200000:
            break
    seq.append([len(d.flush()), len(d.unconsumed_tail), d.eof, len(d.unused_data)])
    digest = zlib.crc32(json.dumps(seq).encode())
    expected["maxlen"].append([max_length, len(seq), digest, seq[:50], b64(d.unused_data)])

expected["gzip"] = {"text": b64(gzip.compress(payloads["text"], mtime=0)),
                    "mixed9": b64(gzip.compress(payloads["mixed"], 9, mtime=0))}
expected["versions"] = [zlib.ZLIB_VERSION, zlib.ZLIB_RUNTIME_VERSION]
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
print("fixtures written")
