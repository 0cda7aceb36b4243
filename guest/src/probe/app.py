# The application-level half of `_probe`: PyPy's ctypes_configure, answered
# by the host's C compiler (see _run in the Rust half). Every name must be a
# plain C name: headers "sys/stat.h", types "struct stat" / "unsigned long" /
# "char *", members "st_mode" or "st_atim.tv_sec", constants "EINTR".


class ProbeError(LookupError):
    """The C compiler rejected a query (unknown type, no such member, ...)."""


def _headers(headers):
    if isinstance(headers, str):
        return [headers]
    return list(headers)


def _answer(a, what):
    if a[0] == "failed":
        raise ProbeError("%s: %s" % (what, a[1]))
    return a


def layout(ctype, headers=()):
    """(size, alignment, kind) of a C type; kind is 'signed', 'unsigned',
    'float', 'pointer' or 'other'."""
    _, size, align, kind = _answer(_run(_headers(headers), [("type", ctype)])[0], ctype)
    return size, align, kind


def sizeof(ctype, headers=()):
    return layout(ctype, headers)[0]


def alignment(ctype, headers=()):
    return layout(ctype, headers)[1]


def offsetof(ctype, member, headers=()):
    return fields(ctype, [member], headers)[member][0]


def fields(ctype, members, headers=()):
    """{member: (offset, size, kind)} for members of a struct/union type."""
    members = list(members)
    answers = _run(_headers(headers), [("field", ctype, m) for m in members])
    return {m: _answer(a, "%s.%s" % (ctype, m))[1:] for m, a in zip(members, answers)}


def constants(names, headers=()):
    """{name: value}: integer #defines and enum constants; None when undefined."""
    names = list(names)
    answers = _run(_headers(headers), [("constant", n) for n in names])
    return {n: a[1] for n, a in zip(names, answers)}


def constant(name, headers=()):
    return constants([name], headers)[name]


def defined(name, headers=()):
    return _run(_headers(headers), [("defined", name)])[0][1]


_INT_CODES = {(1, True): "b", (1, False): "B", (2, True): "h", (2, False): "H",
              (4, True): "i", (4, False): "I", (8, True): "q", (8, False): "Q"}


def rawffi_code(size, kind):
    """The `_rawffi` type code for a value of this size and kind, or
    ("c", size) for anything else (arrays, nested structs)."""
    if kind in ("signed", "unsigned") and (size, kind == "signed") in _INT_CODES:
        return _INT_CODES[(size, kind == "signed")]
    if kind == "float":
        return {4: "f", 8: "d"}.get(size, "g")
    if kind == "pointer":
        return "P"
    return ("c", size)


class StructLayout:
    """A C struct as the compiler laid it out: the members asked for, at
    their offsets, with explicit padding elsewhere."""

    def __init__(self, name, size, alignment, members):
        self.name = name
        self.size = size
        self.alignment = alignment
        # [(member, offset, size, kind)], by offset
        self.members = sorted(members, key=lambda m: m[1])

    def __repr__(self):
        return "<StructLayout %s size=%d align=%d %r>" % (self.name, self.size, self.alignment,
                                                         [m[0] for m in self.members])

    def _padded(self, code_for):
        out = []
        pos = 0
        npad = 0
        for member, offset, size, kind in self.members:
            if offset < pos:
                continue   # overlaps a member already placed (a union member)
            if offset > pos:
                out.append(("_pad%d" % npad, ("pad", offset - pos)))
                npad += 1
            out.append((member.replace(".", "_"), code_for(member, size, kind)))
            pos = offset + size
        if pos < self.size:
            out.append(("_pad%d" % npad, ("pad", self.size - pos)))
        return out

    def rawffi_fields(self, types=None):
        """Fields for `_rawffi.Structure`; `types` may override codes per member."""
        types = types or {}

        def code_for(member, size, kind):
            return types.get(member) or rawffi_code(size, kind)
        return [(n, ("c", t[1]) if isinstance(t, tuple) and t[0] == "pad" else t)
                for n, t in self._padded(code_for)]

    def rawffi_structure(self, types=None):
        import _rawffi
        shape = _rawffi.Structure(self.rawffi_fields(types))
        if shape.size != self.size:
            raise ProbeError("%s: _rawffi laid it out in %d bytes, the compiler in %d"
                             % (self.name, shape.size, self.size))
        return shape

    def ctypes_structure(self, types=None, name=None):
        """A ctypes.Structure subclass with this layout."""
        import ctypes
        ints = {(1, True): ctypes.c_int8, (1, False): ctypes.c_uint8, (2, True): ctypes.c_int16,
                (2, False): ctypes.c_uint16, (4, True): ctypes.c_int32, (4, False): ctypes.c_uint32,
                (8, True): ctypes.c_int64, (8, False): ctypes.c_uint64}
        types = types or {}

        def code_for(member, size, kind):
            if member in types:
                return types[member]
            if kind in ("signed", "unsigned") and (size, kind == "signed") in ints:
                return ints[(size, kind == "signed")]
            if kind == "float" and size in (4, 8):
                return ctypes.c_float if size == 4 else ctypes.c_double
            if kind == "pointer":
                return ctypes.c_void_p
            return ctypes.c_char * size
        fields = [(n, ctypes.c_char * t[1]) if isinstance(t, tuple) and t[0] == "pad" else (n, t)
                  for n, t in self._padded(code_for)]
        cls = type(name or self.name.replace("struct ", "").replace(" ", "_"), (ctypes.Structure,),
                   {"_fields_": fields})
        if ctypes.sizeof(cls) != self.size:
            raise ProbeError("%s: ctypes laid it out in %d bytes, the compiler in %d"
                             % (self.name, ctypes.sizeof(cls), self.size))
        return cls


def struct(ctype, members, headers=()):
    """The StructLayout of `ctype` with the given members (names)."""
    members = list(members)
    hs = _headers(headers)
    answers = _run(hs, [("type", ctype)] + [("field", ctype, m) for m in members])
    _, size, align, _kind = _answer(answers[0], ctype)
    found = []
    for m, a in zip(members, answers[1:]):
        _, offset, msize, kind = _answer(a, "%s.%s" % (ctype, m))
        found.append((m, offset, msize, kind))
    return StructLayout(ctype, size, align, found)


# ---------------------------------------------------------- ctypes_configure
class _Entry:
    pass


class SimpleType(_Entry):
    def __init__(self, name, ctype_hint=None):
        self.name = name
        self.hint = ctype_hint


class Struct(_Entry):
    def __init__(self, name, interesting_fields):
        self.name = name
        self.fields = [f if isinstance(f, tuple) else (f, None) for f in interesting_fields]


class ConstantInteger(_Entry):
    def __init__(self, name):
        self.name = name


class DefinedConstantInteger(_Entry):
    def __init__(self, name):
        self.name = name


class Defined(_Entry):
    def __init__(self, name):
        self.name = name


class SizeOf(_Entry):
    def __init__(self, name):
        self.name = name


def configure(CConfig):
    """Answer every entry of a CConfig class in one compiler run, as PyPy's
    ctypes_configure.configure does. Headers come from `_headers_` (a list),
    or `_compilation_info_.includes`. Struct entries become StructLayouts,
    SimpleType entries (size, alignment, kind), constants ints."""
    headers = getattr(CConfig, "_headers_", None)
    if headers is None:
        info = getattr(CConfig, "_compilation_info_", None)
        headers = getattr(info, "includes", ())
    entries = [(k, v) for k, v in vars(CConfig).items() if isinstance(v, _Entry)]
    queries = []
    for key, e in entries:
        if isinstance(e, Struct):
            queries.append(("type", e.name))
            queries.extend(("field", e.name, f) for f, _ in e.fields)
        elif isinstance(e, (SimpleType, SizeOf)):
            queries.append(("type", e.name))
        elif isinstance(e, (ConstantInteger, DefinedConstantInteger)):
            queries.append(("constant", e.name))
        elif isinstance(e, Defined):
            queries.append(("defined", e.name))
    answers = iter(_run(_headers(headers), queries))
    result = {}
    for key, e in entries:
        if isinstance(e, Struct):
            _, size, align, _k = _answer(next(answers), e.name)
            members = []
            for f, _hint in e.fields:
                _, off, msize, kind = _answer(next(answers), "%s.%s" % (e.name, f))
                members.append((f, off, msize, kind))
            result[key] = StructLayout(e.name, size, align, members)
        elif isinstance(e, SimpleType):
            _, size, align, kind = _answer(next(answers), e.name)
            result[key] = (size, align, kind)
        elif isinstance(e, SizeOf):
            result[key] = _answer(next(answers), e.name)[1]
        elif isinstance(e, ConstantInteger):
            value = next(answers)[1]
            if value is None:
                raise ProbeError("%s: not an integer constant here" % e.name)
            result[key] = value
        elif isinstance(e, DefinedConstantInteger):
            result[key] = next(answers)[1]
        elif isinstance(e, Defined):
            result[key] = next(answers)[1]
    return result
