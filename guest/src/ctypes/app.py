# _ctypes, application level: the metaclasses, the instances and the
# conversion rules of CPython 3.11's C core, over the Rust primitives of
# this module (mod.rs says why the split is where it is). Names follow
# CPython's Modules/_ctypes/ so a reader can compare: stgdict -> _Info,
# KeepRef -> _keep_ref, ConvParam -> _conv_param, GetResult -> _get_result.
# Every buffer is host memory: `_b_addr_` is what native code sees.

import sys as _sys
from _weakref import ref as _weakref_ref

__version__ = "1.1.0"
FUNCFLAG_CDECL = 0x1
FUNCFLAG_HRESULT = 0x2
FUNCFLAG_PYTHONAPI = 0x4
FUNCFLAG_USE_ERRNO = 0x8
FUNCFLAG_USE_LASTERROR = 0x10
CTYPES_MAX_ARGCOUNT = 1024
SIZEOF_TIME_T = _c_types.get("time_t", _c_types["long"])[0]
_POINTER_SIZE = _prim_sizes["P"][0]
_WCHAR_SIZE = _prim_sizes["u"][0]
# Native data is in native code's byte order (_native_byteorder, from the
# host's platform facts: big-endian on s390x), not the guest's sys.byteorder.
_SWAPPED_ORDER = "big" if _native_byteorder == "little" else "little"
_WIDE = ("utf-16-" if _WCHAR_SIZE == 2 else "utf-32-") + _native_byteorder[0] + "e"
_pointer_type_cache = {}
_MISSING = object()
_array_type_cache = {}


class ArgumentError(Exception):
    pass


ArgumentError.__module__ = "ctypes"


# ---------------------------------------------------------------- type info

class _Info:
    """What CPython keeps in a type's StgDict."""

    __slots__ = ("kind", "size", "align", "length", "proto", "code", "desc",
                 "fields", "flags", "argtypes", "restype", "final", "swapped",
                 "layout", "sig_cache", "owner", "packed", "format")

    def __init__(self, kind, size, align):
        self.kind = kind
        self.size = size
        self.align = align
        self.length = 0
        self.proto = None
        self.code = None
        self.desc = None  # what crosses to Layout/Signature: a code or a Layout
        self.fields = None
        self.flags = 0
        self.argtypes = None
        self.restype = None
        self.final = False
        self.swapped = False
        self.layout = None
        self.sig_cache = None
        self.owner = None  # the class whose _fields_ made the layout
        self.packed = False  # a structure with _pack_
        self.format = None  # a pointer's PEP 3118 format, fixed at creation


def _info(tp):
    return tp.__dict__.get("_stginfo_") if isinstance(tp, type) else None


def _info_of(obj):
    """The type info of a ctypes type or instance, or None. A class
    attribute found through the MRO (a subclass without its own `_fields_`
    shares its base's), which CPython's type attribute cache makes cheap."""
    if not isinstance(obj, type):
        obj = type(obj)
    return getattr(obj, "_stginfo_", None)


def _need_info(tp):
    info = _info_of(tp)
    if info is None:
        raise TypeError("abstract class")
    return info


def _desc(info):
    """The crossing descriptor of a type: a type code or a host Layout."""
    if info.desc is None:
        if info.kind in ("struct", "union"):
            info.desc = _struct_layout_desc(info)
        elif info.kind == "array":
            # C has no array values; inside a struct an array lays out
            # as that many elements.
            if info.length == 0:
                raise TypeError("a zero-length array has no C layout")
            info.desc = Layout([_desc(_need_info(info.proto))] * info.length)
        else:
            info.desc = "P"
    return info.desc


def _simple_instance(tp):
    """CPython's _ctypes_simple_instance: a subclass of a fundamental
    simple type (its values stay objects instead of turning into ints)."""
    return (isinstance(tp, PyCSimpleType) and _SimpleCData not in tp.__bases__)


# --------------------------------------------------------------- keep-alive

def _root(obj):
    base = _BASE(obj)
    while base is not None:
        obj = base
        base = _BASE(obj)
    return obj


def _keep_ref(target, index, keep, hidden=None):
    """CPython's KeepRef: `keep` lives in the root object's `_objects`
    under a key naming the path to `target`. `hidden` is ours: the host
    block a string was copied into, kept alongside. Slots are read
    directly: a subclass may define __getattribute__."""
    key = "%x" % index
    obj = target
    base = _BASE(obj)
    while base is not None:
        key += ":%x" % _INDEX(obj)
        obj = base
        base = _BASE(obj)
    if hidden is not None:
        if _HIDDEN(obj) is None:
            _SET_HIDDEN(obj, {})
        _HIDDEN(obj)[key] = hidden
    if keep is None:
        return
    objects = _OBJECTS(obj)
    if not isinstance(objects, dict):
        if _info_of(obj).kind == "simple":
            _SET_OBJECTS(obj, keep)
            return
        objects = {}
        _SET_OBJECTS(obj, objects)
    objects[key] = keep


def _container_objects(obj):
    root = _root(obj)
    if _OBJECTS(root) is None and _info_of(root).kind != "simple":
        _SET_OBJECTS(root, {})
    return _OBJECTS(root)


# -------------------------------------------------------- scalar conversion

_INT_CODES = "bBhHiIlLqQnN"


def _index(value):
    if isinstance(value, float):
        raise TypeError("int expected instead of float")
    try:
        return value.__index__()
    except AttributeError:
        raise TypeError("int expected instead of %s" % type(value).__name__) from None


def _string_block(data):
    return Block.holding(data)


def _setfunc(code, addr, value):
    """Store `value` as `code` at `addr` with CPython's checks; returns
    (keep, hidden): what must stay alive with the memory."""
    if code in _INT_CODES:
        _store(addr, code, _index(value))
    elif code == "v":
        _store(addr, "h", -1 if value else 0)  # VARIANT_BOOL
    elif code in "fdg":
        if not isinstance(value, (int, float)):
            try:
                value = value.__float__()
            except AttributeError:
                raise TypeError("must be real number, not %s" % type(value).__name__) from None
        _store(addr, code, float(value))
    elif code == "?":
        _store(addr, code, bool(value))
    elif code == "c":
        if isinstance(value, (bytes, bytearray)) and len(value) == 1:
            _store(addr, code, value[0])
        elif isinstance(value, int) and 0 <= value < 256:
            _store(addr, code, value)
        else:
            raise TypeError("one character bytes, bytearray or integer expected")
    elif code == "u":
        if not isinstance(value, str):
            raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
        if len(value) != 1:
            raise TypeError("one character unicode string expected")
        _store(addr, code, value)
    elif code == "z":
        if value is None:
            _store(addr, "P", 0)
        elif isinstance(value, int):
            _store(addr, "P", value)
        elif isinstance(value, bytes):
            block = _string_block(value + b"\0")
            _store(addr, "P", block.addr)
            return value, block
        else:
            raise TypeError("bytes or integer address expected instead of %s instance"
                            % type(value).__name__)
    elif code == "Z":
        if value is None:
            _store(addr, "P", 0)
        elif isinstance(value, int):
            _store(addr, "P", value)
        elif isinstance(value, str):
            block = _string_block((value + "\0").encode(_WIDE, "surrogatepass"))
            _store(addr, "P", block.addr)
            return value, block
        else:
            raise TypeError("unicode string or integer address expected instead of %s instance"
                            % type(value).__name__)
    elif code == "P":
        if value is None:
            value = 0
        elif not isinstance(value, int):
            raise TypeError("cannot be converted to pointer")
        _store(addr, "P", value)
    elif code == "O":
        _store(addr, "P", id(value))
        return value, _py_holder(value)
    else:
        raise TypeError("unsupported type code %r" % code)
    return None, None


# py_object: native memory holds id(obj); the objects themselves stay here
# (and in the owner's _objects) as native code cannot hold guest objects.
class _PyHolder:
    """Registers a py_object's value by id while its owner keeps this."""

    __slots__ = ("obj", "__weakref__")

    def __init__(self, obj):
        self.obj = obj


_pyobjects = {}


def _py_holder(obj):
    key = id(obj)
    holder = _PyHolder(obj)

    def gone(ref, key=key):
        if _pyobjects.get(key) is ref:
            del _pyobjects[key]

    _pyobjects[key] = _weakref_ref(holder, gone)
    return holder


def _py_lookup(address):
    ref = _pyobjects.get(address)
    holder = ref() if ref is not None else None
    if holder is None:
        raise ValueError("PyObject is NULL")
    return holder.obj


def _getfunc(code, addr):
    if code in "zZ":
        p = _load(addr, "P")
        if not p:
            return None
        return _string_at(p) if code == "z" else _wstring_at(p)
    if code == "P":
        return _load(addr, "P") or None
    if code == "v":
        return bool(_load(addr, "h"))
    if code == "O":
        p = _load(addr, "P")
        return _py_lookup(p)
    return _load(addr, code)


def _raw_to_value(code, raw):
    """A value as a call result or callback argument gives it (raw ints
    for pointer-likes) to what `.value` would say."""
    if code in "zZ":
        if not raw:
            return None
        return _string_at(raw) if code == "z" else _wstring_at(raw)
    if code == "P":
        return raw or None
    if code == "O":
        return _py_lookup(raw) if raw else None
    return raw


# Byte-swapped simple types (__ctype_be__ on a little-endian host) go
# through Python's own struct module.
import struct as _struct
_SWAP_FORMATS = {"h": "h", "H": "H", "i": "i", "I": "I", "l": "q", "L": "Q",
                 "q": "q", "Q": "Q", "f": "f", "d": "d"}


def _swap_fmt(code):
    size = _prim_sizes[code][0]
    fmt = _SWAP_FORMATS[code]
    if fmt in "qQ" and size == 4:
        fmt = "i" if fmt == "q" else "I"
    return (">" if _SWAPPED_ORDER == "big" else "<") + fmt


def _get_swapped(code, addr):
    return _struct.unpack(_swap_fmt(code), _read(addr, _prim_sizes[code][0]))[0]


def _set_swapped(code, addr, value):
    if code in "fd":
        value = float(value)
        data = _struct.pack(_swap_fmt(code), value)
    else:
        bits = _prim_sizes[code][0] * 8
        value = _index(value) & ((1 << bits) - 1)
        data = value.to_bytes(bits // 8, _SWAPPED_ORDER)
    _write(addr, data)


def _value_get(info, addr):
    if info.swapped:
        return _get_swapped(info.code, addr)
    return _getfunc(info.code, addr)


def _value_set(info, addr, value):
    if info.swapped:
        _set_swapped(info.code, addr, value)
        return None, None
    return _setfunc(info.code, addr, value)


# ------------------------------------------------------ instance machinery

def _alloc_instance(cls):
    info = _need_info(cls)
    info.final = True
    block = Block(info.size, info.align)
    return _new_instance(cls, block.addr, block)


def _instance_holding(cls, data):
    """A new instance whose memory starts as `data`: one crossing."""
    info = _need_info(cls)
    info.final = True
    if len(data) < info.size:
        data = data + bytes(info.size - len(data))
    block = Block.holding(data, info.align)
    return _new_instance(cls, block.addr, block)


_INT_FORMATS = {}


def _raw_bytes(info, raw):
    """A raw call or callback value (an int address, a number) as the
    bytes of a `info`-typed object."""
    if isinstance(raw, bytes):
        return raw
    code = "P" if info.kind != "simple" or info.code in "zZPO" else info.code
    if isinstance(raw, int) and code in "PbBhHiIlLqQnN":
        size = _prim_sizes[code][0]
        return (raw & ((1 << (size * 8)) - 1)).to_bytes(size, _native_byteorder)
    block = Block(16, 16)
    _store(block.addr, code, raw)
    return _read(block.addr, info.size)


def _cdata_get(tp, addr, base, index):
    """CPython's PyCData_get: a simple field's value, else an object
    sharing `base`'s memory."""
    info = _need_info(tp)
    if info.kind == "simple" and not _simple_instance(tp):
        return _value_get(info, addr)
    return _new_instance(tp, addr, None, base, index)


def _cdata_set(dst, tp, addr, value, index, size=None):
    """CPython's PyCData_set / _PyCData_set."""
    info = _need_info(tp)
    if size is None:
        size = info.size
    if not isinstance(value, _CData):
        if info.kind == "simple":
            keep, hidden = _value_set(info, addr, value)
            _keep_ref(dst, index, keep, hidden)
            return
        if isinstance(value, tuple):
            try:
                value = tp(*value)
            except Exception as exc:
                # CPython's _ctypes_extend_error
                raise RuntimeError("(%s) %s: %s" % (tp.__name__, type(exc).__name__, exc)) \
                    from None
            return _cdata_set(dst, tp, addr, value, index, size)
        if value is None and info.kind == "pointer":
            _store(addr, "P", 0)
            return
        raise TypeError("expected %s instance, got %s" % (tp.__name__, type(value).__name__))
    if isinstance(value, tp):
        _copy(addr, _ADDR(value), size)
        _keep_ref(dst, index, _container_objects(value))
        return
    vinfo = _info_of(value)
    if info.kind == "pointer" and vinfo.kind == "array" and \
            issubclass(vinfo.proto, info.proto):
        _store(addr, "P", _ADDR(value))
        _keep_ref(dst, index, (_container_objects(value), value))
        return
    raise TypeError("incompatible types, %s instance instead of %s instance"
                    % (type(value).__name__, tp.__name__))


class _CData(_CDataBase):
    # the instance's state (_b_addr_, _b_base_, _objects, ...) is the
    # Rust base's: its hot paths read it
    __slots__ = ("__weakref__",)
    __hash__ = None

    def __new__(cls, *args, **kw):
        return _alloc_instance(cls)

    @property
    def _b_needsfree_(self):
        return self._b_block_ is not None

    def __bytes__(self):
        return _read(_ADDR(self), _sizeof(self))

    def __reduce__(self):
        # CPython's PyCData_reduce: the instance dict and the raw bytes
        if _has_pointer(_info_of(self)):
            raise ValueError("ctypes objects containing pointers cannot be pickled")
        d = getattr(self, "__dict__", None)
        return _unpickle, (type(self), (d if d is not None else {}, bytes(self)))

    def __setstate__(self, state, data=None):
        if data is None:
            state, data = state
        if not isinstance(state, dict):
            raise TypeError("state must be a dict")
        if not isinstance(data, bytes):
            raise TypeError("data must be bytes")
        # as CPython's PyCData_setstate: __dict__ is looked up (a property
        # may raise) and must be a dict
        d = getattr(self, "__dict__", _MISSING)
        if d is not _MISSING and not isinstance(d, dict):
            raise TypeError("%.200s.__dict__ must be a dictionary, not %.200s"
                            % (type(self).__name__, type(d).__name__))
        _write(_ADDR(self), data[:_sizeof(self)])
        if d is not _MISSING:
            d.update(state)

    def __ctypes_from_outparam__(self):
        return self

    def _b_buffer_(self):
        """For the Rust base's __getbuffer__ (PEP 3118): address, size,
        format and shape, as CPython's PyCData_NewGetBuffer gives them."""
        if _shadows:
            _sync_all()
        info = _info_of(self)
        item = info
        while item.kind == "array":
            item = _need_info(item.proto)
        return (_ADDR(self), _sizeof(self), _pep3118_format(info), _pep3118_shape(info),
                item.size)


def _has_pointer(info):
    kind = info.kind
    if kind in ("pointer", "func"):
        return True
    if kind == "simple":
        return info.code in "zZPO"
    if kind == "array":
        return _has_pointer(_need_info(info.proto))
    for name in info.fields or ():
        for klass in info.owner.__mro__:
            field = klass.__dict__.get(name)
            if field is not None:
                break
        if field is not None and _has_pointer(_need_info(field._type)):
            return True
    return False


def _unpickle(typ, state):
    obj = typ.__new__(typ)
    obj.__setstate__(*state)
    return obj


def _pep3118_shape(info):
    shape = []
    while info.kind == "array":
        shape.append(info.length)
        info = _need_info(info.proto)
    return shape


_PEP_CODES = {"l": "q", "L": "Q"} if _prim_sizes["l"][0] == 8 else {}


def _pep3118_format(info):
    while info.kind == "array":
        info = _need_info(info.proto)
    order = _SWAPPED_ORDER if info.swapped else _native_byteorder
    endian = "<" if order == "little" else ">"
    if info.kind == "simple":
        return endian + _PEP_CODES.get(info.code, info.code)
    if info.kind == "pointer":
        # fixed when the pointer type was made (PyCPointerType_new): a
        # pointer to a then incomplete structure stays "&B"
        return info.format if info.format is not None else "B"
    if info.kind == "func":
        return "X{}"
    if info.kind in ("struct", "union"):
        # 3.11: unions, packed structures ("do not implement the pep") and
        # structures without _fields_ (incomplete) are bytes
        if info.kind == "union" or info.packed or info.owner is None:
            return "B"
        return _struct_format(info)
    return "B"


def _pointer_format(proto):
    """CPython's PyCPointerType_new: "&" and the target's format as it is
    now, with the shape of an array target."""
    pinfo = _need_info(proto)
    shape = _pep3118_shape(pinfo)
    prefix = "&(%s)" % ",".join(map(str, shape)) if shape else "&"
    return prefix + _pep3118_format(pinfo)


# The slot itself, not attribute lookup: a subclass may define
# __getattribute__ (CPython reads the C struct directly).
_ADDR = _CData._b_addr_.__get__
_BASE = _CData._b_base_.__get__
_INDEX = _CData._b_index_.__get__
_OBJECTS = _CData._objects.__get__
_SET_OBJECTS = _CData._objects.__set__
_HIDDEN = _CData._b_hidden_.__get__
_SET_HIDDEN = _CData._b_hidden_.__set__
_S_ADDR = _CData._b_addr_.__set__
_S_BLOCK = _CData._b_block_.__set__
_S_BASE = _CData._b_base_.__set__
_S_INDEX = _CData._b_index_.__set__
_S_OBJECTS = _SET_OBJECTS
_S_HIDDEN = _SET_HIDDEN
_S_SIZE = _CData._b_size_.__set__


def _sizeof(obj):
    if isinstance(obj, _CData):
        return obj._b_size_ if obj._b_size_ is not None else _need_info(obj).size
    return _need_info(obj).size


# ------------------------------------------------- from_buffer over guest memory

import weakref as _weakref


class _Shadow:
    """from_buffer() over guest memory (a bytearray, an array.array):
    native code cannot see it, so the ctypes object works on a host copy
    kept coherent with the buffer, synchronised around every ctypes access,
    foreign call, memmove and memset.
    Each synchronisation is a three-way merge against the contents at the
    last one, so changes made on either side survive. The memoryview pins
    the buffer (no resizing) while the ctypes object lives."""

    __slots__ = ("view", "block", "snapshot", "__weakref__")

    def __init__(self, view, offset, size):
        self.view = view.cast("B")[offset:offset + size]
        self.snapshot = self.view.tobytes()
        self.block = Block.holding(self.snapshot) if size else Block(1, 16)
        # a set of weak references, so that `if _shadows:` on every ctypes
        # access is a builtin truth test
        _shadows.add(_weakref_ref(self, _shadows.discard))

    def sync(self):
        n = len(self.snapshot)
        if not n:
            return
        guest = self.view.tobytes()
        host = _read(self.block.addr, n)
        snap = self.snapshot
        if guest == snap:
            if host != snap:
                self.view[:] = host
                self.snapshot = host
        elif host == snap:
            _write(self.block.addr, guest)
            self.snapshot = guest
        else:
            merged = bytes(g if g != s else h for g, h, s in zip(guest, host, snap))
            self.view[:] = merged
            _write(self.block.addr, merged)
            self.snapshot = merged


_shadows = set()


def _sync_all():
    for ref in list(_shadows):
        shadow = ref()
        if shadow is not None:
            shadow.sync()


# --------------------------------------------------------- metaclass base

class _CDataType(type):
    """What all ctypes metaclasses share: the class methods of CPython's
    CDataType (from_address & co.) and `T * n`."""

    def from_address(cls, address):
        if not isinstance(address, int):
            raise TypeError("integer expected")
        _need_info(cls).final = True
        return _new_instance(cls, address, None)

    def from_buffer(cls, obj, offset=0):
        info = _need_info(cls)
        if offset < 0:
            raise ValueError("offset cannot be negative")
        if isinstance(obj, _CData):
            # ctypes objects are host memory already: share it, as CPython
            # does through the buffer protocol.
            if _sizeof(obj) < info.size + offset:
                raise ValueError("Buffer size too small (%d instead of at least %d bytes)"
                                 % (_sizeof(obj), info.size + offset))
            return _new_instance(cls, _ADDR(obj) + offset, None, obj, 0)
        view = memoryview(obj)
        if view.readonly:
            raise TypeError("underlying buffer is not writable")
        if not view.c_contiguous:
            raise TypeError("underlying buffer is not C contiguous")
        if view.nbytes < info.size + offset:
            raise ValueError("Buffer size too small (%d instead of at least %d bytes)"
                             % (view.nbytes, info.size + offset))
        shadow = _Shadow(view, offset, info.size)
        result = _new_instance(cls, shadow.block.addr, None)
        result._objects = {"ffffffff": view}
        result._b_hidden_ = {"shadow": shadow}
        return result

    def from_buffer_copy(cls, obj, offset=0):
        info = _need_info(cls)
        if offset < 0:
            raise ValueError("offset cannot be negative")
        data = bytes(obj) if isinstance(obj, _CData) else memoryview(obj).cast("B").tobytes()
        if len(data) < info.size + offset:
            raise ValueError("Buffer size too small (%d instead of at least %d bytes)"
                             % (len(data), info.size + offset))
        result = _alloc_instance(cls)
        _write(_ADDR(result), data[offset:offset + info.size])
        return result

    def in_dll(cls, dll, name):
        try:
            addr = dlsym(_real_handle(dll._handle), name)
        except AttributeError:
            raise ValueError("symbol '%s' not found" % name) from None
        return cls.from_address(addr)

    def from_param(cls, value):
        return _cdatatype_from_param(cls, value)

    def __mul__(cls, length):
        return _array_type(cls, length)

    __rmul__ = __mul__


def _cdatatype_from_param(cls, value):
    if isinstance(value, cls):
        return value
    if isinstance(value, CArgObject) and isinstance(value._obj, cls):
        return value
    if isinstance(value, CArgObject) and value._obj is not None:
        # byref(x) for POINTER(T): x a T, or an array or pointer of T
        # (CPython 3.14 accepts byref(array, offset) here)
        proto = getattr(_info_of(cls), "proto", None)
        oinfo = _info_of(value._obj)
        if isinstance(proto, type) and (isinstance(value._obj, proto) or (
                oinfo.kind in ("array", "pointer") and isinstance(oinfo.proto, type)
                and issubclass(oinfo.proto, proto))):
            return value
    as_param = getattr(value, "_as_parameter_", _MISSING)
    if as_param is not _MISSING:
        return cls.from_param(as_param)
    if isinstance(value, _CData) and _info_of(value).kind == "pointer":
        raise TypeError("expected %s instance instead of pointer to %s"
                        % (cls.__name__, _info_of(value).proto.__name__))
    raise TypeError("expected %s instance instead of %s" % (cls.__name__, type(value).__name__))


_bootstrapping = True
