
# ------------------------------------------------------- ctypes.pythonapi

# Native code cannot call into this interpreter: it runs inside the wasm
# sandbox, and the host process has no libpython. `ctypes.pythonapi` gives
# the few functions whose meaning survives that (a buffer's bytes, lent to
# native code as a host copy) and names the rest as missing when a program
# asks for one, which is where CPython would look the symbol up.

_C_API_MISSING = (
    "ctypes.pythonapi.%s: the CPython C API cannot be called from native code in "
    "wasmffi (the interpreter runs inside the wasm sandbox; the host process has no "
    "libpython). Provided: %s")

_PyBUF_WRITABLE = 0x1
_PyBUF_FORMAT = 0x4
_PyBUF_ND = 0x8

_py_buffer_layout = None
_lent_buffers = {}


def _py_buffer_offsets():
    """Py_buffer's field offsets on the host: buf, obj, len, itemsize,
    readonly, ndim, format, shape, strides, suboffsets, internal."""
    global _py_buffer_layout
    if _py_buffer_layout is None:
        _py_buffer_layout = Layout(["P", "P", "n", "n", "i", "i", "P", "P", "P", "P", "P"]).offsets
    return _py_buffer_layout


def _c_api_get_buffer(obj, view, flags):
    """PyObject_GetBuffer(obj, view, flags) on a host copy of obj's bytes,
    kept until PyBuffer_Release(view), which copies a writable buffer's
    bytes back."""
    if not view:
        raise ValueError("PyObject_GetBuffer: NULL view")
    if isinstance(obj, int):  # a py_object argument crosses as its handle
        obj = _py_lookup(obj)
    mv = memoryview(obj).cast("B")
    if flags & _PyBUF_WRITABLE and mv.readonly:
        raise BufferError("Object is not writable.")
    data = mv.tobytes()
    block = Block.holding(data) if data else Block(1)
    extra = Block.holding(b"B\0")
    shape = Block(16)
    _store(shape.addr, "n", len(data))
    _store(shape.addr + 8, "n", 1)
    buf, _obj, length, itemsize, readonly, ndim, fmt, shp, strides, sub, internal = \
        _py_buffer_offsets()
    _store(view + buf, "P", block.addr)
    _store(view + _obj, "P", 0)
    _store(view + length, "n", len(data))
    _store(view + itemsize, "n", 1)
    _store(view + readonly, "i", 1 if mv.readonly else 0)
    _store(view + ndim, "i", 1)
    _store(view + fmt, "P", extra.addr if flags & _PyBUF_FORMAT else 0)
    _store(view + shp, "P", shape.addr if flags & _PyBUF_ND else 0)
    _store(view + strides, "P", shape.addr + 8 if flags & 0x10 == 0x10 else 0)
    _store(view + sub, "P", 0)
    _store(view + internal, "P", 0)
    _lent_buffers[view] = (block, extra, shape, mv)
    return 0


def _c_api_release_buffer(view):
    lent = _lent_buffers.pop(view, None)
    if lent is None:
        return None
    block, _extra, _shape, mv = lent
    if not mv.readonly and len(mv):
        mv[:] = _read(block.addr, len(mv))
    mv.release()
    return None


_C_API = {
    "PyObject_GetBuffer": _c_api_get_buffer,
    "PyBuffer_Release": _c_api_release_buffer,
}


def _c_api_function(name):
    fn = _C_API.get(name)
    if fn is None:
        raise AttributeError(_C_API_MISSING % (name, ", ".join(sorted(_C_API))))
    return fn
