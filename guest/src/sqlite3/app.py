# The application-level half of the mixed module `_sqlite3`: the DB-API 2.0
# as CPython's _sqlite3 gives it, over the host's libsqlite3. The Rust half
# provides _open (-> _Db), _Db.prepare (-> _Stmt), _Stmt.run/fetch/reset.

import os as _os

PARSE_DECLTYPES = 1
PARSE_COLNAMES = 2
LEGACY_TRANSACTION_CONTROL = -1
threadsafety = 1
# The module's own version, which CPython 3.11's sqlite3.dbapi2 reads
# (version_info); 3.12 deprecated it.
version = "2.6.0"
_BATCH = 256

SQLITE_OK = 0
SQLITE_DENY = 1
SQLITE_IGNORE = 2


class Warning(Exception):
    pass


class Error(Exception):
    sqlite_errorcode = None
    sqlite_errorname = None


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


for _cls in (Warning, Error, InterfaceError, DatabaseError, DataError, OperationalError,
             IntegrityError, InternalError, ProgrammingError, NotSupportedError):
    _cls.__module__ = "sqlite3"

# CPython's _pysqlite_seterror: primary result code -> exception class.
_ERROR_CLASSES = {
    2: InternalError, 12: InternalError,          # INTERNAL, NOTFOUND
    7: MemoryError,                               # NOMEM
    1: OperationalError, 3: OperationalError, 4: OperationalError, 5: OperationalError,
    6: OperationalError, 8: OperationalError, 9: OperationalError, 10: OperationalError,
    13: OperationalError, 14: OperationalError, 15: OperationalError, 16: OperationalError,
    17: OperationalError, 23: OperationalError,
    11: DatabaseError,                            # CORRUPT
    18: DataError,                                # TOOBIG
    19: IntegrityError, 20: IntegrityError,       # CONSTRAINT, MISMATCH
    21: InterfaceError, 25: InterfaceError,       # MISUSE, RANGE
}


def _db_error(code, name, message):
    cls = _ERROR_CLASSES.get(code & 0xFF, DatabaseError)
    exc = cls(message)
    if cls is not MemoryError:
        exc.sqlite_errorcode = code
        exc.sqlite_errorname = name
    return exc


def _unsupported(index, value):
    return ProgrammingError("Error binding parameter %d: type '%s' is not supported"
                            % (index, type(value).__name__))


class PrepareProtocol:
    pass


adapters = {}
converters = {}


def register_adapter(type, adapter, /):
    adapters[(type, PrepareProtocol)] = adapter


def register_converter(typename, converter, /):
    converters[typename.upper()] = converter


def adapt(obj, proto=PrepareProtocol, alt=None, /):
    adapter = adapters.get((type(obj), proto))
    if adapter is not None:
        return adapter(obj)
    conform = getattr(obj, "__conform__", None)
    if conform is not None:
        result = conform(proto)
        if result is not None:
            return result
    if alt is not None:
        return alt
    raise ProgrammingError("can't adapt")


_PLAIN = (int, float, str, bytes, type(None), bytearray, memoryview, bool)


def _adapt_param(value):
    if type(value) in _PLAIN:
        return value
    if adapters or hasattr(value, "__conform__"):
        try:
            return adapt(value, PrepareProtocol, value)
        except ProgrammingError:
            return value
    return value


def enable_callback_tracebacks(flag, /):
    pass


def complete_statement(statement):
    return _complete(statement)


def _complete(statement):
    # Good enough for the REPL-style use: a statement ends with ';' outside
    # quotes and comments.
    quote = None
    i = 0
    last = ""
    while i < len(statement):
        ch = statement[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif statement.startswith("--", i):
            j = statement.find("\n", i)
            i = len(statement) if j < 0 else j
            continue
        elif statement.startswith("/*", i):
            j = statement.find("*/", i + 2)
            if j < 0:
                return False
            i = j + 2
            continue
        elif not ch.isspace():
            last = ch
        i += 1
    return quote is None and last == ";"


def _first_word(sql):
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            break
    j = i
    while j < n and (sql[j].isalpha()):
        j += 1
    return sql[i:j].upper()


class _Entry:
    __slots__ = ("stmt", "names", "decltypes", "params", "is_dml", "is_insert")

    def __init__(self, stmt, sql):
        self.stmt = stmt
        if stmt is not None:
            self.names, self.decltypes, self.params, _readonly = stmt.info()
        else:
            self.names, self.decltypes, self.params = (), (), ()
        word = _first_word(sql)
        self.is_dml = word in ("INSERT", "UPDATE", "DELETE", "REPLACE")
        self.is_insert = word in ("INSERT", "REPLACE")


_ISOLATION_LEVELS = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")


def _check_isolation(level):
    if level is None:
        return None
    if not isinstance(level, str):
        raise TypeError("isolation_level must be str or None, not %s" % type(level).__name__)
    if level.upper() not in _ISOLATION_LEVELS:
        raise ValueError("isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or 'EXCLUSIVE'")
    return level


def _guest_path(database, uri):
    path = _os.fspath(database)
    if isinstance(path, bytes):
        path = path.decode()
    if not isinstance(path, str):
        raise TypeError("database must be str, bytes or os.PathLike")
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

    def __init__(self, database, timeout=5.0, detect_types=0, isolation_level="",
                 check_same_thread=True, factory=None, cached_statements=128, uri=False,
                 *, autocommit=LEGACY_TRANSACTION_CONTROL):
        if autocommit not in (True, False, LEGACY_TRANSACTION_CONTROL):
            raise ValueError("autocommit must be True, False, or sqlite3.LEGACY_TRANSACTION_CONTROL")
        self._isolation_level = _check_isolation(isolation_level)
        self._db = None
        self._db = _open(_guest_path(database, uri), max(0, int(timeout * 1000)), bool(uri))
        self.detect_types = detect_types
        self.row_factory = None
        self.text_factory = str
        self._cache = {}
        self._cache_size = cached_statements
        self._autocommit = autocommit
        if autocommit is False:
            self._db.executescript("BEGIN")

    # ---------------------------------------------------------------- state
    def _check(self):
        if self._db is None:
            raise ProgrammingError("Cannot operate on a closed database.")

    @property
    def isolation_level(self):
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, value):
        value = _check_isolation(value)
        if value is None and self._db is not None and self.in_transaction \
                and self._autocommit == LEGACY_TRANSACTION_CONTROL:
            self.commit()
        self._isolation_level = value

    @property
    def autocommit(self):
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value):
        if value not in (True, False, LEGACY_TRANSACTION_CONTROL):
            raise ValueError("autocommit must be True, False, or sqlite3.LEGACY_TRANSACTION_CONTROL")
        self._check()
        if value is True and self.in_transaction:
            self._db.executescript("COMMIT")
        elif value is False and not self.in_transaction:
            self._db.executescript("BEGIN")
        self._autocommit = value

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
        if not isinstance(sql, str):
            raise TypeError("execute() argument 1 must be str, not %s" % type(sql).__name__)
        entry = self._cache.pop(sql, None)
        if entry is not None:
            return entry
        if "\0" in sql:
            raise ProgrammingError("the query contains a null character")
        stmt, more = self._db.prepare(sql)
        if more:
            raise ProgrammingError("You can only execute one statement at a time.")
        return _Entry(stmt, sql)

    def _release(self, sql, entry):
        if self._db is None or entry.stmt is None or self._cache_size <= 0:
            return
        self._cache[sql] = entry
        if len(self._cache) > self._cache_size:
            del self._cache[next(iter(self._cache))]

    def _begin_if_needed(self, entry):
        if (entry.is_dml and self._autocommit == LEGACY_TRANSACTION_CONTROL
                and self._isolation_level is not None and self._db.autocommit()):
            self._db.executescript("BEGIN " + self._isolation_level)

    # ------------------------------------------------------------ DB-API
    def cursor(self, factory=None):
        self._check()
        cursor = (factory or Cursor)(self)
        if not isinstance(cursor, Cursor):
            raise TypeError("factory must return a cursor, not %s" % type(cursor).__name__)
        if self.row_factory is not None and cursor.row_factory is None:
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
        if self._autocommit is True:
            return
        if not self._db.autocommit():
            self._db.executescript("COMMIT")
        if self._autocommit is False:
            self._db.executescript("BEGIN")

    def rollback(self):
        self._check()
        if self._autocommit is True:
            return
        if not self._db.autocommit():
            for entry in self._cache.values():
                entry.stmt.reset()
            self._db.executescript("ROLLBACK")
        if self._autocommit is False:
            self._db.executescript("BEGIN")

    def close(self):
        if self._db is None:
            return
        if self._autocommit is False and self.in_transaction:
            self._db.executescript("ROLLBACK")
        self._cache.clear()
        db, self._db = self._db, None
        db.close()

    def interrupt(self):
        self._check()
        self._db.interrupt()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return False

    def __call__(self, sql):
        raise NotSupportedError("calling a connection is not supported")

    def iterdump(self, *, filter=None):
        from sqlite3.dump import _iterdump
        return _iterdump(self) if filter is None else _iterdump(self, filter=filter)

    def _unsupported(self, *args, **kwargs):
        raise NotSupportedError("not supported by wasmffi's sqlite3 (Python callbacks from sqlite)")

    create_function = create_aggregate = create_window_function = create_collation = _unsupported
    set_authorizer = set_progress_handler = set_trace_callback = backup = blobopen = _unsupported
    serialize = deserialize = _unsupported

    def enable_load_extension(self, enabled, /):
        raise NotSupportedError("extension loading is disabled in the sandbox")

    def load_extension(self, name, /, *, entrypoint=None):
        raise NotSupportedError("extension loading is disabled in the sandbox")

    def getlimit(self, category, /):
        raise NotSupportedError("getlimit is not supported by wasmffi's sqlite3")

    setlimit = getconfig = setconfig = getlimit


def _to_bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


class Cursor:
    def __init__(self, connection):
        if not isinstance(connection, Connection):
            raise TypeError("Cursor needs to be called with a Connection")
        self.connection = connection
        self.arraysize = 1
        self.row_factory = None
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self._closed = False
        self._entry = None
        self._sql = None
        self._rows = []
        self._pos = 0
        self._done = True
        self._converters = None

    def _check(self):
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        self.connection._check()

    def _finish(self):
        entry, self._entry = self._entry, None
        if entry is not None:
            if not self._done:
                entry.stmt.reset()
            self.connection._release(self._sql, entry)
        self._done = True

    def _bind(self, entry, parameters):
        names = entry.params
        if isinstance(parameters, dict) or (
                not isinstance(parameters, (tuple, list, str, bytes))
                and hasattr(parameters, "keys") and hasattr(parameters, "__getitem__")):
            values = []
            for i, name in enumerate(names):
                if name is None or name[0] == "?":
                    raise ProgrammingError("Binding %d has no name, but you supplied a dictionary "
                                           "(which has only names)." % (i + 1))
                key = name[1:]
                try:
                    value = parameters[key]
                except KeyError:
                    raise ProgrammingError("You did not supply a value for binding parameter :%s." % key) from None
                values.append(_adapt_param(value))
            return values
        if isinstance(parameters, (tuple, list)):
            seq = parameters
        else:
            try:
                seq = list(parameters) if hasattr(parameters, "__len__") and hasattr(parameters, "__getitem__") else None
            except TypeError:
                seq = None
            if seq is None:
                raise ProgrammingError("parameters are of unsupported type")
        if len(seq) != len(names):
            raise ProgrammingError("Incorrect number of bindings supplied. The current statement uses %d, "
                                   "and there are %d supplied." % (len(names), len(seq)))
        return [_adapt_param(v) for v in seq]

    def _set_converters(self, entry):
        conn = self.connection
        detect = conn.detect_types
        self._converters = None
        names = entry.names
        if detect and converters:
            found = []
            for i, name in enumerate(names):
                conv = None
                if detect & PARSE_COLNAMES:
                    start = name.find("[")
                    end = name.find("]", start + 1)
                    if start >= 0 and end > start:
                        conv = converters.get(name[start + 1:end].upper())
                if conv is None and detect & PARSE_DECLTYPES and entry.decltypes[i]:
                    decl = entry.decltypes[i].split("(")[0].split(" ")[0]
                    conv = converters.get(decl.upper())
                found.append(conv)
            if any(c is not None for c in found):
                self._converters = found
        if names:
            if detect & PARSE_COLNAMES:
                names = [n.split(" [")[0] for n in names]
            self.description = tuple((n, None, None, None, None, None, None) for n in names)
        else:
            self.description = None

    def execute(self, sql, parameters=(), /):
        self._check()
        self._finish()
        conn = self.connection
        entry = conn._statement(sql)
        self._sql = sql
        self.rowcount = -1
        self._rows = []
        self._pos = 0
        if entry.stmt is None:
            self.description = None
            return self
        try:
            params = self._bind(entry, parameters)
            conn._begin_if_needed(entry)
            rows, done, changes, lastrowid = entry.stmt.run(params, _BATCH)
        except BaseException:
            conn._release(sql, entry)
            raise
        self._entry = entry
        self._done = done
        self._rows = rows
        self._set_converters(entry)
        if entry.is_dml:
            self.rowcount = changes
        if entry.is_insert:
            self.lastrowid = lastrowid
        if done:
            self._finish()
        return self

    def executemany(self, sql, seq_of_parameters, /):
        self._check()
        self._finish()
        conn = self.connection
        entry = conn._statement(sql)
        self._sql = sql
        self._rows = []
        self._pos = 0
        self.description = None
        if entry.stmt is None:
            return self
        if entry.names:
            conn._release(sql, entry)
            raise ProgrammingError("executemany() can only execute DML statements.")
        total = 0
        try:
            for parameters in seq_of_parameters:
                params = self._bind(entry, parameters)
                conn._begin_if_needed(entry)
                _rows, _done, changes, _lastrowid = entry.stmt.run(params, 1)
                total += changes
        finally:
            conn._release(sql, entry)
        self.rowcount = total if entry.is_dml else -1
        return self

    def executescript(self, sql_script, /):
        self._check()
        self._finish()
        if not isinstance(sql_script, str):
            raise ValueError("script argument must be unicode.")
        if "\0" in sql_script:
            raise ProgrammingError("the query contains a null character")
        conn = self.connection
        if conn._autocommit == LEGACY_TRANSACTION_CONTROL and not conn._db.autocommit():
            conn._db.executescript("COMMIT")
        conn._db.executescript(sql_script)
        self.description = None
        self.rowcount = -1
        return self

    def _convert(self, row):
        conn = self.connection
        if conn.text_factory is not str:
            tf = conn.text_factory
            row = tuple(tf(v.encode()) if isinstance(v, str) else v for v in row)
        if self._converters is not None:
            row = tuple(v if c is None or v is None else c(_to_bytes(v))
                        for v, c in zip(row, self._converters))
        factory = self.row_factory
        if factory is not None:
            return factory(self, row)
        return row

    def fetchone(self):
        self._check()
        if self._pos >= len(self._rows):
            if self._done or self._entry is None:
                return None
            rows, done, _changes, _lastrowid = self._entry.stmt.fetch(_BATCH)
            self._rows = rows
            self._pos = 0
            self._done = done
            if done:
                self._finish()
            if not rows:
                return None
        row = self._rows[self._pos]
        self._pos += 1
        return self._convert(row)

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
        if not self._closed:
            if self.connection._db is not None:
                self._finish()
            self._closed = True

    def setinputsizes(self, sizes, /):
        pass

    def setoutputsize(self, size, column=None, /):
        pass


class Row:
    __slots__ = ("_description", "_values", "_keys")

    def __init__(self, cursor, data, /):
        if not isinstance(cursor, Cursor):
            raise TypeError("Row() argument 1 must be sqlite3.Cursor")
        self._values = tuple(data)
        desc = cursor.description or ()
        self._keys = tuple(d[0] for d in desc)

    def keys(self):
        return list(self._keys)

    def __len__(self):
        return len(self._values)

    def __iter__(self):
        return iter(self._values)

    def __getitem__(self, key):
        if isinstance(key, str):
            folded = key.upper()
            for i, k in enumerate(self._keys):
                if k.upper() == folded:
                    return self._values[i]
            raise IndexError("No item with that key")
        return self._values[key]

    def __eq__(self, other):
        if not isinstance(other, Row):
            return NotImplemented
        return self._keys == other._keys and self._values == other._values

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self._keys) ^ hash(self._values)

    def __repr__(self):
        return "<sqlite3.Row object at %#x>" % id(self)


for _cls in (Connection, Cursor, Row, PrepareProtocol):
    _cls.__module__ = "sqlite3"


def connect(database, timeout=5.0, detect_types=0, isolation_level="", check_same_thread=True,
            factory=Connection, cached_statements=128, uri=False, *,
            autocommit=LEGACY_TRANSACTION_CONTROL):
    """Open a connection to the SQLite database file database (a guest path,
    ':memory:' or '')."""
    factory = factory or Connection
    return factory(database, timeout, detect_types, isolation_level, check_same_thread,
                   factory, cached_statements, uri, autocommit=autocommit)


def _sqlite_version():
    db = _open(":memory:", 0, False)
    try:
        stmt, _more = db.prepare("select sqlite_version()")
        rows = stmt.run([], 1)[0]
        return rows[0][0]
    finally:
        db.close()


sqlite_version = _sqlite_version()
sqlite_version_info = tuple(int(x) for x in sqlite_version.split("."))
del _cls
