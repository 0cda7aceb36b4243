

# ------------------------------------------------------------ cursors
def _converted(value, converter):
    """A column through its converter, as the bytes sqlite gives for it
    (`sqlite3_column_blob`: NULL and empty values give None)."""
    if value is None or value == b"" or value == "":
        return None
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, float):
        value = repr(value).encode()
    elif isinstance(value, int):
        value = str(value).encode()
    return converter(value)


class Cursor:
    _initialized = False
    _locked = False
    arraysize = 1
    row_factory = None

    def __init__(self, connection, /):
        if getattr(self, "_locked", False):
            raise ProgrammingError("Recursive use of cursors not allowed.")
        if not isinstance(connection, Connection):
            raise TypeError("Cursor() argument 1 must be sqlite3.Connection, not %s"
                            % _type_name(connection))
        self._connection = connection
        self.arraysize = 1
        self.row_factory = None
        self._description = None
        self._rowcount = -1
        self._lastrowid = None
        self._closed = False
        self._locked = False
        self._entry = None
        self._sql = None
        self._rows = []
        self._pos = 0
        self._done = True
        self._converters = None
        self._bad_text = False
        self._names = ()
        self._initialized = True

    connection = property(lambda self: self._connection)
    description = property(lambda self: self._description)
    rowcount = property(lambda self: self._rowcount)
    lastrowid = property(lambda self: self._lastrowid)

    def _check(self):
        if not self._initialized:
            raise ProgrammingError("Base Cursor.__init__ not called.")
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        if self._locked:
            raise ProgrammingError("Recursive use of cursors not allowed.")
        self._connection._check()

    def _finish(self):
        entry, self._entry = self._entry, None
        if entry is not None:
            if not self._done:
                entry.stmt.reset()
            self._connection._release(self._sql, entry)
        self._done = True

    def _bind(self, entry, parameters):
        names = entry.params
        if isinstance(parameters, (tuple, list)) or (
                not isinstance(parameters, dict) and _is_sequence(parameters)):
            if len(parameters) != len(names):
                raise ProgrammingError(
                    "Incorrect number of bindings supplied. The current statement uses %d, "
                    "and there are %d supplied." % (len(names), len(parameters)))
            return [_adapt_param(parameters[i]) for i in range(len(names))]
        if isinstance(parameters, dict):
            values = []
            for i, name in enumerate(names):
                if name is None:
                    raise ProgrammingError("Binding %d has no name, but you supplied a "
                                           "dictionary (which has only names)." % (i + 1))
                key = name[1:]
                try:
                    value = parameters[key]
                except LookupError:
                    raise ProgrammingError("You did not supply a value for binding parameter "
                                           ":%s." % key) from None
                values.append(_adapt_param(value))
            return values
        raise ProgrammingError("parameters are of unsupported type")

    def _set_description(self, entry):
        conn = self._connection
        detect = conn.detect_types
        self._converters = None
        names = self._names = entry.names
        if detect:
            found = []
            for i, name in enumerate(names):
                conv = None
                if detect & PARSE_COLNAMES:
                    start = None
                    for j, ch in enumerate(name):
                        if ch == "[":
                            start = j + 1
                        elif ch == "]" and start is not None:
                            conv = converters.get(name[start:j].upper())
                            break
                if conv is None and detect & PARSE_DECLTYPES and entry.decltypes[i]:
                    decl = entry.decltypes[i]
                    for j, ch in enumerate(decl + "\0"):
                        if ch in " (\0":
                            conv = converters.get(decl[:j].upper())
                            break
                found.append(conv)
            if any(c is not None for c in found):
                self._converters = found
        if names:
            if detect & PARSE_COLNAMES:
                cut = []
                for n in names:
                    pos = n.find("[")
                    if pos > 0 and n[pos - 1] == " ":
                        pos -= 1
                    cut.append(n if pos < 0 else n[:pos])
                names = cut
            self._description = tuple((n, None, None, None, None, None, None) for n in names)
        else:
            self._description = None

    def _execute(self, sql, many, seq):
        self._check()
        self._finish()
        conn = self._connection
        self._locked = True
        self._description = None
        self._rows = []
        self._pos = 0
        entry = None
        try:
            entry = conn._statement(sql)
            entry.in_use = True
            self._sql = sql
            if entry.stmt is None:
                self._rowcount = -1
                conn._release(sql, entry)
                return self
            if many and entry.names:
                raise ProgrammingError("executemany() can only execute DML statements.")
            self._rowcount = 0 if entry.is_dml else -1
            if entry.is_dml and conn._isolation_level is not None:
                conn._begin_if_needed(entry)
            first = True
            for parameters in seq:
                params = self._bind(entry, parameters)
                rows, done, changes, lastrowid, reprepared, bad = entry.stmt.run(
                    params, 1 if many else _BATCH)
                self._bad_text = bad
                if reprepared or first:
                    if reprepared:
                        entry.reload()
                    self._set_description(entry)
                    first = False
                if done and entry.is_dml:
                    self._rowcount += changes
                self._rows, self._done = rows, done
            if not many:
                self._lastrowid = lastrowid
            self._entry = entry
            if self._done:
                self._finish()
            return self
        except BaseException:
            self._rowcount = -1
            if entry is not None and self._entry is None:
                conn._release(sql, entry)
            raise
        finally:
            self._locked = False

    def execute(self, sql, parameters=(), /):
        if not isinstance(sql, str):
            raise TypeError("execute() argument 1 must be str, not %s" % _type_name(sql))
        return self._execute(sql, False, (parameters,))

    def executemany(self, sql, seq_of_parameters, /):
        if not isinstance(sql, str):
            raise TypeError("executemany() argument 1 must be str, not %s" % _type_name(sql))
        return self._execute(sql, True, iter(seq_of_parameters))

    def executescript(self, sql_script, /):
        if not isinstance(sql_script, str):
            raise TypeError("executescript() argument must be str, not %s"
                            % _type_name(sql_script))
        if "\0" in sql_script:
            raise ValueError("embedded null character")
        self._check()
        self._finish()
        conn = self._connection
        if len(sql_script.encode("utf-8", "surrogatepass")) > conn._db.limit(
                SQLITE_LIMIT_SQL_LENGTH, -1):
            raise DataError("query string is too large")
        if not conn._db.autocommit():
            conn._db.executescript("COMMIT")
        conn._db.executescript(sql_script)
        return self

    def _row(self, row):
        conn = self._connection
        tf = conn.text_factory
        converters = self._converters
        if converters is not None or tf is not str or self._bad_text:
            out = []
            for i, v in enumerate(row):
                c = converters[i] if converters is not None and i < len(converters) else None
                if c is not None:
                    v = _converted(bytes(v) if type(v) is _BadText else v, c)
                elif type(v) is _BadText:
                    if tf is str:
                        name = self._names[i] if i < len(self._names) else ""
                        raise OperationalError("Could not decode to UTF-8 column '%s' with text "
                                               "'%s'" % (name, v.decode("utf-8", "replace")))
                    v = bytes(v) if tf is bytes else tf(bytes(v))
                elif isinstance(v, str) and tf is not str:
                    v = v.encode() if tf is bytes else tf(v.encode())
                out.append(v)
            row = tuple(out)
        factory = self.row_factory
        if factory is not None:
            return factory(self, row)
        return row

    def _next(self):
        if self._pos >= len(self._rows):
            if self._done or self._entry is None:
                return None
            rows, done, changes, _lastrowid, _reprepared, bad = self._entry.stmt.fetch(_BATCH)
            self._bad_text = bad
            self._rows, self._pos, self._done = rows, 0, done
            if done:
                if self._entry.is_dml:
                    self._rowcount = changes
                self._finish()
            if not rows:
                return None
        row = self._rows[self._pos]
        self._pos += 1
        if self._pos >= len(self._rows) and self._done:
            self._finish()
        self._locked = True
        try:
            return self._row(row)
        finally:
            self._locked = False

    def fetchone(self):
        self._check()
        return self._next()

    def fetchmany(self, size=None):
        if size is None:
            size = self.arraysize
        out = []
        while len(out) < size:
            row = self.fetchone()
            if row is None:
                break
            out.append(row)
        return out

    def fetchall(self):
        out = []
        while True:
            row = self.fetchone()
            if row is None:
                return out
            out.append(row)

    def __iter__(self):
        return self

    def __next__(self):
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def close(self):
        if self._locked:
            raise ProgrammingError("Recursive use of cursors not allowed.")
        if not self._initialized:
            raise ProgrammingError("Base Cursor.__init__ not called.")
        self._connection._check()
        if not self._closed:
            self._finish()
            self._closed = True

    def setinputsizes(self, sizes, /):
        pass

    def setoutputsize(self, size, column=None, /):
        pass


def _is_sequence(obj):
    return hasattr(type(obj), "__len__") and hasattr(type(obj), "__getitem__") and not \
        hasattr(type(obj), "keys")


def _equal_ignore_case(a, b):
    if a == b:
        return True
    if not (isinstance(a, str) and isinstance(b, str) and a.isascii() and b.isascii()):
        return False
    return len(a) == len(b) and a.lower() == b.lower()


class Row:
    __slots__ = ("_description", "_data")

    def __new__(cls, cursor, data, /, **kwargs):
        if kwargs:
            raise TypeError("Row() takes no keyword arguments")
        if not issubclass(type(cursor), Cursor):
            raise TypeError("Row() argument 1 must be sqlite3.Cursor, not %s"
                            % _type_name(cursor))
        if not isinstance(data, tuple):
            raise TypeError("Row() argument 2 must be tuple, not %s" % _type_name(data))
        self = object.__new__(cls)
        self._data = data
        self._description = cursor.description
        return self

    def keys(self):
        if self._description is None:
            return []
        return [d[0] for d in self._description]

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return iter(self._data)

    def __getitem__(self, key):
        if isinstance(key, int):
            if key < 0:
                key += len(self._data)
            if not 0 <= key < len(self._data):
                raise IndexError("tuple index out of range")
            return self._data[key]
        if isinstance(key, str):
            if self._description is None:
                raise IndexError("No item with key '%s'" % key)
            for i, d in enumerate(self._description):
                if _equal_ignore_case(key, d[0]):
                    return self._data[i]
            raise IndexError("No item with that key")
        if isinstance(key, slice):
            return self._data[key]
        raise IndexError("Index must be int or string")

    def __eq__(self, other):
        if not isinstance(other, Row):
            return NotImplemented
        return self._description == other._description and self._data == other._data

    def __ne__(self, other):
        if not isinstance(other, Row):
            return NotImplemented
        return not (self._description == other._description and self._data == other._data)

    def __hash__(self):
        return hash(self._description) ^ hash(self._data)


for _cls in (Connection, Cursor, Row, PrepareProtocol, Blob, _Statement):
    _cls.__qualname__ = _cls.__name__ = _cls.__name__.lstrip("_")
    _cls.__module__ = "sqlite3"


def connect(*args, **kwargs):
    """Open a connection to the SQLite database file database (a guest path,
    ':memory:' or ''); the arguments go to `factory` as given."""
    factory = kwargs.get("factory", args[5] if len(args) > 5 else Connection)
    return (factory or Connection)(*args, **kwargs)


def _sqlite_version():
    db = _open(":memory:", 0, False)
    try:
        stmt, _more = db.prepare("select sqlite_version()")
        return stmt.run([], 1)[0][0][0]
    finally:
        db.close()


sqlite_version = _sqlite_version()
del _cls
