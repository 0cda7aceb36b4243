# Hostile use of the sqlite3 callback and blob machinery: every attack gets a
# clear Python exception (or sqlite's own error), the host never panics and
# the sandbox's own refusals hold whatever the guest's callbacks answer.
# Prints `OK sqlite_hostile`. Run with --max-sqlite-memory 32MiB.
import sqlite3
import _sqlite3


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %r%r" % (exc.__name__, fn, args))


con = sqlite3.connect(":memory:")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(10)])

# The Rust handles cannot be made from Python.
raises(TypeError, _sqlite3._Db)
raises(TypeError, _sqlite3._Stmt)
raises(TypeError, sqlite3.Blob)

# A function that runs SQL on its own connection, nested without end: the
# host refuses past its nesting limit; every level sees a clear error.
def deeper(n):
    return con.execute("select deeper(?)", (n + 1,)).fetchone()[0]


con.create_function("deeper", 1, deeper)
e = raises(sqlite3.OperationalError, con.execute, "select deeper(0)")
assert "user-defined function raised exception" in str(e), e

# The same statement stepped again from inside its own callback.
cur = con.cursor()


def restep(x):
    return cur.execute("select restep(x) from t").fetchone()[0]


con.create_function("restep", 1, restep)
raises(sqlite3.Error, cur.execute, "select restep(x) from t")

# Closing, deserializing or backing up the connection from inside one of its
# callbacks is refused (the callback raises; sqlite gets its error).
seen = []


def closer(x):
    for action in (con.close, lambda: con.deserialize(b""), lambda: con.backup(sqlite3.connect(":memory:"))):
        try:
            action()
        except Exception as exc:
            seen.append(type(exc).__name__)
    return x


con.create_function("closer", 1, closer)
assert con.execute("select closer(x) from t").fetchall() == [(i,) for i in range(10)]
assert len(seen) == 30 and con.execute("select 1").fetchone() == (1,), seen

# The guest's authorizer cannot allow what the sandbox refuses.
con.set_authorizer(lambda *args: sqlite3.SQLITE_OK)
e = raises(sqlite3.DatabaseError, con.execute, "select fts3_tokenizer('simple')")
assert "refused" in str(e) or "not authorized" in str(e), e
e = raises(sqlite3.DatabaseError, con.execute, "pragma hard_heap_limit = 1")
con.set_authorizer(None)

# Big values within the 32 MiB budget: a function returning 64 MiB, a huge
# zeroblob, a deserialize bomb: MemoryError or DataError, never a crash.
con.create_function("big", 0, lambda: b"x" * (64 << 20))
raises((MemoryError, sqlite3.DataError, sqlite3.OperationalError), con.execute, "select big()")
raises((MemoryError, sqlite3.DataError), con.execute, "select zeroblob(1500000000)")
raises((MemoryError, sqlite3.DatabaseError), con.deserialize, b"\0" * (48 << 20))
con.close()

# Blob handles used behind app.py's back: offsets and lengths out of range.
con = sqlite3.connect(":memory:")
con.execute("create table b(d)")
con.execute("insert into b values (zeroblob(16))")
blob = con.blobopen("b", "d", 1)
raw = blob._handle
for args in ((-5, 10), (0, 2**31 - 1), (15, 2)):
    raises(Exception, raw.read, *args)
for offset in (-1, 16, 2**31 - 1):
    raises(Exception, raw.write, offset, b"xy")
assert blob.read() == b"\0" * 16
blob.close()
raises(Exception, raw.read, 0, 1)
raises(sqlite3.ProgrammingError, blob.read)
con.close()
raises(sqlite3.ProgrammingError, con.blobopen, "b", "d", 1)
# A backup to a closed connection; a forged target type.
src = sqlite3.connect(":memory:")
raises(sqlite3.ProgrammingError, src.backup, con)
raises(TypeError, src.backup, "target.db")
print("OK sqlite_hostile")
