

# ------------------------------------------------------------ connections
_ISOLATION_LEVELS = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")


def _check_isolation(level):
    if level is None:
        return None
    if not isinstance(level, str):
        raise TypeError("isolation_level must be str or None")
    if str.upper(level) not in _ISOLATION_LEVELS:
        raise ValueError("isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or "
                         "'EXCLUSIVE'")
    return level


def _guest_path(database, uri):
    path = _os.fsdecode(_os.fspath(database))
    if uri and path.startswith("file:"):
        rest = path[5:]
        body, sep, query = rest.partition("?")
        if body.startswith("//"):
            slash = body.find("/", 2)
            body = body[slash:] if slash >= 0 else "/"
        if body and not body.startswith("/") and "mode=memory" not in query:
            body = _os.path.abspath(body)
        return "file:" + body + sep + query
    if path in ("", ":memory:"):
        return path
    return _os.path.abspath(path)


def _is_dml(sql):
    """CPython 3.11's test: the first word after blanks and comments."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i] in " \t\r\n\f":
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            break
    return sql[i:i + 7].upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))


class _Entry:
    """A compiled statement and what the cursor needs of it."""
    __slots__ = ("stmt", "names", "decltypes", "params", "readonly", "is_dml", "in_use")

    def __init__(self, stmt, sql):
        self.stmt = stmt
        self.in_use = False
        self.is_dml = _is_dml(sql)
        if stmt is not None:
            self.reload()
        else:
            self.names, self.decltypes, self.params, self.readonly = (), (), (), True

    def reload(self):
        self.names, self.decltypes, self.params, self.readonly = self.stmt.info()


class _Statement:
    """What calling a connection returns: a compiled statement (the module
    does not name its type, as CPython's)."""

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'sqlite3.Statement' instances")


def _type_name(obj):
    return type(obj).__name__


class Connection:
    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    _db = None
    _initialized = False
    row_factory = None
    text_factory = str

    def __init__(self, database, timeout=5.0, detect_types=0, isolation_level="",
                 check_same_thread=True, factory=None, cached_statements=128, uri=False):
        path = _guest_path(database, uri)
        level = _check_isolation(isolation_level)
        if self._db is not None:
            self.close()
        self._initialized = False
        self._db = _open(path, max(0, int(timeout * 1000)), bool(uri))
        self._isolation_level = level
        self.detect_types = detect_types
        self.row_factory = None
        self.text_factory = str
        self._cache = {}
        self._cache_size = cached_statements
        self._ids = {}
        self._blobs = []
        self._initialized = True

    # ---------------------------------------------------------------- state
    def _check_init(self):
        if not self._initialized and self._db is None:
            raise ProgrammingError("Base Connection.__init__ not called.")

    def _check(self):
        self._check_init()
        if self._db is None:
            raise ProgrammingError("Cannot operate on a closed database.")

    @property
    def isolation_level(self):
        self._check_init()
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, value):
        if value is not None and not isinstance(value, str):
            raise TypeError("isolation_level must be str or None")
        value = _check_isolation(value)
        if value is None and self._db is not None and not self._db.autocommit():
            self._db.executescript("COMMIT")
        self._isolation_level = value

    @isolation_level.deleter
    def isolation_level(self):
        raise AttributeError("cannot delete attribute")

    @property
    def in_transaction(self):
        self._check()
        return not self._db.autocommit()

    @property
    def total_changes(self):
        self._check()
        return self._db.total_changes()

    # ------------------------------------------------------------ statements
    def _statement(self, sql):
        entry = self._cache.pop(sql, None)
        if entry is not None and not entry.in_use:
            return entry
        if entry is not None:
            self._cache[sql] = entry
        if len(sql.encode("utf-8", "surrogatepass")) > self._db.limit(SQLITE_LIMIT_SQL_LENGTH, -1):
            raise DataError("query string is too large")
        if "\0" in sql:
            raise ProgrammingError("the query contains a null character")
        stmt, more = self._db.prepare(sql)
        if more:
            raise ProgrammingError("You can only execute one statement at a time.")
        return _Entry(stmt, sql)

    def _release(self, sql, entry):
        entry.in_use = False
        if self._db is None or entry.stmt is None or self._cache_size <= 0:
            return
        self._cache[sql] = entry
        if len(self._cache) > self._cache_size:
            del self._cache[next(iter(self._cache))]

    def _begin_if_needed(self, entry):
        if entry.is_dml and self._isolation_level is not None and self._db.autocommit():
            self._db.executescript("BEGIN " + self._isolation_level)

    # ------------------------------------------------------------ DB-API
    def cursor(self, factory=_NO_ALT):
        self._check()
        cursor = Cursor(self) if factory is _NO_ALT else factory(self)
        if not isinstance(cursor, Cursor) or not issubclass(type(cursor), Cursor):
            raise TypeError("factory must return a cursor, not %s" % _type_name(cursor))
        if self.row_factory is not None:
            cursor.row_factory = self.row_factory
        return cursor

    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql_script, /):
        return self.cursor().executescript(sql_script)

    def commit(self):
        self._check()
        if not self._db.autocommit():
            self._db.executescript("COMMIT")

    def rollback(self):
        self._check()
        if not self._db.autocommit():
            self._db.executescript("ROLLBACK")

    def close(self):
        if not self._initialized and self._db is None:
            raise ProgrammingError("Base Connection.__init__ not called.")
        if self._db is None:
            return
        # Refused while one of the connection's statements waits for a
        # callback: then nothing here changed.
        self._db.close()
        for blob in self._blobs:
            handle, blob._handle = blob._handle, None
            if handle is not None:
                handle.close()
        self._blobs = []
        self._cache.clear()
        self._db = None
        for id in self._ids.values():
            _callables.pop(id, None)
        self._ids.clear()

    def interrupt(self):
        self._check()
        self._db.interrupt()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback, /):
        if exc_type is None and exc_value is None and traceback is None:
            try:
                self.commit()
            except BaseException:
                try:
                    self.rollback()
                except BaseException:
                    pass
                raise
        else:
            self.rollback()
        return False

    def __call__(self, *args, **kwargs):
        self._check()
        if kwargs:
            raise TypeError("sqlite3.Connection takes no keyword arguments")
        if len(args) != 1 or not isinstance(args[0], str):
            raise TypeError("argument 1 must be str, not %s" % _type_name(args[0]) if args else
                            "function takes exactly 1 argument (0 given)")
        entry = self._statement(args[0])
        statement = object.__new__(_Statement)
        statement._entry = entry
        return statement

    def iterdump(self):
        self._check()
        from sqlite3.dump import _iterdump
        return _iterdump(self)

    # ------------------------------------------------------------ callbacks
    def _keep(self, key, callable):
        """The number the host knows `callable` by (None removes); the
        callable it replaces is dropped."""
        old = self._ids.pop(key, None)
        if old is not None:
            _callables.pop(old, None)
        if callable is None:
            return None
        id = _register(callable)
        self._ids[key] = id
        return id

    def _function(self, name, narg, func, kind, deterministic, error_class, error):
        self._check()
        if not isinstance(name, str):
            raise TypeError("argument 'name' must be str, not %s" % _type_name(name))
        narg = _c_int(narg)
        key = ("function", name.lower(), narg)
        id = self._keep(key, func)
        try:
            self._db.create_function(name, narg, kind, id, bool(deterministic))
        except Error:
            self._keep(key, None)
            raise error_class(error) from None

    def create_function(self, name, narg, func, *, deterministic=False):
        self._function(name, narg, func, 0, deterministic, OperationalError,
                       "Error creating function")

    def create_aggregate(self, name, n_arg, aggregate_class):
        self._function(name, n_arg, aggregate_class, 1, False, OperationalError,
                       "Error creating aggregate")

    def create_window_function(self, name, num_params, aggregate_class, /):
        self._function(name, num_params, aggregate_class, 2, False, ProgrammingError,
                       "bad parameter or other API misuse")

    def create_collation(self, name, callback, /):
        self._check()
        if not isinstance(name, str):
            raise TypeError("create_collation() argument 1 must be str, not %s"
                            % _type_name(name))
        if callback is not None and not callable(callback):
            raise TypeError("parameter must be callable")
        key = ("collation", name.lower())
        self._db.create_collation(name, self._keep(key, callback))

    def set_authorizer(self, authorizer_callback):
        self._check()
        if authorizer_callback is not None and not callable(authorizer_callback):
            raise TypeError("parameter must be callable")
        self._db.set_authorizer(self._keep("authorizer", authorizer_callback))

    def set_progress_handler(self, progress_handler, n):
        self._check()
        n = _c_int(n)
        self._db.set_progress_handler(self._keep("progress", progress_handler), n)

    def set_trace_callback(self, trace_callback):
        self._check()
        self._db.set_trace_callback(self._keep("trace", trace_callback))

    # ------------------------------------------------------------ the rest
    def getlimit(self, category, /):
        self._check()
        limit = self._db.limit(_c_int(category), -1)
        if limit < 0:
            raise ProgrammingError("'category' is out of bounds")
        return limit

    def setlimit(self, category, limit, /):
        self._check()
        old = self._db.limit(_c_int(category), _c_int(limit))
        if old < 0:
            raise ProgrammingError("'category' is out of bounds")
        return old

    def serialize(self, *, name="main"):
        self._check()
        if not isinstance(name, str):
            raise TypeError("serialize() argument 'name' must be str, not %s" % _type_name(name))
        data = self._db.serialize(name)
        if data is None:
            raise OperationalError("unable to serialize '%s'" % name)
        return data

    def deserialize(self, data, /, *, name="main"):
        self._check()
        if not isinstance(name, str):
            raise TypeError("deserialize() argument 'name' must be str, not %s"
                            % _type_name(name))
        if isinstance(data, str):
            # Argument Clinic's buffer converter takes a str as its UTF-8.
            data = data.encode()
        self._db.deserialize(name, data)

    def blobopen(self, table, column, row, /, *, readonly=False, name="main"):
        self._check()
        for arg, what in ((table, "1"), (column, "2")):
            if not isinstance(arg, str):
                raise TypeError("blobopen() argument %s must be str, not %s"
                                % (what, _type_name(arg)))
        if not isinstance(name, str):
            raise TypeError("blobopen() argument 'name' must be str, not %s" % _type_name(name))
        row = _index(row)
        if not -(1 << 63) <= row < (1 << 63):
            raise OverflowError("Python int too large to convert to C long")
        try:
            handle = self._db.blob_open(name, table, column, row, bool(readonly))
        except InterfaceError as exc:
            raise InterfaceError(exc.args[0]) from None
        blob = object.__new__(Blob)
        blob._connection = self
        blob._handle = handle
        blob._offset = 0
        self._blobs.append(blob)
        return blob

    def backup(self, target, *, pages=-1, progress=None, name="main", sleep=0.250):
        self._check()
        if not isinstance(target, Connection):
            raise TypeError("backup() argument 'target' must be sqlite3.Connection, not %s"
                            % _type_name(target))
        if target is self:
            raise ValueError("target cannot be the same connection instance")
        target._check()
        pages = _c_int(pages)
        if progress is not None and not callable(progress):
            raise TypeError("progress argument must be a callable")
        if not isinstance(name, str):
            raise TypeError("backup() argument 'name' must be str, not %s" % _type_name(name))
        sleep_ms = int(float(sleep) * 1000.0)
        if not target._db.autocommit():
            raise OperationalError("target is in transaction")
        if pages == 0:
            pages = -1
        handle = self._db.backup_to(name, target._db, "main")
        while True:
            status, remaining, pagecount = handle.step(pages)
            if progress is not None:
                try:
                    progress(status, remaining, pagecount)
                except BaseException:
                    try:
                        handle.finish()
                    except Error:
                        pass
                    raise
            if status in (SQLITE_BUSY, SQLITE_LOCKED):
                import time
                time.sleep(sleep_ms / 1000)
            if status not in (SQLITE_OK, SQLITE_BUSY, SQLITE_LOCKED):
                break
        handle.finish()


def _index(value):
    if not hasattr(type(value), "__index__"):
        raise TypeError("'%s' object cannot be interpreted as an integer" % _type_name(value))
    return value.__index__()


def _c_int(value):
    if isinstance(value, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    value = _index(value)
    if not -(1 << 31) <= value < (1 << 31):
        raise OverflowError("Python int too large to convert to C int")
    return value


# ------------------------------------------------------------ blobs
class Blob:
    """An incremental-I/O handle on one BLOB (`Connection.blobopen`)."""

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'sqlite3.Blob' instances")

    __hash__ = None

    def __iter__(self):
        raise TypeError("'sqlite3.Blob' object is not iterable")

    def _check(self):
        self._connection._check()
        if self._handle is None:
            raise ProgrammingError("Cannot operate on a closed blob.")
        return self._handle

    def close(self):
        self._connection._check()
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()

    def _read(self, length, offset):
        try:
            return self._handle.read(offset, length)
        except Error as exc:
            raise _blob_error(exc) from None

    def _write(self, data, offset):
        if len(data) > self._handle.size() - offset:
            raise ValueError("data longer than blob length")
        try:
            self._handle.write(offset, data)
        except Error as exc:
            raise _blob_error(exc) from None

    def read(self, length=-1, /):
        handle = self._check()
        length = _c_int(length)
        available = handle.size() - self._offset
        if length < 0 or length > available:
            length = available
        if length == 0:
            return b""
        data = self._read(length, self._offset)
        self._offset += length
        return data

    def write(self, data, /):
        self._check()
        data = _blob_bytes(data)
        self._write(data, self._offset)
        self._offset += len(data)

    def seek(self, offset, origin=0, /):
        handle = self._check()
        offset, origin = _c_int(offset), _c_int(origin)
        size = handle.size()
        if origin == 1:
            if offset > (1 << 31) - 1 - self._offset:
                raise OverflowError("seek offset results in overflow")
            offset += self._offset
        elif origin == 2:
            if offset > (1 << 31) - 1 - size:
                raise OverflowError("seek offset results in overflow")
            offset += size
        elif origin != 0:
            raise ValueError("'origin' should be os.SEEK_SET, os.SEEK_CUR, or os.SEEK_END")
        if offset < 0 or offset > size:
            raise ValueError("offset out of blob range")
        self._offset = offset

    def tell(self):
        self._check()
        return self._offset

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *args):
        self._check()
        self.close()
        return False

    def __len__(self):
        return self._check().size()

    def _position(self, item):
        i = _index(item)
        if not -_sys.maxsize - 1 <= i <= _sys.maxsize:
            raise IndexError("cannot fit '%s' into an index-sized integer" % _type_name(item))
        size = self._handle.size()
        if i < 0:
            i += size
        if i < 0 or i >= size:
            raise IndexError("Blob index out of range")
        return i

    def __getitem__(self, item):
        handle = self._check()
        if hasattr(type(item), "__index__"):
            return self._read(1, self._position(item))[0]
        if isinstance(item, slice):
            start, stop, step = item.indices(handle.size())
            if len(range(start, stop, step)) <= 0:
                return b""
            if step == 1:
                return self._read(stop - start, start)
            return self._read(stop - start, start)[::step]
        raise TypeError("Blob indices must be integers")

    def __setitem__(self, item, value):
        handle = self._check()
        if hasattr(type(item), "__index__"):
            i = self._position(item)
            value = _index(value)
            if not 0 <= value <= 255:
                raise ValueError("byte must be in range(0, 256)")
            self._write(bytes((value,)), i)
            return
        if isinstance(item, slice):
            start, stop, step = item.indices(handle.size())
            length = len(range(start, stop, step))
            data = _blob_bytes(value)
            if len(data) != length:
                raise IndexError("Blob slice assignment is wrong size")
            if length == 0:
                return
            if step == 1:
                self._write(data, start)
            else:
                current = bytearray(self._read(stop - start, start))
                current[::step] = data
                self._write(bytes(current), start)
            return
        raise TypeError("Blob indices must be integers")

    def __delitem__(self, item):
        self._check()
        raise TypeError("Blob doesn't support item deletion")


def _blob_bytes(data):
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'" % _type_name(data)) from None
    if not view.c_contiguous:
        raise BufferError("underlying buffer is not C-contiguous")
    return view.tobytes()


def _blob_error(exc):
    if exc.sqlite_errorcode is not None and exc.sqlite_errorcode & 0xFF == SQLITE_ABORT:
        return OperationalError("Cannot operate on an expired blob handle")
    return exc
