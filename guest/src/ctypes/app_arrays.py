
# ------------------------------------------------------------------ arrays

def _char_array_code(info):
    pinfo = _info(info.proto) if isinstance(info.proto, type) else None
    if pinfo is not None and pinfo.kind == "simple" and pinfo.code in "cu" and not pinfo.swapped:
        return pinfo.code
    return None


def _char_array_value(info, addr):
    if _char_array_code(info) == "c":
        data = _read(addr, info.size)
        n = data.find(b"\0")
        return data if n < 0 else data[:n]
    data = _read(addr, info.size).decode(_WIDE, "surrogatepass")
    n = data.find("\0")
    return data if n < 0 else data[:n]


def _char_array_set_value(info, addr, value):
    if _char_array_code(info) == "c":
        if not isinstance(value, bytes):
            raise TypeError("bytes expected instead of %s instance" % type(value).__name__)
        if len(value) > info.length:
            raise ValueError("byte string too long")
        _write(addr, value + (b"\0" if len(value) < info.length else b""))
    else:
        if not isinstance(value, str):
            raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
        data = value.encode(_WIDE, "surrogatepass")
        if len(data) // _WCHAR_SIZE > info.length:
            raise ValueError("string too long")
        if len(data) // _WCHAR_SIZE < info.length:
            data += bytes(_WCHAR_SIZE)
        _write(addr, data)


def _char_array_field_set(info, addr, value):
    """A char-array field's setter: CPython's s_set (c_char) and U_set
    (c_wchar), which take only bytes / str and no ctypes array."""
    if _char_array_code(info) == "c":
        if not isinstance(value, bytes):
            raise TypeError("expected bytes, %s found" % type(value).__name__)
        n = value.find(b"\0")  # bpo-39593: up to the first NUL, as strlen
        data = value if n < 0 else value[:n]
        if len(data) > info.length:
            raise ValueError("bytes too long (%d, maximum length %d)" % (len(data), info.length))
        _write(addr, data + (b"\0" if len(data) < info.length else b""))
        return
    if not isinstance(value, str):
        raise TypeError("unicode string expected instead of %s instance" % type(value).__name__)
    _char_array_set_value(info, addr, value)


class PyCArrayType(_CDataType):
    def __new__(meta, name, bases, ns, **kw):
        cls = super().__new__(meta, name, bases, ns, **kw)
        if _bootstrapping:
            return cls
        length = getattr(cls, "_length_", None)
        if length is None:
            raise AttributeError("class must define a '_length_' attribute")
        if not isinstance(length, int):
            raise TypeError("The '_length_' attribute must be an integer")
        if length < 0:
            raise ValueError("The '_length_' attribute must not be negative")
        if length > _sys.maxsize:
            # the guest's Py_ssize_t (wasm32): len() could not say it
            raise OverflowError("The '_length_' attribute is too large")
        proto = getattr(cls, "_type_", None)
        if proto is None:
            raise AttributeError("class must define a '_type_' attribute")
        pinfo = _info_of(proto)
        if pinfo is None:
            raise TypeError("_type_ must have storage info")
        pinfo.final = True
        if pinfo.size and length > _sys.maxsize // pinfo.size:
            raise OverflowError("array too large")
        info = _Info("array", pinfo.size * length, pinfo.align)
        info.length = length
        info.proto = proto
        cls._stginfo_ = info
        return cls


def _caller_module():
    """Where CPython's C-made types say they come from: the module whose
    code made them."""
    frame = _sys._getframe(1)
    while frame is not None and frame.f_globals is globals():
        frame = frame.f_back
    return frame.f_globals.get("__name__", "_ctypes") if frame is not None else "_ctypes"


def _array_type(itemtype, length):
    if not isinstance(length, int):
        return NotImplemented
    if length < 0:
        raise ValueError("Array length must be >= 0, not %d" % length)
    key = (itemtype, length)
    cached = _array_type_cache.get(key)
    if cached is not None:
        return cached
    result = PyCArrayType("%s_Array_%d" % (itemtype.__name__, length), (Array,),
                          {"_type_": itemtype, "_length_": length,
                           "__module__": _caller_module()})
    _array_type_cache[key] = result
    return result


class Array(_CData, metaclass=PyCArrayType):
    __slots__ = ()

    def __init__(self, *args):
        for i, value in enumerate(args):
            self[i] = value

    def __len__(self):
        return _info_of(self).length

    def _item_index(self, index):
        length = _info_of(self).length
        if index < 0:
            index += length
        if not 0 <= index < length:
            raise IndexError("invalid index")
        return index

    # items that are plain numbers in Rust (fast.rs), the rest here
    __getitem__ = _CDataBase._item_get
    __setitem__ = _CDataBase._item_set

    def _getitem(self, index):
        info = _info_of(self)
        if isinstance(index, slice):
            items = [self[i] for i in range(*index.indices(info.length))]
            code = _char_array_code(info)
            if code == "c":
                return b"".join(items)
            if code == "u":
                return "".join(items)
            return items
        index = self._item_index(_index(index))
        size = _need_info(info.proto).size
        if _shadows:
            _sync_all()
        return _cdata_get(info.proto, _ADDR(self) + index * size, self, index)

    def _setitem(self, index, value):
        info = _info_of(self)
        if isinstance(index, slice):
            indices = range(*index.indices(info.length))
            if len(value) != len(indices):
                raise ValueError("Can only assign sequence of same size")
            for i, v in zip(indices, value):
                self[i] = v
            return
        index = self._item_index(_index(index))
        size = _need_info(info.proto).size
        _cdata_set(self, info.proto, _ADDR(self) + index * size, value, index)
        if _shadows:
            _sync_all()

    def __delitem__(self, index):
        raise TypeError("Array does not support item deletion")

    @property
    def value(self):
        info = _info_of(self)
        if not _char_array_code(info):
            raise AttributeError("'%s' object has no attribute 'value'" % type(self).__name__)
        return _char_array_value(info, _ADDR(self))

    @value.setter
    def value(self, value):
        info = _info_of(self)
        if not _char_array_code(info):
            raise AttributeError("'%s' object has no attribute 'value'" % type(self).__name__)
        _char_array_set_value(info, _ADDR(self), value)

    @property
    def raw(self):
        info = _info_of(self)
        if _char_array_code(info) != "c":
            raise AttributeError("'%s' object has no attribute 'raw'" % type(self).__name__)
        return _read(_ADDR(self), info.size)

    @value.deleter
    def value(self):
        raise TypeError("can't delete attribute")

    @raw.setter
    def raw(self, value):
        info = _info_of(self)
        if _char_array_code(info) != "c":
            raise AttributeError("'%s' object has no attribute 'raw'" % type(self).__name__)
        data = bytes(memoryview(value))
        if len(data) > info.size:
            raise ValueError("byte string too long")
        _write(_ADDR(self), data)

