# The application-level half of the mixed module `_rawffi`: shapes of raw
# native memory. Executed in the module's own namespace after the Rust half
# is set up, so StructLayout, malloc, load, store, ... are plain globals here.


def _check_live(instance):
    if object.__getattribute__(instance, "_address") == 0:
        raise SegfaultException("access to freed memory of a %s" % type(instance).__name__)


class Structure:
    """The shape of a C struct (or union): Structure([("x", "i"), ("p", Other), ("a", ("c", 8))])."""

    def __init__(self, fields, union=False):
        self.fields = list(fields)
        self.union = union
        field_types = [tp for _, tp in self.fields]
        self._layout = StructLayout(field_types, union)
        self.size = self._layout.size
        self.alignment = self._layout.alignment
        self._fields = {}
        for (name, tp), offset in zip(self.fields, self._layout.offsets):
            if name in self._fields:
                raise ValueError("duplicate field name %r" % name)
            self._fields[name] = (offset, tp)

    def fieldoffset(self, name):
        return self._fields[name][0]

    def fieldsize(self, name):
        tp = self._fields[name][1]
        if isinstance(tp, tuple):
            return sizeof(tp[0]) * tp[1]
        return sizeof(tp)

    def __call__(self, autofree=True):
        address = malloc(self.size, self.alignment)
        return StructureInstance(self, address, autofree)

    def fromaddress(self, address):
        return StructureInstance(self, address, False)

    def _from_bytes(self, data):
        instance = self()
        memwrite(instance.buffer, data)
        return instance

    def __repr__(self):
        kind = "union" if self.union else "struct"
        return "<_rawffi.Structure %s %r size=%d>" % (kind, [n for n, _ in self.fields], self.size)


def _load_field(address, tp):
    if isinstance(tp, str):
        return load(address, tp)
    if isinstance(tp, tuple):
        return Array(tp[0]).fromaddress(address, tp[1])
    return tp.fromaddress(address)


def _store_field(address, tp, value):
    if isinstance(tp, str):
        store(address, tp, value)
    elif isinstance(tp, tuple):
        view = Array(tp[0]).fromaddress(address, tp[1])
        if isinstance(value, (bytes, bytearray)) and tp[0] == "c":
            if len(value) > tp[1]:
                raise ValueError("%d bytes do not fit in char[%d]" % (len(value), tp[1]))
            memwrite(address, bytes(value) + b"\0" * (tp[1] - len(value)))
            return
        for index, item in enumerate(value):
            view[index] = item
    else:
        if not isinstance(value, StructureInstance) or value.shape is not tp:
            raise TypeError("expected a %r instance" % (tp,))
        memmove(address, value.buffer, tp.size)


class StructureInstance:
    __slots__ = ("shape", "_address", "_owned", "__weakref__")

    def __init__(self, shape, address, owned):
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "_address", address)
        object.__setattr__(self, "_owned", owned)

    @property
    def buffer(self):
        _check_live(self)
        return object.__getattribute__(self, "_address")

    def __getattr__(self, name):
        shape = object.__getattribute__(self, "shape")
        try:
            offset, tp = shape._fields[name]
        except KeyError:
            raise AttributeError("%r has no field %r" % (shape, name)) from None
        return _load_field(self.buffer + offset, tp)

    def __setattr__(self, name, value):
        try:
            offset, tp = self.shape._fields[name]
        except KeyError:
            raise AttributeError("%r has no field %r" % (self.shape, name)) from None
        _store_field(self.buffer + offset, tp, value)

    def tobytes(self):
        return memread(self.buffer, self.shape.size)

    def free(self):
        if object.__getattribute__(self, "_address") == 0:
            raise SegfaultException("double free of a %r instance" % (self.shape,))
        if not object.__getattribute__(self, "_owned"):
            raise ValueError("this instance is a view of memory it does not own")
        free(self.buffer)
        object.__setattr__(self, "_address", 0)

    def __del__(self):
        if object.__getattribute__(self, "_owned") and object.__getattribute__(self, "_address"):
            free(object.__getattribute__(self, "_address"))

    def __repr__(self):
        return "<%r instance at %#x>" % (self.shape, object.__getattribute__(self, "_address"))


class Array:
    """The shape of a C array of one item type: Array("i"), Array(SomeStructure)."""

    def __init__(self, itemtype):
        self.itemtype = itemtype
        self.size = sizeof(itemtype)
        self.alignment = alignment(itemtype)

    def __call__(self, length, items=None, autofree=True):
        if length < 0:
            raise ValueError("negative array length")
        instance = ArrayInstance(self, malloc(self.size * length, self.alignment), length, autofree)
        if items is not None:
            if len(items) > length:
                raise ValueError("%d items do not fit in an array of %d" % (len(items), length))
            for index, item in enumerate(items):
                instance[index] = item
        return instance

    def fromaddress(self, address, length):
        return ArrayInstance(self, address, length, False)

    def __repr__(self):
        return "<_rawffi.Array of %r>" % (self.itemtype,)


class ArrayInstance:
    __slots__ = ("shape", "length", "_address", "_owned", "__weakref__")

    def __init__(self, shape, address, length, owned):
        self.shape = shape
        self.length = length
        self._address = address
        self._owned = owned

    @property
    def buffer(self):
        _check_live(self)
        return self._address

    def __len__(self):
        return self.length

    def itemaddress(self, index):
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError("array index %d out of range for length %d" % (index, self.length))
        return self.buffer + index * self.shape.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        return _load_field(self.itemaddress(index), self.shape.itemtype)

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            for i, item in zip(range(*index.indices(self.length)), value, strict=True):
                self[i] = item
            return
        _store_field(self.itemaddress(index), self.shape.itemtype, value)

    def __iter__(self):
        for index in range(self.length):
            yield self[index]

    def tobytes(self):
        return memread(self.buffer, self.shape.size * self.length)

    def free(self):
        if self._address == 0:
            raise SegfaultException("double free of an array")
        if not self._owned:
            raise ValueError("this array is a view of memory it does not own")
        free(self._address)
        self._address = 0

    def __del__(self):
        if self._owned and self._address:
            free(self._address)

    def __repr__(self):
        return "<_rawffi array of %d %r at %#x>" % (self.length, self.shape.itemtype, self._address)
