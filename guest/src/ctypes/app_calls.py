
# ------------------------------------------------------- function pointers

_MAX_ARGCOUNT = 1024  # CPython's CTYPES_MAX_ARGCOUNT


def _check_argtypes(argtypes):
    if argtypes is None:
        return None
    argtypes = tuple(argtypes)
    if len(argtypes) > _MAX_ARGCOUNT:
        raise ArgumentError("_argtypes_ has too many arguments (%d), maximum is %d"
                            % (len(argtypes), _MAX_ARGCOUNT))
    for i, t in enumerate(argtypes):
        if getattr(t, "from_param", None) is None:
            raise TypeError("item %d in _argtypes_ has no from_param method" % (i + 1))
    return argtypes


def _check_restype(restype):
    if restype is None or _info_of(restype) is not None or callable(restype):
        return restype
    raise TypeError("restype must be a type, a callable, or None")


class PyCFuncPtrType(_CDataType):
    def __new__(meta, name, bases, ns, **kw):
        cls = super().__new__(meta, name, bases, ns, **kw)
        if _bootstrapping:
            return cls
        info = _Info("func", _POINTER_SIZE, _prim_sizes["P"][1])
        info.code = "P"
        flags = getattr(cls, "_flags_", None)
        if not isinstance(flags, int):
            raise TypeError("class must define _flags_ which must be an integer")
        info.flags = flags
        info.argtypes = _check_argtypes(getattr(cls, "_argtypes_", None))
        info.restype = _check_restype(getattr(cls, "_restype_", None))
        cls._stginfo_ = info
        if cls.__call__ is CFuncPtr.__call__:
            _fast_install(cls)
        return cls


class _Direct:
    """What `_memmove_addr` & co. are here: CPython's are the addresses of
    its C helpers; ours are Python functions over the Rust primitives,
    called directly (with the argtypes' conversions) by the CFuncPtr made
    from them."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def _conv_param(obj, index):
    """CPython's ConvParam: (crossing type, value, what to keep alive)."""
    if isinstance(obj, CArgObject):
        return obj._code, obj._raw  # "O": the object itself, see below
    if isinstance(obj, _CData):
        info = _info_of(obj)
        kind = info.kind
        if kind == "simple":
            if info.swapped:
                return info.code, _get_swapped(info.code, _ADDR(obj))
            if info.code in "zZPO":
                return "P", _load(_ADDR(obj), "P")
            return info.code, _load(_ADDR(obj), info.code)
        if kind in ("struct", "union"):
            return _desc(info), _read(_ADDR(obj), info.size)
        if kind == "array":
            return "P", _ADDR(obj)
        return "P", _load(_ADDR(obj), "P")
    if isinstance(obj, int):
        if not -(1 << 63) <= obj < (1 << 64):
            raise OverflowError("int too long to convert")
        return "i", obj
    if isinstance(obj, float):
        return "d", obj  # as CPython 3.14 (3.11 refuses floats here)
    if isinstance(obj, bytes):
        return "z", obj
    if isinstance(obj, str):
        return "Z", obj
    if obj is None:
        return "P", 0
    as_param = getattr(obj, "_as_parameter_", _MISSING)
    if as_param is not _MISSING:
        return _conv_param(as_param, index)
    raise TypeError("Don't know how to convert parameter %d" % index)


def _convert_args(argtypes, args, flags):
    if argtypes is not None:
        n = len(argtypes)
        if flags & FUNCFLAG_CDECL:
            if len(args) < n:
                raise TypeError("this function takes at least %d argument%s (%d given)"
                                % (n, "" if n == 1 else "s", len(args)))
        elif len(args) != n:
            raise TypeError("this function takes %d argument%s (%d given)"
                            % (n, "" if n == 1 else "s", len(args)))
    else:
        n = 0
    descs = []
    raws = []
    keep = []
    plan = _plan(argtypes) if n else ()
    for i, arg in enumerate(args):
        try:
            if i < n:
                code = plan[i]
                if code is not None and type(arg) in (int, float):
                    # a fundamental simple type with its own from_param: the
                    # CArgObject it would make is (code, checked value)
                    descs.append(code)
                    raws.append(_param_value(code, arg))
                    continue
                arg = argtypes[i].from_param(arg)
                keep.append(arg)
            desc, raw = _conv_param(arg, i + 1)
        except ArgumentError:
            raise
        except Exception as exc:
            raise ArgumentError("argument %d: %s: %s" % (i + 1, type(exc).__name__, exc)) from None
        if i >= n and argtypes is not None:
            # C's default argument promotions for the variadic part
            if isinstance(desc, str) and desc in _PROMOTED:
                desc = _PROMOTED[desc]
                if isinstance(raw, bytes):
                    raw = raw[0]
        descs.append(desc)
        raws.append(raw)
    return descs, raws, keep


_plans = {}


def _plan(argtypes):
    """Per argtypes tuple: the type code of each argument whose conversion
    can skip from_param (fundamental numeric simple types), else None."""
    plan = _plans.get(argtypes)
    if plan is None:
        plan = []
        for t in argtypes:
            info = _info_of(t)
            fp = getattr(t, "from_param", None)
            fast = (type(t) is PyCSimpleType and info is not None and not info.swapped
                    and info.code in "bBhHiIlLqQnNfd?"
                    and getattr(fp, "__func__", None) is PyCSimpleType.from_param)
            plan.append(info.code if fast else None)
        if len(_plans) > 1024:
            _plans.clear()
        plan = _plans[argtypes] = tuple(plan)
    return plan


_checkers = {}


def _checker_of(restype):
    """restype._check_retval_, looked up once per type (a missing
    attribute costs an exception each time). Keyed by id, holding the
    type weakly: a call must not keep its result type alive
    (test_refcounts counts the references)."""
    entry = _checkers.get(id(restype))
    if entry is not None and entry[0]() is restype:
        return entry[1]
    checker = getattr(restype, "_check_retval_", None) if isinstance(restype, type) else None
    try:
        ref = _weakref_ref(restype, lambda _, key=id(restype): _checkers.pop(key, None))
    except TypeError:
        return checker
    _checkers[id(restype)] = (ref, checker)
    return checker


def _native_pyobjects(descs, raws, keep):
    """py_object arguments cross as their id, registered for the call."""
    for i, desc in enumerate(descs):
        if desc == "O":
            keep.append(_py_holder(raws[i]))
            descs[i] = "P"
            raws[i] = id(raws[i])


_PROMOTED = {"f": "d", "b": "i", "B": "i", "h": "i", "H": "i", "?": "i", "c": "i"}


def _ret_desc(restype):
    if restype is None:
        return None
    info = _info_of(restype)
    if info is None:
        return "i"  # a plain callable gets C's int
    if info.kind == "simple":
        return "P" if info.code == "O" else info.desc
    if info.kind == "array":
        raise TypeError("array types are not allowed as restype")
    return _desc(info)


_signatures = {}


def _signature(descs, ret, fixed):
    key = (tuple(descs), ret, fixed)
    sig = _signatures.get(key)
    if sig is None:
        sig = _signatures[key] = Signature(list(descs), ret, fixed)
    return sig


def _get_result(restype, raw, checker):
    """CPython's GetResult."""
    if restype is None:
        return None
    info = _info_of(restype)
    if info is None:
        return restype(raw)
    if info.kind == "simple" and not _simple_instance(restype):
        result = _raw_to_value(info.code, raw)
    else:
        result = _instance_holding(restype, _raw_bytes(info, raw)[:info.size])
    if checker is not None:
        return checker(result)
    return result


_NO_ERRCHECK = object()


class CFuncPtr(_CData, metaclass=PyCFuncPtrType):
    __slots__ = ()

    def __new__(cls, *args):
        info = _need_info(cls)
        self = _alloc_instance(cls)
        d = self.__dict__
        d["_fp_sym"] = None       # (library handle, symbol name)
        d["_fp_direct"] = None    # a _Direct's function
        d["_fp_thunk"] = None     # the Callback a Python callable became
        d["_fp_bound"] = {}       # Signature -> Function
        d["_fp_argtypes"] = _NO_ERRCHECK
        d["_fp_restype"] = _NO_ERRCHECK
        d["_fp_errcheck"] = None
        if not args:
            return self
        first = args[0]
        if isinstance(first, tuple) and len(args) <= 2:
            if len(args) == 2 and args[1] is not None:
                d["_fp_paramflags"] = _check_paramflags(info, args[1])
            name, dll = first[0], first[1]
            if isinstance(name, int):
                raise NotImplementedError("functions by ordinal")
            if getattr(dll, "_name", 0) is None and \
                    getattr(dll, "_func_flags_", 0) & FUNCFLAG_PYTHONAPI:
                d["_fp_direct"] = _c_api_function(name)  # ctypes.pythonapi
                return self
            handle = dll._handle if not isinstance(dll, int) else dll
            handle = _real_handle(handle)
            _store(_ADDR(self), "P", dlsym(handle, name))
            d["_fp_sym"] = (handle, name)
            return self
        if len(args) != 1:
            raise TypeError("argument must be callable or integer function address")
        if isinstance(first, int):
            _store(_ADDR(self), "P", first)
            return self
        if isinstance(first, _Direct):
            d["_fp_direct"] = first.fn
            return self
        if not callable(first):
            raise TypeError("argument must be callable or integer function address")
        argtypes = info.argtypes or ()
        restype = info.restype
        rinfo = _info_of(restype) if restype is not None else None
        if restype is not None and (rinfo is None or rinfo.kind != "simple"):
            raise TypeError("invalid result type for callback function")
        sig = _signature([_desc(_need_info(t)) for t in argtypes], _ret_desc(restype), None)
        thunk = Callback(sig, *_make_thunk(argtypes, restype, first), first)
        d["_fp_thunk"] = thunk
        d["_fp_callable"] = first
        _store(_ADDR(self), "P", thunk.address)
        _keep_ref(self, 0, thunk)
        return self

    def __init__(self, *args):
        pass

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))

    def __bool__(self):
        return _load(_ADDR(self), "P") != 0

    @property
    def argtypes(self):
        a = self.__dict__.get("_fp_argtypes", _NO_ERRCHECK)
        return _info_of(self).argtypes if a is _NO_ERRCHECK else a

    @argtypes.setter
    def argtypes(self, value):
        _set_plan(self, None)
        self.__dict__["_fp_argtypes"] = _check_argtypes(value)

    @argtypes.deleter
    def argtypes(self):
        _set_plan(self, None)
        self.__dict__["_fp_argtypes"] = None

    @property
    def restype(self):
        r = self.__dict__.get("_fp_restype", _NO_ERRCHECK)
        return _info_of(self).restype if r is _NO_ERRCHECK else r

    @restype.setter
    def restype(self, value):
        _set_plan(self, None)
        self.__dict__["_fp_restype"] = _check_restype(value)

    @restype.deleter
    def restype(self):
        _set_plan(self, None)
        self.__dict__["_fp_restype"] = _NO_ERRCHECK

    @property
    def errcheck(self):
        return self.__dict__.get("_fp_errcheck", None)

    @errcheck.setter
    def errcheck(self, value):
        _set_plan(self, None)
        if value is not None and not callable(value):
            raise TypeError("the errcheck attribute must be callable")
        self.__dict__["_fp_errcheck"] = value

    @errcheck.deleter
    def errcheck(self):
        _set_plan(self, None)
        self.__dict__["_fp_errcheck"] = None

    def __call__(self, *args, **kw):
        d = self.__dict__
        info = _info_of(self)
        argtypes = d.get("_fp_argtypes", _NO_ERRCHECK)
        if argtypes is _NO_ERRCHECK:
            argtypes = info.argtypes
        restype = d.get("_fp_restype", _NO_ERRCHECK)
        if restype is _NO_ERRCHECK:
            restype = info.restype
        paramflags = d.get("_fp_paramflags")
        outputs = None
        if paramflags is not None:
            args, outputs = _build_callargs(paramflags, argtypes, args, kw)
        elif kw:
            raise TypeError("this function takes no keyword arguments")
        if len(args) > _MAX_ARGCOUNT:
            raise ArgumentError("too many arguments (%d), maximum is %d"
                                % (len(args), _MAX_ARGCOUNT))
        descs, raws, keep = _convert_args(argtypes, args, info.flags)
        if _shadows:
            _sync_all()
        checker = _checker_of(restype)
        direct = d.get("_fp_direct", None)
        if direct is not None:
            result = _call_direct(direct, descs, raws, keep, argtypes, args)
            if _info_of(restype) is not None and _info_of(restype).code == "O":
                pass
            elif restype is not None:
                result = _get_result(restype, result, checker)
        else:
            if "O" in descs:
                _native_pyobjects(descs, raws, keep)
            fixed = len(argtypes) if argtypes is not None and len(args) > len(argtypes) else None
            # bound functions by signature (argument and result codes,
            # fixed): not by restype, which a call must not keep alive
            rdesc = _ret_desc(restype)
            key = (tuple(descs), rdesc, fixed)
            bound = d.get("_fp_bound")
            if bound is None:
                bound = d["_fp_bound"] = {}
            fn = bound.get(key)
            if fn is None:
                sig = _signature(descs, rdesc, fixed)
                fn = bound[key] = self._bind(sig)
            if info.flags & FUNCFLAG_USE_ERRNO:
                raw = fn(*raws)
            else:
                # Only use_errno functions touch ctypes' private errno copy.
                saved = _get_host_errno()
                try:
                    raw = fn(*raws)
                finally:
                    _set_host_errno(saved)
            result = _get_result(restype, raw, checker)
        if _shadows:
            _sync_all()
        errcheck = d.get("_fp_errcheck", None)
        if errcheck is None and direct is None and outputs is None and paramflags is None \
                and not kw:
            _plan_call(self, fn, argtypes, restype, descs, info.flags)
        if errcheck is not None:
            result = errcheck(result, self, args)
            if outputs is None or result is not args:
                return result
        if outputs:
            values = tuple(args[i].__ctypes_from_outparam__() for i in outputs)
            return values[0] if len(values) == 1 else values
        return result

    def _bind(self, sig):
        sym = self.__dict__.get("_fp_sym", None)
        if sym is not None:
            return Function.bind(sym[0], sym[1], sig)
        addr = _load(_ADDR(self), "P")
        if not addr:
            raise ValueError("NULL function pointer")
        return Function.at(addr, sig)


def _plan_call(self, fn, argtypes, restype, descs, flags):
    """After a full call: give the function a plan for the Rust fast path
    (fast.rs) if its arguments and result are plain numbers. `fn` is
    bound to this call's argument codes (`descs`): the plan must be too.
    (Nothing is cached by type here: a call must not keep its argument
    types alive, test_refcounts counts them.)"""
    if _has_plan(self):
        return  # the plan exists; this call's arguments were not its kind
    plan = _call_plan_codes(argtypes, restype, len(descs))
    if plan is not None and all(d == (c or "i") for d, c in zip(descs, plan[0])):
        _set_plan(self, CallPlan(fn, plan[0], plan[1], bool(flags & FUNCFLAG_USE_ERRNO)))


def _call_plan_codes(argtypes, restype, nargs):
    if argtypes is None:
        codes = [None] * nargs
    else:
        if len(argtypes) != nargs:
            return None
        codes = list(_plan(argtypes))
        if None in codes:
            return None
    if restype is None:
        return codes, None
    info = _info_of(restype)
    if (info is None or type(restype) is not PyCSimpleType or info.swapped
            or _simple_instance(restype) or _checker_of(restype) is not None
            or info.code not in "bBhHiIlLqQnNfd?P"):
        return None
    return codes, info.code


def _check_paramflags(info, paramflags):
    """CPython's _validate_paramflags: one (flag[, name[, default]]) per
    argument type."""
    paramflags = tuple(paramflags)
    argtypes = info.argtypes or ()
    if len(paramflags) != len(argtypes):
        raise ValueError("paramflags must have the same length as argtypes")
    for item, tp in zip(paramflags, argtypes):
        if not isinstance(item, tuple) or not item or not isinstance(item[0], int):
            raise TypeError("paramflags must be a sequence of (int [,string [,value]]) tuples")
        if item[0] & 3 == 2 and _need_info(tp).kind not in ("pointer", "array"):
            raise TypeError("'out' parameter %d must be a pointer type, not %s"
                            % (len(paramflags), tp.__name__))
    return paramflags


def _build_callargs(paramflags, argtypes, args, kw):
    """CPython's _build_callargs: inputs from positional, keyword or
    default values; outputs made here and passed by reference."""
    callargs = []
    outputs = []
    pos = 0
    for i, item in enumerate(paramflags):
        flag = item[0] & 3
        name = item[1] if len(item) > 1 else None
        if flag == 2:
            tp = argtypes[i]
            tinfo = _need_info(tp)
            obj = tinfo.proto() if tinfo.kind == "pointer" else tp()
            callargs.append(obj)
            outputs.append(i)
            continue
        if pos < len(args):
            value = args[pos]
            pos += 1
        elif name is not None and name in kw:
            value = kw.pop(name)
        elif len(item) > 2:
            value = item[2]
        else:
            raise TypeError("required argument '%s' missing" % (name or i))
        callargs.append(value)
        if flag == 3:
            outputs.append(i)
    if kw:
        raise TypeError("unexpected keyword argument '%s'" % next(iter(kw)))
    callargs.extend(args[pos:])
    return tuple(callargs), outputs


def _make_thunk(argtypes, restype, func):
    """The Python side of a callback, and the argument types Rust makes
    instances of: (callable, holders). When every argument is a plain
    number or a pointer and the result a number (or void), the callable is
    the user's function itself and `holders` names, per argument, the
    pointer type Rust makes an instance of over the argument's bytes (None:
    the number as it is); calls.rs turns a ctypes instance returned into
    its value. Otherwise the callable converts in Python."""
    if restype is None or _number_code(restype) is not None:
        holders = []
        for t in argtypes:
            if _number_code(t) is not None:
                holders.append(None)
            elif type(t) is PyCPointerType and _need_info(t).proto is not None:
                holders.append((t, _need_info(t).align))
            else:
                break
        else:
            return func, holders
    convs = []
    for t in argtypes:
        info = _need_info(t)
        if info.kind == "simple" and not _simple_instance(t):
            convs.append(lambda raw, code=info.code: _raw_to_value(code, raw))
        else:
            def conv(raw, t=t, info=info):
                return _instance_holding(t, _raw_bytes(info, raw))
            convs.append(conv)
    rcode = _need_info(restype).code if restype is not None else None
    holders = []

    def thunk(*raws):
        result = func(*[c(r) for c, r in zip(convs, raws)])
        if rcode is None:
            return None
        if isinstance(result, _CData):
            result = result.value
        if rcode == "O":
            # CPython hands C a new reference; here the id stays valid for
            # as long as the callback lives
            holders.append(_py_holder(result))
            del holders[:-16]
            return id(result)
        return result

    return thunk, None


_direct_keep = []


def _call_direct(fn, descs, raws, keep, argtypes, args):
    global _direct_keep
    values = []
    for desc, raw, arg in zip(descs, raws, args):
        if desc == "z" and isinstance(raw, bytes):
            raw = _kept_bytes_address(raw)  # lives as long as the bytes object
        elif desc in ("z", "Z") and isinstance(raw, (bytes, str)):
            data = raw + b"\0" if desc == "z" else (raw + "\0").encode(_WIDE, "surrogatepass")
            block = _string_block(data)
            keep.append(block)
            raw = block.addr
        values.append(raw)
    _direct_keep = keep
    try:
        return fn(*values)
    finally:
        _direct_keep = []


# ------------------------------------------------------------- helpers of ctypes/__init__

def _memmove(dst, src, count):
    _copy(dst, src, count)
    return dst


def _memset(dst, c, count):
    _fill(dst, c, count)
    return dst


def _cast(addr, obj, typ):
    info = _info_of(typ)
    if info is None or not (info.kind in ("pointer", "func") or
                            (info.kind == "simple" and info.code in "sPzUZXO")):
        raise TypeError("cast() argument 2 must be a pointer type, not %s"
                        % getattr(typ, "__name__", type(typ).__name__))
    result = typ()
    _store(_ADDR(result), "P", addr or 0)
    if isinstance(obj, _CData):
        container = _root(obj)
        if not isinstance(container._objects, dict):
            container._objects = {} if container._objects is None else {"0": container._objects}
        result._objects = container._objects
        result._objects[id(obj)] = obj
    elif isinstance(obj, (bytes, str)):
        # the host copy of a str passed by value must outlive the call (a
        # bytes object's lives as long as the object, as in CPython)
        result._objects = {id(obj): obj}
        result._b_hidden_ = {"cast": list(_direct_keep)}
    return result


_memmove_addr = _Direct(_memmove)
_memset_addr = _Direct(_memset)
_string_at_addr = _Direct(lambda addr, size: _string_at(addr, size))
_wstring_at_addr = _Direct(lambda addr, size: _wstring_at(addr, size))
_cast_addr = _Direct(_cast)


# ------------------------------------------------------------- libraries

_PROCESS = 0x10
_process_handle = None


def _real_handle(handle):
    """dlopen(None) (ctypes' pythonapi, CDLL(None)) is opened on first use:
    the policy may not grant the process namespace, and `import ctypes`
    must not fail for it."""
    global _process_handle
    if handle != _PROCESS:
        return handle
    if _process_handle is None:
        _process_handle = _dlopen(None, RTLD_NOW)
    return _process_handle


def dlopen(name, mode=RTLD_LOCAL):
    if name is None:
        return _PROCESS
    if isinstance(name, bytes):
        import os
        name = os.fsdecode(name)
    return _dlopen(name, mode | RTLD_NOW)


# ------------------------------------------------------------------ errno

_errno_maps = None


def _errno_map():
    """Host errno numbers <-> the guest's (WASI's), by name."""
    global _errno_maps
    if _errno_maps is None:
        import errno as _errno
        to_guest, to_host = {}, {}
        for name, host in _host_errno_codes.items():
            guest = getattr(_errno, name, None)
            if isinstance(guest, int):
                to_guest.setdefault(host, guest)
                to_host.setdefault(guest, host)
        _errno_maps = (to_guest, to_host)
    return _errno_maps


def get_errno():
    host = _get_host_errno()
    return _errno_map()[0].get(host, host)


def set_errno(value):
    value = _index(value)
    old = _set_host_errno(_errno_map()[1].get(value, value))
    return _errno_map()[0].get(old, old)


# ------------------------------------------ the unmodified package's needs

def _host_calcsize(calcsize):
    """ctypes/__init__ checks sizeof() against struct.calcsize(), which
    describes the guest (wasm32: 4-byte long and pointers); native code is
    the host's. For the ctypes module only, calcsize answers the host's
    size of a single type code."""
    def host_calcsize(fmt):
        if isinstance(fmt, str) and len(fmt) == 1 and fmt in _prim_sizes and \
                _sys._getframe(1).f_globals.get("__name__") == "ctypes":
            return _prim_sizes[fmt][0]
        return calcsize(fmt)
    host_calcsize.__doc__ = calcsize.__doc__
    return host_calcsize


if not hasattr(_struct.calcsize, "__wrapped_host__"):
    _struct.calcsize = _host_calcsize(_struct.calcsize)
    _struct.calcsize.__wrapped_host__ = True


class _UtilFinder:
    """ctypes.util.find_library runs ldconfig and gcc, which the guest has
    not: once ctypes.util is loaded, its find_library asks the host
    (among the libraries the policy allows)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "ctypes.util":
            return None
        _sys.meta_path.remove(cls)
        import importlib.util
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader

        class Loader:
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                module.find_library = _find_library

        spec.loader = Loader()
        return spec


if _UtilFinder not in _sys.meta_path:
    _sys.meta_path.insert(0, _UtilFinder)

def _elem_plan(cls):
    """For fast.rs: an array or pointer type's (item size, item code,
    array length or None) when its items are plain numbers, else None."""
    info = _info_of(cls)
    if info is None or info.kind not in ("array", "pointer") or info.proto is None:
        return None
    code = _number_code(info.proto)
    if code is None:
        return None
    return _need_info(info.proto).size, code, info.length if info.kind == "array" else None


_fast_setup(CFuncPtr.__call__, _shadows, _sync_all, _elem_plan)
_fast_install(CFuncPtr)
_bootstrapping = False
