
# ------------------------------------------------------------ byref objects

class CArgObject:
    """What byref() and from_param() give: a C value ready for a call.
    `_code` is its crossing type, `_raw` its value as Function() takes it."""

    __slots__ = ("_code", "_raw", "_obj")

    def __init__(self, code, raw, obj):
        self._code = code
        self._raw = raw
        self._obj = obj

    def __repr__(self):
        # CPython's PyCArg_repr
        code, raw = self._code, self._raw
        if code in "bBhHiIlLqQ":
            return "<cparam '%s' (%d)>" % (code, raw)
        if code in "df":
            return "<cparam '%s' (%r)>" % (code, float(raw))
        if code == "c":
            c = raw[0] if isinstance(raw, bytes) else raw
            if 32 <= c < 127 and c != 0x5c:
                return "<cparam 'c' ('%c')>" % c
            return "<cparam 'c' ('\\x%02x')>" % c
        if code in "zZP":
            return "<cparam '%s' (%#x)>" % (code, raw if isinstance(raw, int) else id(raw))
        return "<cparam '%s' at %#x>" % (code, id(self))


def byref(obj, offset=0):
    if not isinstance(obj, _CData):
        raise TypeError("byref() argument must be a ctypes instance, not '%s'"
                        % type(obj).__name__)
    return CArgObject("P", _ADDR(obj) + offset, obj)


def addressof(obj):
    if not isinstance(obj, _CData):
        raise TypeError("invalid type")
    return _ADDR(obj)


def sizeof(obj):
    if isinstance(obj, _CData) or _info_of(obj) is not None:
        return _sizeof(obj)
    raise TypeError("this type has no size")


def alignment(obj):
    info = _info_of(obj)
    if info is None:
        raise TypeError("no alignment info")
    return info.align


def resize(obj, size):
    if not isinstance(obj, _CData):
        raise TypeError("expected ctypes instance")
    info = _info_of(obj)
    if size < info.size:
        raise ValueError("minimum size is %d" % info.size)
    if obj._b_block_ is None:
        raise ValueError("Memory cannot be resized because this object doesn't own it")
    block = Block(size, info.align)
    _copy(block.addr, _ADDR(obj), min(size, _sizeof(obj)))
    obj._b_block_ = block
    obj._b_addr_ = block.addr
    obj._b_size_ = size


# ------------------------------------------------------------ simple types

_SIMPLE_CODES = "cbBhHiIlLdfuzZqQPXOv?g"


class PyCSimpleType(_CDataType):
    def __new__(meta, name, bases, ns, **kw):
        cls = super().__new__(meta, name, bases, ns, **kw)
        if _bootstrapping:
            return cls
        code = getattr(cls, "_type_", None)
        if code is None:
            raise AttributeError("class must define a '_type_' attribute")
        if not isinstance(code, str):
            raise TypeError("class must define a '_type_' string attribute")
        if len(code) != 1:
            raise ValueError("class must define a '_type_' attribute which must be "
                             "a string of length 1")
        if code not in _SIMPLE_CODES or code == "X":
            raise AttributeError("class must define a '_type_' attribute which must be\n"
                                 "a single character string containing one of '%s'."
                                 % _SIMPLE_CODES)
        size, align = _prim_sizes[{"O": "P", "v": "h"}.get(code, code)]
        info = _Info("simple", size, align)
        info.code = code
        info.desc = {"O": "P", "v": "h"}.get(code, code)
        info.swapped = bool(ns.get("_swapped_"))
        cls._stginfo_ = info
        if "value" not in ns:
            # each simple type's own `value`, which the Rust base reads
            # and writes itself for plain numbers
            value = _SimpleValue()
            value._set_fast(0, _number_code(cls))
            type.__setattr__(cls, "value", value)
        if meta is PyCSimpleType and not info.swapped and code in _SWAP_FORMATS:
            swapped_ns = dict(ns)
            swapped_ns["_swapped_"] = True
            swapped = PyCSimpleType(name, bases, swapped_ns)
            # "native" is native code's order: on s390x c_int.__ctype_be__
            # is c_int itself
            other = "__ctype_%se__" % _SWAPPED_ORDER[0]
            same = "__ctype_%se__" % _native_byteorder[0]
            type.__setattr__(cls, same, cls)
            type.__setattr__(cls, other, swapped)
            type.__setattr__(swapped, same, cls)
            type.__setattr__(swapped, other, swapped)
        return cls

    def from_param(cls, value):
        return _simple_from_param(cls, value)


def _simple_from_param(cls, value):
    if isinstance(value, cls):
        return value
    code = _need_info(cls).code
    if code == "z":
        if value is None:
            return None  # ConvParam makes it NULL
        if isinstance(value, bytes):
            return CArgObject("z", value, value)
        if isinstance(value, _CData) and _info_of(value).kind in ("array", "pointer") \
                and _info_of(value).proto is not None and _need_info(_info_of(value).proto).code == "c":
            return value
        if isinstance(value, CArgObject) and value._obj is not None and \
                _info_of(value._obj).code == "c":
            return value
    elif code == "Z":
        if value is None:
            return None  # ConvParam makes it NULL
        if isinstance(value, str):
            return CArgObject("Z", value, value)
        if isinstance(value, _CData) and _info_of(value).kind in ("array", "pointer") \
                and _info_of(value).proto is not None and _need_info(_info_of(value).proto).code == "u":
            return value
        if isinstance(value, CArgObject) and value._obj is not None and \
                _info_of(value._obj).code == "u":
            return value  # byref(c_wchar(...))
    elif code == "P":
        if value is None:
            return None  # ConvParam makes it NULL
        if isinstance(value, int):
            return CArgObject("P", value, None)
        if isinstance(value, bytes):
            return CArgObject("z", value, value)
        if isinstance(value, str):
            return CArgObject("Z", value, value)
        if isinstance(value, CArgObject) and value._code == "P":
            return value
        if isinstance(value, _CData):
            vinfo = _info_of(value)
            if vinfo.kind in ("array", "pointer", "func") or \
                    (vinfo.kind == "simple" and vinfo.code in "zZP"):
                return value
    elif code == "O":
        return CArgObject("O", value, value)
    else:
        try:
            raw = _param_value(code, value)
        except (TypeError, ValueError, OverflowError) as exc:
            as_param = getattr(value, "_as_parameter_", _MISSING)
            if as_param is not _MISSING:
                return cls.from_param(as_param)
            raise exc
        return CArgObject(code, raw, value)
    as_param = getattr(value, "_as_parameter_", _MISSING)
    if as_param is not _MISSING:
        return cls.from_param(as_param)
    raise TypeError("wrong type")


def _param_value(code, value):
    """What _setfunc would store, checked the same way, without memory:
    a simple type's from_param runs on every call."""
    if code in _INT_CODES:
        return _index(value)
    if code in "fdg":
        if isinstance(value, float):
            return value
        if isinstance(value, int):
            return float(value)
        try:
            return float(value.__float__())
        except AttributeError:
            raise TypeError("must be real number, not %s" % type(value).__name__) from None
    if code == "?":
        return bool(value)
    if code == "c":
        if isinstance(value, (bytes, bytearray)) and len(value) == 1:
            return value[0]
        if isinstance(value, int) and 0 <= value < 256:
            return value
        raise TypeError("one character bytes, bytearray or integer expected")
    if code == "u":
        if not isinstance(value, str):
            raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
        if len(value) != 1:
            raise TypeError("one character unicode string expected")
        return value
    raise TypeError("unsupported type code %r" % code)


class _SimpleCData(_CData, metaclass=PyCSimpleType):
    __slots__ = ()

    def __init__(self, *args, **kw):
        # as CPython's Simple_init: a value given, even None, is set
        if len(args) + len(kw) > 1 or (kw and "value" not in kw):
            raise TypeError("function takes at most 1 argument (%d given)"
                            % (len(args) + len(kw)))
        if args:
            self.value = args[0]
        elif kw:
            self.value = kw["value"]

    @property
    def value(self):
        if _shadows:
            _sync_all()
        return _value_get(_info_of(self), _ADDR(self))

    @value.setter
    def value(self, value):
        keep, hidden = _value_set(_info_of(self), _ADDR(self), value)
        _keep_ref(self, 0, keep, hidden)
        if _shadows:
            _sync_all()

    @value.deleter
    def value(self):
        raise TypeError("can't delete attribute")

    def __repr__(self):
        if type(self).__bases__[0] is not _SimpleCData:
            return "<%s object at %#x>" % (type(self).__name__, id(self))
        return "%s(%r)" % (type(self).__name__, self.value)

    def __bool__(self):
        return _read(_ADDR(self), _sizeof(self)) != bytes(_sizeof(self))

    def __ctypes_from_outparam__(self):
        if _simple_instance(type(self)):
            return self
        return self.value


_SIMPLE_VALUE = _SimpleCData.__dict__["value"]


class _SimpleValue(_FieldBase):
    """`value` of a simple type: the Rust base for plain numbers, else the
    generic property above."""

    __slots__ = ()

    def _get(self, obj):
        return _SIMPLE_VALUE.fget(obj)

    def _set(self, obj, value):
        _SIMPLE_VALUE.fset(obj, value)


# ------------------------------------------------------ structs and unions

class CField(_FieldBase):
    """A field descriptor, as CPython's CField. The Rust base reads and
    writes plain number fields itself (`_set_fast`); `_get` and `_set`
    are everything else."""

    __slots__ = ("_offset", "_size", "_type", "_index", "_bits", "_name", "_anonymous")

    def __init__(self, name, tp, offset, size, index, bits=None):
        self._name = name
        self._type = tp
        self._offset = offset
        self._size = size  # for bitfields: (bit size << 16) | bit offset
        self._index = index
        self._bits = bits  # (bit offset, bit size) or None
        self._anonymous = False  # named in its class's _anonymous_
        if bits is None:
            self._set_fast(offset, _number_code(tp))

    def _get(self, obj):
        if _shadows:
            _sync_all()
        addr = _ADDR(obj) + self.offset
        if self._bits is not None:
            return _bitfield_get(self._type, addr, self._bits)
        info = _need_info(self._type)
        if info.kind == "array" and _char_array_code(info):
            return _char_array_value(info, addr)
        return _cdata_get(self._type, addr, obj, self._index)

    def _set(self, obj, value):
        addr = _ADDR(obj) + self.offset
        if _shadows:
            _sync_all()
        if self._bits is not None:
            _bitfield_set(self._type, addr, self._bits, value)
        else:
            info = _need_info(self._type)
            if info.kind == "array" and _char_array_code(info):
                # CPython's char-array fields set any value through s_set /
                # U_set (bytes: up to the first NUL; else TypeError)
                _char_array_field_set(info, addr, value)
            else:
                _cdata_set(obj, self._type, addr, value, self._index)
        if _shadows:
            _sync_all()

    @property
    def offset(self):
        return self._offset

    @property
    def size(self):
        return self._size

    @property
    def bit_offset(self):
        return self._bits[0] if self._bits is not None else 0

    @property
    def bit_size(self):
        return self._bits[1] if self._bits is not None else self.size * 8

    @property
    def is_bitfield(self):
        return self._bits is not None

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    def __repr__(self):
        if self._bits is not None:
            return "<Field type=%s, ofs=%d:%d, bits=%d>" % (
                self._type.__name__, self.offset, self._bits[0], self._bits[1])
        return "<Field type=%s, ofs=%d, size=%d>" % (self._type.__name__, self.offset, self.size)


def _number_code(tp):
    """The code of a fundamental number type the Rust fast paths may read
    and write directly (no subclass, no byte swapping), else None."""
    info = _info_of(tp)
    if (type(tp) is PyCSimpleType and info is not None and not info.swapped
            and info.code in "bBhHiIlLqQnNfd?" and not _simple_instance(tp)):
        return info.code
    return None


def _bitfield_order(info):
    """The byte order of a bit field's storage unit: a byte-swapped type's
    unit is the other one (CPython's *_set_sw / *_get_sw)."""
    return _SWAPPED_ORDER if info.swapped else _native_byteorder


def _bitfield_get(tp, addr, bits):
    info = _need_info(tp)
    raw = int.from_bytes(_read(addr, info.size), _bitfield_order(info))
    start, width = bits
    value = (raw >> start) & ((1 << width) - 1)
    if info.code in "bhilqn" and value >> (width - 1):
        value -= 1 << width
    return value


def _bitfield_set(tp, addr, bits, value):
    info = _need_info(tp)
    value = _index(value)
    raw = int.from_bytes(_read(addr, info.size), _bitfield_order(info))
    start, width = bits
    mask = ((1 << width) - 1) << start
    raw = (raw & ~mask) | ((value << start) & mask)
    _write(addr, raw.to_bytes(info.size, _bitfield_order(info)))


def _struct_layout_desc(info):
    if info.layout is None:
        raise TypeError("a structure with bit fields or _pack_ cannot be passed by value yet")
    return info.layout


def _layout_fields(cls, fields, is_union):
    """Lay out `_fields_` (after the base class's fields) and install the
    CField descriptors. Offsets come from the host unless bit fields or
    `_pack_` ask for CPython's own algorithm."""
    base_info = None
    for base in cls.__bases__:
        binfo = _info_of(base)
        if binfo is not None and binfo.kind in ("struct", "union") and binfo.fields is not None:
            base_info = binfo
            binfo.final = True
            break
    try:
        fields = list(fields)
    except TypeError:
        raise TypeError("_fields_ must be a sequence of pairs") from None
    packed = hasattr(cls, "_pack_")
    pack = getattr(cls, "_pack_", 0)
    # 3.11 reads _pack_ as a C int: anything else is a ValueError
    if packed and (not isinstance(pack, int) or not 0 <= pack <= 0x7FFFFFFF):
        raise ValueError("_pack_ must be a non-negative integer")
    # GCC allocates bit fields from the most significant end on a
    # big-endian target; those of a byte-swapped structure count from the
    # other end
    big_endian = hasattr(cls, "_swappedbytes_") != (_native_byteorder == "big")
    entries = []
    for i, f in enumerate(fields):
        if not isinstance(f, tuple) or len(f) not in (2, 3):
            raise TypeError("'_fields_' must be a sequence of (name, C type) pairs")
        name, tp = f[0], f[1]
        if not isinstance(name, str):
            raise TypeError("'_fields_' must be a sequence of (name, C type) pairs")
        if tp is cls:
            raise AttributeError("Structure or union cannot contain itself")
        finfo = _info_of(tp)
        if finfo is None:
            raise TypeError("second item in _fields_ tuple (index %d) must be a C type" % i)
        finfo.final = True
        bits = None
        if len(f) == 3:
            bits = f[2]
            if finfo.kind != "simple" or finfo.code not in "bBhHiIlLqQ?nN":
                raise TypeError("bit fields not allowed for type %s" % tp.__name__)
            if not isinstance(bits, int) or not 1 <= bits <= finfo.size * 8:
                raise ValueError("number of bits invalid for bit field")
        entries.append((name, tp, finfo, bits))
    start = base_info.size if base_info else 0
    index0 = len(base_info.fields) if base_info else 0
    # the host lays out what libffi can describe; the rest (bit fields,
    # _pack_, empty structs, zero-length arrays) is CPython's algorithm
    need_python = pack or not entries and not (base_info and base_info.fields) or \
        any(e[3] is not None or not _host_describable(e[2]) for e in entries) or \
        (base_info is not None and base_info.layout is None and base_info.fields)
    if not need_python:
        descs = ([base_info.layout] if base_info and base_info.fields else []) + \
            [_desc(e[2]) for e in entries]
    if not need_python:
        layout = Layout(descs, is_union)
        offsets = layout.offsets[1:] if base_info and base_info.fields else layout.offsets
        size, align = layout.size, layout.align
        placed = [(e, off, None) for e, off in zip(entries, offsets)]
    else:
        layout = None
        placed, size, align = _python_layout(entries, is_union, pack, start,
                                             base_info.align if base_info else 1, big_endian)
    forced = cls.__dict__.get("_align_", 0)
    if not isinstance(forced, int) or forced < 0:
        raise ValueError("_align_ must be a non-negative integer")
    if forced > align:
        # 3.13's _align_: the host's layout no longer describes the type
        align = forced
        size = (size + align - 1) // align * align
        layout = None
    info = _Info("union" if is_union else "struct", size, align)
    info.owner = cls
    info.layout = layout
    info.packed = packed
    info.fields = (list(base_info.fields) if base_info else []) + [e[0] for e in entries]
    for i, ((name, tp, finfo, nbits), off, bitinfo) in enumerate(placed):
        fsize = finfo.size if bitinfo is None else (bitinfo[1] << 16) | bitinfo[0]
        type.__setattr__(cls, name, CField(name, tp, off, fsize, index0 + i, bitinfo))
    cls._stginfo_ = info
    for name in cls.__dict__.get("_anonymous_", ()):
        _install_anonymous(cls, name)


def _host_describable(info):
    """Whether a field type has a host (libffi) description."""
    if info.kind in ("struct", "union"):
        return info.layout is not None
    if info.kind == "array":
        return info.length > 0 and _host_describable(_need_info(info.proto))
    return True


def _gcc_layout(entries, start, base_align, big_endian):
    """The layout of a structure with bit fields as GCC makes it (what
    native code sees; CPython 3.11's own algorithm misplaces a bit field
    following a wider one, which 3.11 gets away with only through C's
    undefined shifts, see test_bitfields' test_shorts): a bit field goes at
    the next bit unless it would cross a boundary of its type's aligned
    storage unit. A field's offset is its storage unit's."""
    bit, align = start * 8, base_align
    placed = []
    for e in entries:
        name, tp, finfo, bits = e
        unit_align = finfo.align * 8
        if bits is None:
            bit = -(-bit // unit_align) * unit_align
            placed.append((e, bit // 8, None))
            bit += finfo.size * 8
        else:
            unit = finfo.size * 8
            base = bit // unit_align * unit_align
            if bit + bits > base + unit:
                bit = base = -(-bit // unit_align) * unit_align
            low = bit - base
            if big_endian:
                low = unit - low - bits
            placed.append((e, base // 8, (low, bits)))
            bit += bits
        align = max(align, finfo.align)
    size = -(-bit // 8)
    size = (size + align - 1) // align * align
    return placed, size, align


def _python_layout(entries, is_union, pack, start, base_align, big_endian):
    """CPython 3.11's layout for `_pack_` and unions (for bit fields: a
    field continues the previous run of the same type); GCC's for
    structures with bit fields and no `_pack_`."""
    if not pack and not is_union:
        return _gcc_layout(entries, start, base_align, big_endian)
    offset, align, size = start, base_align, start
    placed = []
    run = None  # (type size, run start offset, bits used)

    def low(unit, used, bits):
        return unit * 8 - used - bits if big_endian else used

    for e in entries:
        name, tp, finfo, bits = e
        falign = min(pack, finfo.align) if pack else finfo.align
        if is_union:
            placed.append((e, 0, (low(finfo.size, 0, bits), bits) if bits else None))
            size = max(size, finfo.size)
            align = max(align, falign)
            continue
        if bits is not None:
            if run and run[0] == finfo.size and run[2] + bits <= finfo.size * 8:
                placed.append((e, run[1], (low(run[0], run[2], bits), bits)))
                run = (run[0], run[1], run[2] + bits)
                continue
            if run and finfo.size > run[0] and run[2] + bits <= finfo.size * 8:
                # CPython's EXPAND_BITFIELD: the open run grows to this type
                placed.append((e, run[1], (low(finfo.size, run[2], bits), bits)))
                run = (finfo.size, run[1], run[2] + bits)
                offset = run[1] + finfo.size
                align = max(align, falign)
                size = offset
                continue
            offset = (offset + falign - 1) // falign * falign
            placed.append((e, offset, (low(finfo.size, 0, bits), bits)))
            run = (finfo.size, offset, bits)
            offset += finfo.size
        else:
            run = None
            offset = (offset + falign - 1) // falign * falign
            placed.append((e, offset, None))
            offset += finfo.size
        align = max(align, falign)
        size = offset
    size = (size + align - 1) // align * align
    return placed, size, align


def _struct_format(info):
    """CPython's T{...}: each field's format and name, padding as 'Nx'."""
    parts = ["T{"]
    end = 0
    for name in info.fields:
        field = None
        for klass in info.owner.__mro__:
            field = klass.__dict__.get(name)
            if isinstance(field, CField):
                break
        if not isinstance(field, CField) or field._bits is not None:
            return "B"
        if field.offset > end:
            parts.append("%dx" % (field.offset - end))
        finfo = _need_info(field._type)
        shape = _pep3118_shape(finfo)
        if shape:
            parts.append("(%s)" % ",".join(map(str, shape)))
        parts.append("%s:%s:" % (_pep3118_format(finfo), name))
        end = field.offset + finfo.size
    if info.size > end:
        parts.append("%dx" % (info.size - end))
    parts.append("}")
    return "".join(parts)


def _install_anonymous(cls, name):
    field = cls.__dict__.get(name)
    if not isinstance(field, CField):
        raise AttributeError("'%s' is specified in _anonymous_ but not in _fields_" % name)
    field._anonymous = True
    _make_fields(cls, field._type, field._index, field.offset)


def _make_fields(cls, sub, index, offset):
    """CPython's MakeFields: the fields of an anonymous member's type as
    fields of `cls`; an anonymous member of that type is itself expanded."""
    for fname in _need_info(sub).fields or ():
        inner = getattr(sub, fname)
        if inner._anonymous:
            _make_fields(cls, inner._type, index + inner._index, offset + inner.offset)
            continue
        type.__setattr__(cls, fname, CField(fname, inner._type, offset + inner.offset,
                                            inner.size, index + inner._index, inner._bits))


class _StructMeta(_CDataType):
    _is_union = False

    def __new__(meta, name, bases, ns, **kw):
        cls = super().__new__(meta, name, bases, ns, **kw)
        if _bootstrapping or "_abstract_" in ns:
            return cls  # an abstract class has no type info: no instances
        # every class owns its info, a copy of its base's (CPython's
        # StgDict clone), and subclassing makes the base's _fields_ final
        base = _info_of(cls)
        if base is not None and base.kind in ("struct", "union") and base.fields is not None:
            base.final = True
            info = _Info(base.kind, base.size, base.align)
            for slot in _Info.__slots__:
                setattr(info, slot, getattr(base, slot))
            info.final = False
        else:
            info = _Info("union" if meta._is_union else "struct", 0, 1)
            info.fields = []
        cls._stginfo_ = info
        if "_fields_" in ns:
            # through setattr, as CPython: _endian's _swapped_meta rewrites
            # the field types there
            setattr(cls, "_fields_", ns["_fields_"])
        return cls

    def __setattr__(cls, name, value):
        if name == "_fields_":
            own = cls.__dict__.get("_stginfo_")
            if own is None:
                # set before the metaclass made the class's info (from
                # __init_subclass__, gh-99275), or on an abstract class
                raise TypeError("ctypes state is not initialized")
            if own.final:
                raise AttributeError("_fields_ is final")
            type.__setattr__(cls, name, value)
            _layout_fields(cls, value, type(cls)._is_union)
            cls._stginfo_.final = True
            return
        type.__setattr__(cls, name, value)


class PyCStructType(_StructMeta):
    _is_union = False


class UnionType(_StructMeta):
    _is_union = True


def _struct_init(self, *args, **kw):
    fields = _need_info(self).fields
    if len(args) > len(fields):
        raise TypeError("too many initializers")
    for name, value in zip(fields, args):
        setattr(self, name, value)
    for name, value in kw.items():
        if name in fields[:len(args)]:
            raise TypeError("duplicate values for field %r" % name)
        setattr(self, name, value)


class Structure(_CData, metaclass=PyCStructType):
    __slots__ = ()
    __init__ = _struct_init


class Union(_CData, metaclass=UnionType):
    __slots__ = ()
    __init__ = _struct_init
