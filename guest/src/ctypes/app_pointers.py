
# ---------------------------------------------------------------- pointers

class PyCPointerType(_CDataType):
    def __new__(meta, name, bases, ns, **kw):
        cls = super().__new__(meta, name, bases, ns, **kw)
        if _bootstrapping:
            return cls
        info = _Info("pointer", _POINTER_SIZE, _prim_sizes["P"][1])
        info.code = "P"
        # the class's own _type_ only: a subclass of a pointer type without
        # one cannot make instances (CPython's PyCPointerType_new)
        proto = ns.get("_type_")
        if proto is not None:
            if _info_of(proto) is None:
                raise TypeError("_type_ must have storage info")
            info.proto = proto
            info.format = _pointer_format(proto)
        cls._stginfo_ = info
        return cls

    def set_type(cls, tp):
        if _info_of(tp) is None:
            raise TypeError("_type_ must have storage info")
        _need_info(cls).proto = tp
        type.__setattr__(cls, "_type_", tp)
        _forget_elem(cls)

    def from_param(cls, value):
        if value is None:
            return None  # ConvParam makes it NULL
        proto = _need_info(cls).proto
        if proto is not None and isinstance(value, proto):
            return byref(value)
        if isinstance(value, (_Pointer, Array)) and proto is not None:
            vproto = _info_of(value).proto
            if isinstance(vproto, type) and issubclass(vproto, proto):
                return value
        return _cdatatype_from_param(cls, value)


class _Pointer(_CData, metaclass=PyCPointerType):
    __slots__ = ()

    def __new__(cls, *args, **kw):
        info = _info_of(cls)
        if info is None or info.proto is None:
            raise TypeError("Cannot create instance: has no _type_")
        return _alloc_instance(cls)

    def __init__(self, value=None):
        if value is not None:
            self.contents = value

    def _proto(self):
        proto = _need_info(self).proto
        if proto is None:
            raise TypeError("Cannot create instance: has no _type_")
        return proto

    @property
    def contents(self):
        proto = self._proto()
        addr = _load(_ADDR(self), "P")
        if not addr:
            raise ValueError("NULL pointer access")
        return _new_instance(proto, addr, None, self, 0)

    @contents.setter
    def contents(self, value):
        proto = self._proto()
        if not isinstance(value, proto):
            raise TypeError("expected %s instead of %s" % (proto.__name__, type(value).__name__))
        _store(_ADDR(self), "P", _ADDR(value))
        _keep_ref(self, 1, value)
        _keep_ref(self, 0, _container_objects(value))

    # items that are plain numbers in Rust (fast.rs), the rest here
    __getitem__ = _CDataBase._item_get
    __setitem__ = _CDataBase._item_set

    def _getitem(self, index):
        proto = self._proto()
        size = _need_info(proto).size
        if isinstance(index, slice):
            # Pointer_subscript: no length, so the bounds must be given
            step = 1 if index.step is None else _index(index.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if index.start is None and step < 0:
                raise ValueError("slice start is required for step < 0")
            if index.stop is None:
                raise ValueError("slice stop is required")
            start = 0 if index.start is None else _index(index.start)
            items = [self[i] for i in range(start, _index(index.stop), step)]
            code = _need_info(proto).code if _need_info(proto).kind == "simple" else None
            if code == "c":
                return b"".join(items)
            if code == "u":
                return "".join(items)
            return items
        addr = _load(_ADDR(self), "P")
        if not addr:
            raise ValueError("NULL pointer access")
        index = _index(index)
        return _cdata_get(proto, addr + index * size, self, index)

    def _setitem(self, index, value):
        proto = self._proto()
        addr = _load(_ADDR(self), "P")
        if not addr:
            raise ValueError("NULL pointer access")
        index = _index(index)
        size = _need_info(proto).size
        _cdata_set(self, proto, addr + index * size, value, index)

    def __bool__(self):
        return _load(_ADDR(self), "P") != 0

    def __delitem__(self, index):
        raise TypeError("Pointer does not support item deletion")


def POINTER(cls):
    try:
        return _pointer_type_cache[cls]
    except KeyError:
        pass
    except TypeError:
        raise TypeError("must be a ctypes type") from None
    if isinstance(cls, str):
        result = PyCPointerType("LP_%s" % cls, (_Pointer,), {})
        _pointer_type_cache[id(result)] = result
        return result
    if not isinstance(cls, type):
        raise TypeError("must be a ctypes type")
    result = PyCPointerType("LP_%s" % cls.__name__, (_Pointer,),
                            {"_type_": cls, "__module__": _caller_module()})
    _pointer_type_cache[cls] = result
    return result


def pointer(obj):
    return POINTER(type(obj))(obj)
