# DB-API 2.0 details of sqlite3 as CPython has them, in memory.
import sqlite3

assert sqlite3.apilevel == "2.0" and sqlite3.paramstyle == "qmark"
assert sqlite3.sqlite_version_info >= (3, 7, 15), sqlite3.sqlite_version
for name in ["Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
             "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
             "NotSupportedError"]:
    assert hasattr(sqlite3, name), name
assert issubclass(sqlite3.IntegrityError, sqlite3.DatabaseError)
assert issubclass(sqlite3.DatabaseError, sqlite3.Error)
assert issubclass(sqlite3.InterfaceError, sqlite3.Error)
assert issubclass(sqlite3.Error, Exception)

con = sqlite3.connect(":memory:")
assert isinstance(con, sqlite3.Connection)
cur = con.cursor()
assert isinstance(cur, sqlite3.Cursor)
assert cur.description is None and cur.rowcount == -1 and cur.lastrowid is None
cur.execute("CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB, n)")
assert cur.description is None

# Type mapping both ways.
values = (2 ** 62, 1.5, "héllo ✓", b"\x00\xff", None)
cur.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", values)
assert cur.rowcount == 1 and cur.lastrowid == 1
row = cur.execute("SELECT * FROM t").fetchone()
assert row == values, row
assert [type(v) for v in row] == [int, float, str, bytes, type(None)]
assert cur.description[0] == ("i", None, None, None, None, None, None)
assert [d[0] for d in cur.description] == ["i", "f", "s", "b", "n"]
cur.execute("INSERT INTO t (i, b) VALUES (?, ?)", (-1, bytearray(b"ab")))
cur.execute("INSERT INTO t (i, b) VALUES (?, ?)", (True, memoryview(b"cd")))
assert cur.execute("SELECT b FROM t WHERE i = -1").fetchone() == (b"ab",)
assert cur.execute("SELECT b FROM t WHERE i = 1").fetchone() == (b"cd",)
try:
    cur.execute("SELECT ?", (2 ** 64,))
except OverflowError:
    pass
else:
    raise AssertionError("2**64 bound")

# Named and numbered parameters.
assert con.execute("SELECT :a + :b", {"a": 1, "b": 2}).fetchone() == (3,)
assert con.execute("SELECT ?2, ?1", ("x", "y")).fetchone() == ("y", "x")
try:
    con.execute("SELECT :a", {"b": 1})
except sqlite3.ProgrammingError as e:
    assert "a" in str(e)
else:
    raise AssertionError("missing named parameter")

# Iteration, fetchmany, arraysize, many rows (crossing in batches).
con.execute("CREATE TABLE seq (x INTEGER)")
con.executemany("INSERT INTO seq VALUES (?)", ((i,) for i in range(1000)))
assert con.in_transaction
con.commit()
cur = con.execute("SELECT x FROM seq ORDER BY x")
assert cur.fetchone() == (0,)
assert cur.fetchmany(3) == [(1,), (2,), (3,)]
cur.arraysize = 2
assert cur.fetchmany() == [(4,), (5,)]
rest = [x for (x,) in cur]
assert rest == list(range(6, 1000)), rest[:5]
assert cur.fetchone() is None and cur.fetchall() == []
assert sum(x for (x,) in con.execute("SELECT x FROM seq")) == sum(range(1000))
# Two cursors on the same statement at once.
c1 = con.execute("SELECT x FROM seq WHERE x < 3 ORDER BY x")
c2 = con.execute("SELECT x FROM seq WHERE x < 3 ORDER BY x")
assert c1.fetchone() == (0,) and c2.fetchall() == [(0,), (1,), (2,)] and c1.fetchall() == [(1,), (2,)]

# Implicit transactions (CPython's default: BEGIN before DML).
assert not con.in_transaction
con.execute("INSERT INTO seq VALUES (-1)")
assert con.in_transaction
con.rollback()
assert con.execute("SELECT count(*) FROM seq WHERE x < 0").fetchone() == (0,)
con.isolation_level = None
con.execute("INSERT INTO seq VALUES (-1)")
assert not con.in_transaction
con.isolation_level = ""
con.execute("DELETE FROM seq WHERE x < 0")
assert con.in_transaction
con.commit()

# executescript commits first and runs several statements.
con.execute("INSERT INTO seq VALUES (-2)")
con.executescript("CREATE TABLE u (a); INSERT INTO u VALUES (1); INSERT INTO u VALUES (2);")
assert not con.in_transaction
assert con.execute("SELECT count(*) FROM seq WHERE x = -2").fetchone() == (1,)
assert con.execute("SELECT sum(a) FROM u").fetchone() == (3,)

# Row.
con.row_factory = sqlite3.Row
r = con.execute("SELECT 1 AS one, 'two' AS Two").fetchone()
assert isinstance(r, sqlite3.Row)
assert r[0] == 1 and r["one"] == 1 and r["TWO"] == "two" and r[-1] == "two" and r[0:2] == (1, "two")
assert tuple(r) == (1, "two") and len(r) == 2 and r.keys() == ["one", "Two"]
try:
    r["three"]
except IndexError:
    pass
else:
    raise AssertionError("Row['three']")
con.row_factory = lambda cursor, row: {d[0]: v for d, v in zip(cursor.description, row)}
assert con.execute("SELECT 1 AS a").fetchone() == {"a": 1}
con.row_factory = None

# text_factory.
con.text_factory = bytes
assert con.execute("SELECT 'abc'").fetchone() == (b"abc",)
con.text_factory = str

# Adapters and converters.
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

sqlite3.register_adapter(Point, lambda p: "%r;%r" % (p.x, p.y))
sqlite3.register_converter("point", lambda s: Point(*map(float, s.split(b";"))))
con2 = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
con2.execute("CREATE TABLE p (pt point)")
con2.execute("INSERT INTO p VALUES (?)", (Point(1.5, -2.0),))
pt = con2.execute("SELECT pt FROM p").fetchone()[0]
assert isinstance(pt, Point) and (pt.x, pt.y) == (1.5, -2.0)
pt2 = con2.execute('SELECT pt AS "pt [point]" FROM p').fetchone()[0]
assert isinstance(pt2, Point)
con2.close()

# Errors.
def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %r%r" % (exc.__name__, fn, args))

e = raises(sqlite3.OperationalError, con.execute, "SELECT * FROM nowhere")
assert "no such table" in str(e) and e.sqlite_errorcode == 1 and e.sqlite_errorname == "SQLITE_ERROR"
raises(sqlite3.OperationalError, con.execute, "this is not sql")
raises(sqlite3.ProgrammingError, con.execute, "SELECT ?, ?", (1,))
raises(sqlite3.ProgrammingError, con.execute, "SELECT 1; SELECT 2")
raises(sqlite3.ProgrammingError, con.execute, "SELECT 1\0")
raises(sqlite3.ProgrammingError, con.executemany, "SELECT ?", [(1,)])
raises(TypeError, con.execute, 42)
con.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v NOT NULL)")
raises(sqlite3.IntegrityError, con.execute, "INSERT INTO k VALUES (1, NULL)")
con.execute("INSERT INTO k VALUES (1, 1)")
e = raises(sqlite3.IntegrityError, con.execute, "INSERT INTO k VALUES (1, 2)")
assert e.sqlite_errorname == "SQLITE_CONSTRAINT_PRIMARYKEY", e.sqlite_errorname
raises(ValueError, sqlite3.connect, ":memory:", isolation_level="BOGUS")
# A Python function called by sqlite (through the host's suspend/resume steps).
con.create_function("f", 1, abs)
assert con.execute("SELECT f(-3), f(x) FROM (SELECT -4 AS x)").fetchone() == (3, 4)

# Empty statements and comments.
assert con.execute("  -- nothing\n").description is None
assert con.execute("/* c */ SELECT 7").fetchone() == (7,)

# Closed cursor and connection.
c = con.cursor()
c.close()
raises(sqlite3.ProgrammingError, c.execute, "SELECT 1")
con.close()
con.close()
raises(sqlite3.ProgrammingError, con.execute, "SELECT 1")
raises(sqlite3.ProgrammingError, con.commit)

# uri=True with a memory database; a vfs= parameter is refused.
con = sqlite3.connect("file:memdb?mode=memory", uri=True)
assert con.execute("SELECT 1").fetchone() == (1,)
con.close()
try:
    sqlite3.connect("file:/x.db?vfs=unix", uri=True)
except (PermissionError, sqlite3.Error):
    pass
else:
    raise AssertionError("vfs= accepted")

# The stdlib package's extras work on top.
import sqlite3.dump  # noqa: F401
con = sqlite3.connect(":memory:")
con.execute("CREATE TABLE d (x)")
con.execute("INSERT INTO d VALUES (1)")
dump = "\n".join(con.iterdump())
assert "CREATE TABLE d" in dump and "INSERT INTO \"d\" VALUES(1);" in dump, dump
print("OK sqlite_dbapi")
