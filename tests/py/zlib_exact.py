# zlib, byte for byte and exception for exception: every line this prints is
# compared with what the machine's CPython 3.11 prints for the same script
# (tests/cpython_zlib.rs, same_as_cpython_311). Outputs as lengths + hashes,
# exceptions as type and message, a decompressor's attributes after each step.
import copy
import hashlib
import pickle
import sys
import zlib


def h(b):
    if isinstance(b, (bytes, bytearray)):
        return "b[%d]%s" % (len(b), hashlib.sha256(b).hexdigest()[:12]) if len(b) > 40 else repr(bytes(b))
    if type(b).__module__ == "zlib":
        return "<%s object>" % type(b).__qualname__
    return repr(b)

def R(name, f, *a, **k):
    try:
        r = f(*a, **k)
        if isinstance(r, tuple): r = tuple(h(x) for x in r)
        else: r = h(r)
        print(name, "->", r)
    except BaseException as e:
        print(name, "!!", type(e).__name__, e)
def st(name, d):
    print("   ", name, "eof=%r tail=%s unused=%s" % (d.eof, h(d.unconsumed_tail), h(d.unused_data)))

data = b"".join(b"line %d of the quick brown fox\n" % i for i in range(3000))
z = zlib.compress(data)
bad = bytearray(z); bad[-1] ^= 1; bad = bytes(bad)
# issue cases
d = zlib.decompressobj(); R("badck.decompress", d.decompress, bad); st("badck", d); R("badck.flush", d.flush); st("badck2", d)
d = zlib.decompressobj(); R("badck.partial", d.decompress, bad[:-10]); R("badck.flush", d.flush); st("badck3", d)
d = zlib.decompressobj(); R("badck.tail", d.decompress, bad, 100); st("bt", d); R("badck.flushtail", d.flush); st("bt2", d)
d = zlib.decompressobj(); R("tail.eos", d.decompress, z + b"extra", 100); st("t1", d)
R("tail.more", d.decompress, d.unconsumed_tail); st("t2", d)
while not d.eof:
    R("tail.loop", d.decompress, d.unconsumed_tail, 50000); st("tl", d)
d = zlib.decompressobj(); R("tail.flush", d.decompress, z + b"extra", 100); st("tf", d); R("tail.flush2", d.flush); st("tf2", d); R("tail.flush3", d.flush); st("tf3", d)
d = zlib.decompressobj(); R("max0", d.decompress, z, 0); st("m0", d)
d = zlib.decompressobj(); R("max1", d.decompress, z, 1); st("m1", d)
R("maxneg", zlib.decompressobj().decompress, z, -1)
R("maxbig", zlib.decompressobj().decompress, z, sys.maxsize)
R("maxover", zlib.decompressobj().decompress, z, sys.maxsize + 1)
R("maxfloat", zlib.decompressobj().decompress, z, 1.0)
R("maxstr", zlib.decompressobj().decompress, z, "1")
R("maxNone", zlib.decompressobj().decompress, z, None)
R("maxkw", zlib.decompressobj().decompress, z, max_length=3)
R("datakw", zlib.decompressobj().decompress, data=z)
R("flushkw", zlib.decompressobj().flush, length=3)
R("flushover", zlib.decompressobj().flush, sys.maxsize + 1)
R("flush0", zlib.decompressobj().flush, 0)
R("flushneg", zlib.decompressobj().flush, -5)
R("flushfloat", zlib.decompressobj().flush, 2.0)
R("dec.bufover", zlib.decompress, z, 15, sys.maxsize + 1)
R("dec.bufneg", zlib.decompress, z, 15, -1)
R("dec.buf0", zlib.decompress, z, 15, 0)
R("dec.bufkw", zlib.decompress, z, bufsize=7)
R("dec.wbitskw", zlib.decompress, z, wbits=15)
R("dec.datakw", zlib.decompress, data=z)
R("dec.str", zlib.decompress, "abc")
R("dec.none", zlib.decompress, None)
R("dec.int", zlib.decompress, 5)
R("dec.trunc", zlib.decompress, z[:-5])
R("dec.trunc2", zlib.decompress, z[:10])
R("dec.empty", zlib.decompress, b"")
R("dec.bad", zlib.decompress, bad)
R("dec.garbage", zlib.decompress, b"garbage garbage")
R("dec.extra", zlib.decompress, z + b"xx")
R("dec.wbits0", zlib.decompress, z, 0)
for wb in (-16, -15, -9, -8, -7, 0, 7, 8, 9, 15, 16, 24, 25, 31, 32, 40, 47, 48, 100, 2**31, -2**31-1):
    R("dec.wbits%d" % wb, zlib.decompress, z, wb)
    R("dobj.wbits%d" % wb, lambda: zlib.decompressobj(wb).decompress(z))
    R("comp.wbits%d" % wb, zlib.compress, data[:1000], 6, wb)
    R("cobj.wbits%d" % wb, lambda: (lambda c: c.compress(data[:1000]) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, wb)))
for lvl in (-2, -1, 0, 1, 9, 10, 2**31, 1.5, "1", None, True):
    R("comp.level%r" % (lvl,), zlib.compress, data, lvl)
    R("cobj.level%r" % (lvl,), zlib.compressobj, lvl)
for m in (0, 7, 9, None):
    R("cobj.method%r" % (m,), zlib.compressobj, 6, m)
for ml in (0, 1, 9, 10, -1):
    R("cobj.memlevel%r" % (ml,), lambda: (lambda c: c.compress(data) + c.flush())(zlib.compressobj(6, 8, 15, ml)))
for s in (0, 1, 2, 3, 4, 5, -1):
    R("cobj.strategy%r" % (s,), lambda: (lambda c: c.compress(data) + c.flush())(zlib.compressobj(6, 8, 15, 8, s)))
R("cobj.kw", lambda: (lambda c: c.compress(data) + c.flush())(zlib.compressobj(level=3, method=8, wbits=-12, memLevel=5, strategy=1, zdict=b"quick fox")))
R("cobj.badkw", zlib.compressobj, mem_level=3)
R("cobj.zdictstr", zlib.compressobj, zdict="abc")
R("cobj.zdictint", zlib.compressobj, zdict=3)
R("cobj.zdictnone", zlib.compressobj, zdict=None)
R("cobj.zdictempty", lambda: (lambda c: c.compress(data) + c.flush())(zlib.compressobj(zdict=b"")))
R("dobj.zdictstr", zlib.decompressobj, zdict="abc")
R("dobj.zdictint", zlib.decompressobj, zdict=3)
R("dobj.zdictnone", zlib.decompressobj, zdict=None)
R("dobj.badkw", zlib.decompressobj, foo=1)
R("dobj.posargs", zlib.decompressobj, 15, b"", 3)
zd = b"line of the quick brown fox"
cz = zlib.compressobj(zdict=zd); czd = cz.compress(data) + cz.flush()
R("dict.none", lambda: zlib.decompressobj().decompress(czd))
R("dict.wrong", lambda: zlib.decompressobj(zdict=b"wrong").decompress(czd))
R("dict.ok", lambda: zlib.decompressobj(zdict=zd).decompress(czd))
R("dict.bytearray", lambda: zlib.decompressobj(zdict=bytearray(zd)).decompress(czd))
R("dict.memview", lambda: zlib.decompressobj(zdict=memoryview(zd)).decompress(czd))
R("dict.oneshot", zlib.decompress, czd)
cr = zlib.compressobj(wbits=-15, zdict=zd); crd = cr.compress(data) + cr.flush()
R("rawdict.ok", lambda: zlib.decompressobj(wbits=-15, zdict=zd).decompress(crd))
R("rawdict.none", lambda: zlib.decompressobj(wbits=-15).decompress(crd))
for mode in (0, 1, 2, 3, 4, 5, 6, 7, -1, 2**31, "x"):
    c = zlib.compressobj(); c.compress(data[:5000])
    R("cflush%r" % (mode,), c.flush, mode); R("cflush-after%r" % (mode,), c.flush); R("ccomp-after", c.compress, b"x"); R("cflush-again", c.flush); R("cflush-again-nf", c.flush, 0); R("ccopy-after", c.copy)
c = zlib.compressobj(); R("c.comp.str", c.compress, "x"); R("c.comp.kw", c.compress, data=b"x"); R("c.flushkw", c.flush, mode=4)
R("c.comp.none", c.compress, None)
c = zlib.compressobj(); R("c.level0.parts", lambda: [h(c.compress(data * 3)), h(c.flush(2)), h(c.compress(data)), h(c.flush())])
c = zlib.compressobj(0); R("c.level0.big", lambda: [h(c.compress(data * 30)), h(c.flush())])
R("comp.level0.big", zlib.compress, data * 30, 0)
# decompress copy and states
d = zlib.decompressobj(); d.decompress(z[:100]); d2 = d.copy(); R("dcopy", d2.decompress, z[100:]); st("dc", d2)
d = zlib.decompressobj(); d.decompress(z); R("dcopy.eof", d.copy); R("dflush.eof", d.flush); R("dcopy.eof2", d.copy); R("ddec.after-flush", d.decompress, b"x"); st("daf", d)
d = zlib.decompressobj(); d.decompress(z); R("ddec.after-eof", d.decompress, b"more"); st("dae", d); R("ddec.after-eof2", d.decompress, b"more2"); st("dae2", d)
d = zlib.decompressobj(); R("d.flush-fresh", d.flush); st("dff", d); R("d.flush-fresh2", d.flush); R("d.dec-after-flush", d.decompress, z); st("daff", d)
d = zlib.decompressobj(); d.decompress(z[:-4]); R("d.flush-trunc", d.flush); st("dft", d); R("d.dec-after", d.decompress, z[-4:]); st("dft2", d)
d = zlib.decompressobj(); R("d.partial-tail", d.decompress, z[:3000], 10); st("dpt", d); R("d.flush-partial-tail", d.flush, 5); st("dpt2", d)
d = zlib.decompressobj(); R("d.garb", d.decompress, b"garbage"); st("dg", d); R("d.garb2", d.decompress, b"x"); R("d.garbflush", d.flush)
d = zlib.decompressobj(); R("d.trunc-max", d.decompress, z[:50], 5); st("dtm", d); R("d.trunc-max-fl", d.flush); st("dtm2", d)
d = zlib.decompressobj(); R("d.unused", d.decompress, z + b"abc"); st("du", d); R("d.unused2", d.decompress, b"def"); st("du2", d); R("d.unused3", d.flush); st("du3", d)
d = zlib.decompressobj(); R("d.unusedmax", d.decompress, z + b"abc", 10); st("dum", d); R("d.unusedmax2", d.decompress, d.unconsumed_tail); st("dum2", d)
d = zlib.decompressobj(); R("d.byte-by-byte", lambda: b"".join(d.decompress(z[i:i+1]) for i in range(len(z)))); st("dbb", d)
R("pickle.c", pickle.dumps, zlib.compressobj())
R("pickle.d", pickle.dumps, zlib.decompressobj())
R("pickle.c2", pickle.dumps, zlib.compressobj(), 2)
R("pickle.d0", pickle.dumps, zlib.decompressobj(), 0)
R("copy.c", lambda: type(copy.copy(zlib.compressobj())).__name__)
R("deepcopy.c", lambda: type(copy.deepcopy(zlib.compressobj())).__name__)
R("copy.d", lambda: type(copy.copy(zlib.decompressobj())).__name__)
R("deepcopy.d", lambda: type(copy.deepcopy(zlib.decompressobj())).__name__)
c = zlib.compressobj(); c.flush(); R("copy.c.done", copy.copy, c)
for t in (type(zlib.compressobj()), type(zlib.decompressobj())):
    print("type", t.__module__, t.__name__, t.__qualname__, [n for n in dir(t) if not n.startswith("__")])
    R("type.new", t); R("type.__new__", lambda: t.__new__(t))
    R("subclass", lambda: type("X", (t,), {}))
do = zlib.decompressobj()
R("attr.set.eof", setattr, do, "eof", True)
R("attr.set.tail", setattr, do, "unconsumed_tail", b"x")
R("attr.set.unused", setattr, do, "unused_data", b"x")
R("attr.set.other", setattr, do, "foo", 1)
R("attr.c.other", setattr, zlib.compressobj(), "foo", 1)
R("attr.types", lambda: (type(do.eof).__name__, type(do.unused_data).__name__))
print("dir", [n for n in dir(zlib) if not n.startswith("__")], getattr(zlib, "__version__", None))
print("error", zlib.error.__module__, zlib.error.__qualname__, zlib.error.__mro__)
for fn in ("crc32", "adler32"):
    f = getattr(zlib, fn)
    for a in ((b"abc",), (b"abc", 0), (b"abc", -1), (b"abc", 2**32 + 5), (b"abc", 2**64), (b"abc", -2**40), (b"",), (b"", 2**32 - 1), ("abc",), (b"abc", None), (b"abc", 1.0), (bytearray(b"abc"),), (memoryview(b"abcdef")[::2],), (b"abc", True)):
        R(fn + repr(a)[:40].split(" at 0x")[0], f, *a)
    R(fn + ".kw", f, data=b"x")
    R(fn + ".kw2", f, b"x", value=3)
R("compress.kw", zlib.compress, data[:100], level=1, wbits=-9)
R("compress.datakw", zlib.compress, data=b"x")
R("compress.3args", zlib.compress, b"x", 1, 15, 4)
R("compress.memview-nc", zlib.compress, memoryview(data)[::2])
R("compress.array", lambda: zlib.compress(__import__("array").array("i", range(100))))
R("decompress.array", lambda: zlib.decompress(bytearray(z)))
for name in ("compress", "decompress", "compressobj", "decompressobj", "crc32", "adler32"):
    f = getattr(zlib, name)
    print("fn", name, type(f).__name__, f.__module__ if hasattr(f, "__module__") else None, (f.__doc__ or "").splitlines()[:1])
    R(name + ".noargs", f)
# gzip wbits with headers
import gzip
g = gzip.compress(data, mtime=0)
for wb in (31, 47, 15, -15):
    R("gz.dec%d" % wb, zlib.decompress, g, wb)
d = zlib.decompressobj(47); R("gz.dobj47", d.decompress, g + g); st("gz", d)
d = zlib.decompressobj(31); R("gz.bad.crc", d.decompress, g[:-8] + b"\0\0\0\0" + g[-4:]); st("gzb", d); R("gz.bad.flush", d.flush); st("gzb2", d)
d = zlib.decompressobj(31); R("gz.bad.crc.partial", d.decompress, g[:-8]); R("gz.bad.crc.flush", d.flush, ); st("gzb3", d)
d = zlib.decompressobj(31); R("gz.bad.crc.tailfeed", d.decompress, g[:-8]); R("gz.badcrc.rest", d.decompress, b"\0\0\0\0" + g[-4:]); st("gzb4", d)
d = zlib.decompressobj(); d.decompress(bad[:-4]); R("badck.flush.after.partial", d.flush); st("bk", d); R("badck.flush.tail4", lambda: d.decompress(bad[-4:])); st("bk2", d)
d = zlib.decompressobj(); R("badck.max", d.decompress, bad[:-4], 1); R("badck.max.flush", lambda: h(d.flush())); st("bkm", d)
d = zlib.decompressobj(); R("badck.full.max", d.decompress, bad, 1); R("badck.full.max.flush", d.flush); st("bkfm", d)
R("dobj.zdict-empty-explicit", lambda: zlib.decompressobj(zdict=b"").decompress(czd))
R("dobj.zdict-empty-raw", lambda: zlib.decompressobj(-15, zdict=b"").decompress(crd))
R("deepcopy.noargs", zlib.compressobj().__deepcopy__)
R("copy.args", zlib.compressobj().copy, 1)
R("dcopy.kw", zlib.decompressobj().copy, a=1)
R("ddeep.2", zlib.decompressobj().__deepcopy__, 1, 2)
R("crc.3", zlib.crc32, b"", 1, 2)
R("dec.flush2", zlib.decompressobj().flush, 1, 2)
R("dec.dec3", zlib.decompressobj().decompress, b"", 1, 2)
R("dec.dec.both", zlib.decompressobj().decompress, b"", 1, max_length=2)
R("dec.kwnonstr", lambda: zlib.decompress(b"", **{"wbits": 15, "x": 1}))
R("cobj.both", lambda: zlib.compressobj(1, level=2))
R("del.eof", lambda: delattr(zlib.decompressobj(), "eof"))
R("Compress.__new__", lambda: type(zlib.compressobj()).__new__(type(zlib.compressobj())))
for f in (zlib.compress, zlib.decompress, zlib.compressobj, zlib.decompressobj, zlib.crc32, zlib.adler32, zlib.compressobj().flush, zlib.decompressobj().decompress):
    R("sig", lambda: str(inspect.signature(f)))
R("set.copy", setattr, zlib.decompressobj(), "copy", 1)
R("set.cflush", setattr, zlib.compressobj(), "flush", 1)
R("del.other", delattr, zlib.decompressobj(), "foo")
R("ccopy.kw", zlib.compressobj().copy, a=1)
R("c__copy.kw", zlib.compressobj().__copy__, a=1)

print("OK zlib_exact")
