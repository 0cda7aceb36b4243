# The guest's zlib (host libz) against what CPython's zlib produced on this
# machine (tests/py/zlib_fixtures.py wrote argv[1]).
import base64
import copy
import gzip
import json
import os
import sys
import zlib

FIX = sys.argv[1]
exp = json.load(open(os.path.join(FIX, "expected.json")))
payloads = {}
for name in ("empty", "text", "random", "mixed"):
    with open(os.path.join(FIX, name + ".bin"), "rb") as f:
        payloads[name] = f.read()
d64 = base64.b64decode

# The host's libz is CPython's libz here: the same bytes come out.
assert zlib.ZLIB_RUNTIME_VERSION == exp["versions"][1], (zlib.ZLIB_RUNTIME_VERSION, exp["versions"])

for name, level, wbits, length, crc in exp["compress"]:
    data = payloads[name]
    got = zlib.compress(data, level, wbits)
    assert (len(got), zlib.crc32(got)) == (length, crc), ("compress", name, level, wbits)
    assert zlib.decompress(got, wbits) == data
    assert zlib.decompress(got, wbits, bufsize=1) == data
    if wbits in (15, 31):
        assert zlib.decompress(got, 32 + 15) == data  # header auto-detection
assert zlib.compress(b"abc") == zlib.compress(b"abc", zlib.Z_DEFAULT_COMPRESSION, zlib.MAX_WBITS)

for name, value, crc, adler in exp["checksums"]:
    data = payloads[name]
    if value is None:
        assert zlib.crc32(data) == crc and zlib.adler32(data) == adler, name
    else:
        assert zlib.crc32(data, value) == crc, (name, value)
        assert zlib.adler32(data, value) == adler, (name, value)
assert zlib.crc32(memoryview(b"hello")) == zlib.crc32(bytearray(b"hello")) == 907060870

zdict = b"the quick brown fox jumps over the lazy dog line"
for name, level, wbits, mem, strategy, use_dict, parts in exp["stream"]:
    data = payloads[name]
    kw = {"zdict": zdict} if use_dict else {}
    co = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy, **kw)
    third = len(data) // 3
    got = [co.compress(data[:third]), co.flush(zlib.Z_SYNC_FLUSH),
           co.compress(data[third:2 * third]), co.flush(zlib.Z_FULL_FLUSH),
           co.compress(data[2 * third:]), co.flush()]
    assert [[len(g), zlib.crc32(g)] for g in got] == parts, ("stream", name, level, wbits)
    whole = b"".join(got)
    do = zlib.decompressobj(wbits, **kw)
    pieces = [do.decompress(whole[i:i + 777]) for i in range(0, len(whole), 777)]
    pieces.append(do.flush())
    assert b"".join(pieces) == data and do.eof and do.unused_data == b"", name

text_z = zlib.compress(payloads["text"])
for case, data, wbits, msg in exp["errors"]:
    try:
        zlib.decompress(d64(data), wbits)
        got = None
    except zlib.error as e:
        got = str(e)
    assert got == msg, (case, got, msg)
assert issubclass(zlib.error, Exception)

for max_length, nsteps, digest, head, unused in exp["maxlen"]:
    d = zlib.decompressobj()
    got = []
    buf = text_z + b"TRAILING"
    chunk, rest = buf[:5000], buf[5000:]
    out = []
    while True:
        piece = d.decompress(chunk, max_length)
        out.append(piece)
        got.append([len(piece), len(d.unconsumed_tail), d.eof, len(d.unused_data)])
        if d.eof:
            break
        chunk = d.unconsumed_tail
        if not chunk:
            chunk, rest = rest[:5000], rest[5000:]
    got.append([len(d.flush()), len(d.unconsumed_tail), d.eof, len(d.unused_data)])
    assert got[:50] == head, ("max_length", max_length, got[:5], head[:5])
    assert len(got) == nsteps and zlib.crc32(json.dumps(got).encode()) == digest, max_length
    assert d.unused_data == d64(unused), (d.unused_data, d64(unused))
    assert b"".join(out) == payloads["text"]

# copy() of both kinds, mid-stream.
data = payloads["mixed"]
co = zlib.compressobj(6)
head = co.compress(data[:100000])
co2 = co.copy()
co3 = copy.copy(co)
tail_a = co.compress(data[100000:]) + co.flush()
tail_b = co2.compress(data[100000:]) + co2.flush()
assert tail_a == tail_b and zlib.decompress(head + tail_a) == data
assert zlib.decompress(head + co3.compress(b"") + co3.flush()) == data[:100000]
whole = head + tail_a
do = zlib.decompressobj()
first = do.decompress(whole[:50000])
do2 = do.copy()
assert first + do.decompress(whole[50000:]) == data
assert first + do2.decompress(whole[50000:]) == data and do2.eof
try:
    co.compress(b"more")
except zlib.error:
    pass
else:
    raise AssertionError("compress after finish")
try:
    co.copy()
except ValueError:
    pass
else:
    raise AssertionError("copy after finish")

# gzip module (stdlib, over our zlib) against CPython's gzip bytes.
assert gzip.decompress(d64(exp["gzip"]["text"])) == payloads["text"]
def same_gzip(a, b):
    # Byte 9 is the OS field: gzip.py 3.14 writes 255, 3.11 writes 3.
    return a[:9] == b[:9] and a[10:] == b[10:]

assert same_gzip(gzip.compress(payloads["text"], mtime=0), d64(exp["gzip"]["text"]))
assert same_gzip(gzip.compress(payloads["mixed"], 9, mtime=0), d64(exp["gzip"]["mixed9"]))
assert gzip.decompress(d64(exp["gzip"]["text"]) * 2) == payloads["text"] * 2

# Bad input: CPython's exception types, no crash.
def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return
    raise AssertionError("%s not raised by %s" % (exc.__name__, fn))

raises(TypeError, zlib.compress, "text")
raises(TypeError, zlib.crc32, 42)
raises(zlib.error, zlib.compress, b"x", 42)
raises(ValueError, zlib.compressobj, 6, zlib.DEFLATED, 99)
raises(ValueError, zlib.decompressobj, 99)
raises(ValueError, zlib.decompressobj().decompress, b"x", -1)
raises(ValueError, zlib.decompressobj().flush, 0)
raises(zlib.error, zlib.decompressobj().decompress, b"garbage!")
raises(ValueError, zlib.decompress, b"x", 15, -1)
raises(TypeError, zlib.decompressobj, zdict="text")
raises(OverflowError, zlib.compress, b"x", 2 ** 40)
assert zlib.decompressobj().decompress(b"") == b""
assert zlib.compressobj().flush(zlib.Z_NO_FLUSH) == b""
print("OK zlib_compat")
