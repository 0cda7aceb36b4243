# The application-level half of the mixed module `_sqlite3`: CPython 3.11's
# _sqlite3 over the host's libsqlite3. This file: the module's constants,
# exceptions, adapters and the dispatch of Python callbacks sqlite calls;
# app_connection.py: Connection, Blob; app_cursor.py: Cursor, Row,
# connect(). The three run as one namespace. The Rust half provides _open
# (-> _Db), _Db (prepare, executescript, callbacks, blobs, backup, ...) and
# _Stmt (run/fetch/reset), and drives sqlite's steps through _dispatch.

import os as _os
import sys as _sys

PARSE_DECLTYPES = 1
PARSE_COLNAMES = 2
# sqlite3_threadsafe()'s mode 1 (serialized), as CPython 3.11 maps it.
threadsafety = 3
# The module's own version, which CPython 3.11's sqlite3.dbapi2 reads.
version = "2.6.0"
_BATCH = 256

# Every SQLITE_* constant of CPython 3.11's _sqlite3 (values from sqlite3.h).
SQLITE_ABORT = 4
SQLITE_ABORT_ROLLBACK = 516
SQLITE_ALTER_TABLE = 26
SQLITE_ANALYZE = 28
SQLITE_ATTACH = 24
SQLITE_AUTH = 23
SQLITE_AUTH_USER = 279
SQLITE_BUSY = 5
SQLITE_BUSY_RECOVERY = 261
SQLITE_BUSY_SNAPSHOT = 517
SQLITE_BUSY_TIMEOUT = 773
SQLITE_CANTOPEN = 14
SQLITE_CANTOPEN_CONVPATH = 1038
SQLITE_CANTOPEN_DIRTYWAL = 1294
SQLITE_CANTOPEN_FULLPATH = 782
SQLITE_CANTOPEN_ISDIR = 526
SQLITE_CANTOPEN_NOTEMPDIR = 270
SQLITE_CANTOPEN_SYMLINK = 1550
SQLITE_CONSTRAINT = 19
SQLITE_CONSTRAINT_CHECK = 275
SQLITE_CONSTRAINT_COMMITHOOK = 531
SQLITE_CONSTRAINT_FOREIGNKEY = 787
SQLITE_CONSTRAINT_FUNCTION = 1043
SQLITE_CONSTRAINT_NOTNULL = 1299
SQLITE_CONSTRAINT_PINNED = 2835
SQLITE_CONSTRAINT_PRIMARYKEY = 1555
SQLITE_CONSTRAINT_ROWID = 2579
SQLITE_CONSTRAINT_TRIGGER = 1811
SQLITE_CONSTRAINT_UNIQUE = 2067
SQLITE_CONSTRAINT_VTAB = 2323
SQLITE_CORRUPT = 11
SQLITE_CORRUPT_INDEX = 779
SQLITE_CORRUPT_SEQUENCE = 523
SQLITE_CORRUPT_VTAB = 267
SQLITE_CREATE_INDEX = 1
SQLITE_CREATE_TABLE = 2
SQLITE_CREATE_TEMP_INDEX = 3
SQLITE_CREATE_TEMP_TABLE = 4
SQLITE_CREATE_TEMP_TRIGGER = 5
SQLITE_CREATE_TEMP_VIEW = 6
SQLITE_CREATE_TRIGGER = 7
SQLITE_CREATE_VIEW = 8
SQLITE_CREATE_VTABLE = 29
SQLITE_DELETE = 9
SQLITE_DENY = 1
SQLITE_DETACH = 25
SQLITE_DONE = 101
SQLITE_DROP_INDEX = 10
SQLITE_DROP_TABLE = 11
SQLITE_DROP_TEMP_INDEX = 12
SQLITE_DROP_TEMP_TABLE = 13
SQLITE_DROP_TEMP_TRIGGER = 14
SQLITE_DROP_TEMP_VIEW = 15
SQLITE_DROP_TRIGGER = 16
SQLITE_DROP_VIEW = 17
SQLITE_DROP_VTABLE = 30
SQLITE_EMPTY = 16
SQLITE_ERROR = 1
SQLITE_ERROR_MISSING_COLLSEQ = 257
SQLITE_ERROR_RETRY = 513
SQLITE_ERROR_SNAPSHOT = 769
SQLITE_FORMAT = 24
SQLITE_FULL = 13
SQLITE_FUNCTION = 31
SQLITE_IGNORE = 2
SQLITE_INSERT = 18
SQLITE_INTERNAL = 2
SQLITE_INTERRUPT = 9
SQLITE_IOERR = 10
SQLITE_IOERR_ACCESS = 3338
SQLITE_IOERR_AUTH = 7178
SQLITE_IOERR_BEGIN_ATOMIC = 7434
SQLITE_IOERR_BLOCKED = 2826
SQLITE_IOERR_CHECKRESERVEDLOCK = 3594
SQLITE_IOERR_CLOSE = 4106
SQLITE_IOERR_COMMIT_ATOMIC = 7690
SQLITE_IOERR_CONVPATH = 6666
SQLITE_IOERR_CORRUPTFS = 8458
SQLITE_IOERR_DATA = 8202
SQLITE_IOERR_DELETE = 2570
SQLITE_IOERR_DELETE_NOENT = 5898
SQLITE_IOERR_DIR_CLOSE = 4362
SQLITE_IOERR_DIR_FSYNC = 1290
SQLITE_IOERR_FSTAT = 1802
SQLITE_IOERR_FSYNC = 1034
SQLITE_IOERR_GETTEMPPATH = 6410
SQLITE_IOERR_LOCK = 3850
SQLITE_IOERR_MMAP = 6154
SQLITE_IOERR_NOMEM = 3082
SQLITE_IOERR_RDLOCK = 2314
SQLITE_IOERR_READ = 266
SQLITE_IOERR_ROLLBACK_ATOMIC = 7946
SQLITE_IOERR_SEEK = 5642
SQLITE_IOERR_SHMLOCK = 5130
SQLITE_IOERR_SHMMAP = 5386
SQLITE_IOERR_SHMOPEN = 4618
SQLITE_IOERR_SHMSIZE = 4874
SQLITE_IOERR_SHORT_READ = 522
SQLITE_IOERR_TRUNCATE = 1546
SQLITE_IOERR_UNLOCK = 2058
SQLITE_IOERR_VNODE = 6922
SQLITE_IOERR_WRITE = 778
SQLITE_LIMIT_ATTACHED = 7
SQLITE_LIMIT_COLUMN = 2
SQLITE_LIMIT_COMPOUND_SELECT = 4
SQLITE_LIMIT_EXPR_DEPTH = 3
SQLITE_LIMIT_FUNCTION_ARG = 6
SQLITE_LIMIT_LENGTH = 0
SQLITE_LIMIT_LIKE_PATTERN_LENGTH = 8
SQLITE_LIMIT_SQL_LENGTH = 1
SQLITE_LIMIT_TRIGGER_DEPTH = 10
SQLITE_LIMIT_VARIABLE_NUMBER = 9
SQLITE_LIMIT_VDBE_OP = 5
SQLITE_LIMIT_WORKER_THREADS = 11
SQLITE_LOCKED = 6
SQLITE_LOCKED_SHAREDCACHE = 262
SQLITE_LOCKED_VTAB = 518
SQLITE_MISMATCH = 20
SQLITE_MISUSE = 21
SQLITE_NOLFS = 22
SQLITE_NOMEM = 7
SQLITE_NOTADB = 26
SQLITE_NOTFOUND = 12
SQLITE_NOTICE = 27
SQLITE_NOTICE_RECOVER_ROLLBACK = 539
SQLITE_NOTICE_RECOVER_WAL = 283
SQLITE_OK = 0
SQLITE_OK_LOAD_PERMANENTLY = 256
SQLITE_OK_SYMLINK = 512
SQLITE_PERM = 3
SQLITE_PRAGMA = 19
SQLITE_PROTOCOL = 15
SQLITE_RANGE = 25
SQLITE_READ = 20
SQLITE_READONLY = 8
SQLITE_READONLY_CANTINIT = 1288
SQLITE_READONLY_CANTLOCK = 520
SQLITE_READONLY_DBMOVED = 1032
SQLITE_READONLY_DIRECTORY = 1544
SQLITE_READONLY_RECOVERY = 264
SQLITE_READONLY_ROLLBACK = 776
SQLITE_RECURSIVE = 33
SQLITE_REINDEX = 27
SQLITE_ROW = 100
SQLITE_SAVEPOINT = 32
SQLITE_SCHEMA = 17
SQLITE_SELECT = 21
SQLITE_TOOBIG = 18
SQLITE_TRANSACTION = 22
SQLITE_UPDATE = 23
SQLITE_WARNING = 28
SQLITE_WARNING_AUTOINDEX = 284

# Result codes by number (CPython's error_codes table), for sqlite_errorname.
_ERROR_PREFIXES = ("SQLITE_ABORT", "SQLITE_AUTH", "SQLITE_BUSY", "SQLITE_CANTOPEN",
                   "SQLITE_CONSTRAINT", "SQLITE_CORRUPT", "SQLITE_DONE", "SQLITE_EMPTY",
                   "SQLITE_ERROR", "SQLITE_FORMAT", "SQLITE_FULL", "SQLITE_INTERNAL",
                   "SQLITE_INTERRUPT", "SQLITE_IOERR", "SQLITE_LOCKED", "SQLITE_MISMATCH",
                   "SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_NOMEM", "SQLITE_NOTADB",
                   "SQLITE_NOTFOUND", "SQLITE_NOTICE", "SQLITE_OK", "SQLITE_PERM",
                   "SQLITE_PROTOCOL", "SQLITE_RANGE", "SQLITE_READONLY", "SQLITE_ROW",
                   "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_WARNING")
_ERROR_NAMES = {}
for _name, _value in sorted(globals().items()):
    if _name.startswith(_ERROR_PREFIXES) and not _name.startswith("SQLITE_LIMIT"):
        if _name.split("_")[1] in {p.split("_")[1] for p in _ERROR_PREFIXES}:
            _ERROR_NAMES.setdefault(_value, _name)
_ERROR_NAMES[0] = "SQLITE_OK"
del _name, _value


class Warning(Exception):
    pass


class Error(Exception):
    pass


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


def _db_error(code, message):
    cls = _ERROR_CLASSES.get(code & 0xFF, DatabaseError)
    if cls is MemoryError:
        return MemoryError()
    exc = cls(message)
    exc.sqlite_errorcode = code
    exc.sqlite_errorname = _ERROR_NAMES.get(code, "SQLITE_UNKNOWN")
    return exc


def _unsupported(index, value):
    return ProgrammingError("Error binding parameter %d: type '%s' is not supported"
                            % (index, type(value).__name__))


class _BadText(bytes):
    """TEXT that is not UTF-8, as its bytes (the host's text-bytes)."""


class PrepareProtocol:
    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError("PrepareProtocol() takes no arguments")


adapters = {}
converters = {}
# register_adapter() for a type CPython binds without adapting (int, float,
# str, bytearray): from then on every parameter is adapted.
_base_type_adapted = False


def register_adapter(type, adapter, /):
    global _base_type_adapted
    if type in (int, float, str, bytearray):
        _base_type_adapted = True
    adapters[(type, PrepareProtocol)] = adapter


def register_converter(typename, converter, /):
    if not isinstance(typename, str):
        raise TypeError("register_converter() argument 1 must be str, not %s"
                        % type(typename).__name__)
    converters[typename.upper()] = converter


_NO_ALT = object()


def adapt(obj, proto=PrepareProtocol, alt=_NO_ALT, /):
    adapter = adapters.get((type(obj), proto))
    if adapter is not None:
        return adapter(obj)
    for target, method in ((proto, "__adapt__"), (obj, "__conform__")):
        func = getattr(target, method, None)
        if func is None:
            continue
        try:
            adapted = func(obj if method == "__adapt__" else proto)
        except TypeError:
            continue
        if adapted is not None:
            return adapted
    if alt is not _NO_ALT:
        return alt
    raise ProgrammingError("can't adapt")


_EXACT = (int, float, str, bytearray)


def _adapt_param(value):
    if not _base_type_adapted and type(value) in _EXACT:
        return value
    return adapt(value, PrepareProtocol, value)


_tracebacks = False


def enable_callback_tracebacks(enable, /):
    global _tracebacks
    _tracebacks = bool(int(enable)) if not isinstance(enable, bool) else enable


def enable_shared_cache(enable):
    import warnings
    warnings.warn("enable_shared_cache is deprecated and will be removed in Python 3.12. "
                  "Shared cache is strongly discouraged by the SQLite 3 documentation. "
                  "If shared cache must be used, open the database in URI mode using"
                  "the cache=shared query parameter.", DeprecationWarning, stacklevel=2)
    # sqlite3_enable_shared_cache is process-wide: the sandbox leaves it be.


def complete_statement(statement):
    if not isinstance(statement, str):
        raise TypeError("complete_statement() argument 'statement' must be str, not %s"
                        % type(statement).__name__)
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


# ------------------------------------------------ callbacks sqlite calls
# The callables of every connection by the number the host knows them by,
# and the running aggregate instances by the host's instance number.
_callables = {}
_instances = {}
_next_id = 0


def _register(callable):
    global _next_id
    _next_id += 1
    _callables[_next_id] = callable
    return _next_id


def _print_or_clear(exc, obj):
    if _tracebacks:
        _write_unraisable(exc, obj)


def _failed(exc, obj, message):
    """A callback raised: the answer sqlite gets (CPython's set_sqlite_error)."""
    _print_or_clear(exc, obj)
    if isinstance(exc, MemoryError):
        return (2, None)
    if isinstance(exc, OverflowError):
        return (3, None)
    return (1, message)


def _result(value):
    """What a function returns, checked as CPython's _pysqlite_set_result."""
    if value is None or isinstance(value, (int, float)):
        if isinstance(value, int) and not -(1 << 63) <= value < (1 << 63):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return float(value) if isinstance(value, float) else (None if value is None else int(value))
    if isinstance(value, str):
        value.encode()
        return str(value)
    try:
        view = memoryview(value)
    except TypeError:
        raise ProgrammingError("User-defined functions cannot return '%s' values to SQLite"
                               % type(value).__name__) from None
    if not view.c_contiguous:
        raise BufferError("underlying buffer is not C-contiguous")
    return view.tobytes()


_INT64 = 1 << 63


def _aggregate_call(cls, instance, method, args, create):
    obj = _instances.get(instance)
    if obj is None:
        if not create:
            return (0, None)
        try:
            obj = _instances[instance] = cls()
        except BaseException as exc:
            return _failed(exc, cls, "user-defined aggregate's '__init__' method raised error")
    try:
        bound = getattr(obj, method)
    except BaseException as exc:
        return _failed(exc, cls, "user-defined aggregate's '%s' method not defined" % method)
    try:
        result = bound(*args)
    except BaseException as exc:
        return _failed(exc, cls, "user-defined aggregate's '%s' method raised error" % method)
    if method != "value":
        return (0, None)
    try:
        return (0, _result(result))
    except BaseException as exc:
        return _failed(exc, cls,
                       "unable to set result from user-defined aggregate's 'value' method")


def _finalize(cls, instance):
    obj = _instances.pop(instance, None)
    if obj is None:
        return (0, None)
    try:
        return (0, _result(obj.finalize()))
    except BaseException as exc:
        why = "not defined" if isinstance(exc, AttributeError) else "raised error"
        return _failed(exc, cls, "user-defined aggregate's 'finalize' method %s" % why)


def _authorize(func, args):
    try:
        rc = func(*args)
    except BaseException as exc:
        _print_or_clear(exc, func)
        return (0, SQLITE_DENY)
    if not isinstance(rc, int):
        return (0, SQLITE_DENY)
    if not -(1 << 31) <= rc < (1 << 31):
        _print_or_clear(OverflowError("Python int too large to convert to C int"), func)
        return (0, SQLITE_DENY)
    return (0, int(rc))


def _progress(func):
    try:
        return (0, 1 if func() else 0)
    except BaseException as exc:
        _print_or_clear(exc, func)
        return (0, 1)


def _trace(func, args):
    if len(args) > 1:
        _print_or_clear(DataError("Expanded SQL string exceeds the maximum string length"), func)
    try:
        func(args[0])
    except BaseException as exc:
        _print_or_clear(exc, func)
    return (0, None)


def _collate(func, args):
    try:
        result = func(*args)
        if not isinstance(result, int):
            return (0, 0)
        return (0, (result > 0) - (result < 0))
    except BaseException:
        return (0, 0)


def _dispatch(kind, id, instance, args):
    """sqlite called the guest's callable `id` (kind: the order of
    callback-kind in wit/sqlite.wit). Answers (0, value), (1, message),
    (2, None) for MemoryError or (3, None) for a result too big."""
    target = _callables.get(id)
    if target is None:
        return (1, "the Python callback is gone")
    if kind == 0:
        # The common case first: a plain result goes back as it is.
        try:
            value = target(*args)
        except BaseException as exc:
            return _failed(exc, target, "user-defined function raised exception")
        kind = type(value)
        if value is None or kind is float or kind is bytes or kind is str and value.isascii() \
                or kind is int and -_INT64 <= value < _INT64:
            return (0, value)
        try:
            return (0, _result(value))
        except BaseException as exc:
            return _failed(exc, target, "user-defined function raised exception")
    if kind == 1:
        return _aggregate_call(target, instance, "step", args, True)
    if kind == 2:
        return _finalize(target, instance)
    if kind == 3:
        return _aggregate_call(target, instance, "value", args, False)
    if kind == 4:
        return _aggregate_call(target, instance, "inverse", args, True)
    if kind == 5:
        return _collate(target, args)
    if kind == 6:
        return _authorize(target, args)
    if kind == 7:
        return _progress(target)
    return _trace(target, args)
