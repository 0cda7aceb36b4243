# The application-level half of the mixed module `zlib`: CPython's zlib API
# over the host's libz (_compress, _Compressor, ... are the Rust half), with
# CPython's error wording.

MAX_WBITS = 15
DEFLATED = 8
DEF_MEM_LEVEL = 8
DEF_BUF_SIZE = 16384
Z_NO_COMPRESSION = 0
Z_BEST_SPEED = 1
Z_BEST_COMPRESSION = 9
Z_DEFAULT_COMPRESSION = -1
Z_FILTERED = 1
Z_HUFFMAN_ONLY = 2
Z_RLE = 3
Z_FIXED = 4
Z_DEFAULT_STRATEGY = 0
Z_NO_FLUSH = 0
Z_PARTIAL_FLUSH = 1
Z_SYNC_FLUSH = 2
Z_FULL_FLUSH = 3
Z_FINISH = 4
Z_BLOCK = 5
Z_TREES = 6


def _index(value, name):
    try:
        return value.__index__()
    except AttributeError:
        raise TypeError("'%s' object cannot be interpreted as an integer" % type(value).__name__) from None


def _c_int(value, name):
    value = _index(value, name)
    if not -(1 << 31) <= value < (1 << 31):
        raise OverflowError("Python int too large to convert to C int")
    return value


def compress(data, /, level=Z_DEFAULT_COMPRESSION, wbits=MAX_WBITS):
    """Returns a bytes object containing compressed data."""
    return _compress(data, _c_int(level, "level"), _c_int(wbits, "wbits"))


def decompress(data, /, wbits=MAX_WBITS, bufsize=DEF_BUF_SIZE):
    """Returns a bytes object containing the uncompressed data."""
    bufsize = _index(bufsize, "bufsize")
    if bufsize < 0:
        raise ValueError("bufsize must be non-negative")
    return _decompress(data, _c_int(wbits, "wbits"), bufsize)


class Compress:
    __slots__ = ("_c",)

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'zlib.Compress' instances")

    def compress(self, data, /):
        return self._c.compress(data)

    def flush(self, mode=Z_FINISH, /):
        return self._c.flush(_c_int(mode, "mode"))

    def copy(self):
        return _wrap_compress(self._c.copy())

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()


def _wrap_compress(c):
    obj = object.__new__(Compress)
    obj._c = c
    return obj


def compressobj(level=Z_DEFAULT_COMPRESSION, method=DEFLATED, wbits=MAX_WBITS,
                memLevel=DEF_MEM_LEVEL, strategy=Z_DEFAULT_STRATEGY, zdict=None):
    """Return a compressor object."""
    # The Rust half takes any buffer and words a refusal as CPython does.
    return _wrap_compress(_compressor(_c_int(level, "level"), _c_int(method, "method"),
                                      _c_int(wbits, "wbits"), _c_int(memLevel, "memLevel"),
                                      _c_int(strategy, "strategy"), zdict))


class Decompress:
    __slots__ = ("_d", "unused_data", "unconsumed_tail", "eof")

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'zlib.Decompress' instances")

    def _set(self, state):
        data, self.eof, self.unused_data, self.unconsumed_tail = state
        return data

    def decompress(self, data, /, max_length=0):
        max_length = _index(max_length, "max_length")
        if max_length < 0:
            raise ValueError("max_length must be non-negative")
        return self._set(self._d.decompress(data, max_length))

    def flush(self, length=DEF_BUF_SIZE, /):
        length = _index(length, "length")
        if length <= 0:
            raise ValueError("length must be greater than zero")
        return self._set(self._d.flush(length))

    def copy(self):
        obj = _wrap_decompress(self._d.copy())
        obj.eof = self.eof
        obj.unused_data = self.unused_data
        obj.unconsumed_tail = self.unconsumed_tail
        return obj

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()


def _wrap_decompress(d):
    obj = object.__new__(Decompress)
    obj._d = d
    obj.eof = False
    obj.unused_data = b""
    obj.unconsumed_tail = b""
    return obj


def decompressobj(wbits=MAX_WBITS, zdict=b""):
    """Return a decompressor object."""
    if zdict is not None:
        try:
            zdict = memoryview(zdict).tobytes()
        except TypeError:
            raise TypeError("zdict argument must support the buffer protocol") from None
        if not zdict:
            zdict = None
    return _wrap_decompress(_decompressor(_c_int(wbits, "wbits"), zdict))


class _ZlibDecompressor:
    """Used by gzip (CPython 3.12+): one-shot-per-stream decompressor."""

    def __init__(self, wbits=MAX_WBITS, zdict=b""):
        self._d = decompressobj(wbits, zdict)
        self.needs_input = True
        self._buf = b""

    @property
    def eof(self):
        return self._d.eof

    @property
    def unused_data(self):
        return self._d.unused_data

    def decompress(self, data, max_length=-1):
        if self._d.eof:
            raise EOFError("End of stream already reached")
        data = self._buf + bytes(data)
        out = self._d.decompress(data, max_length if max_length > 0 else 0)
        self._buf = self._d.unconsumed_tail
        if self._d.eof:
            self.needs_input = False
        elif self._buf:
            self.needs_input = False
        else:
            self.needs_input = True
        if max_length > 0 and len(out) >= max_length and not self._buf and not self._d.eof:
            # Output may be pending inside zlib: ask for more without input.
            self.needs_input = False
        return out


