# Probes of the sqlite3 module that CPython 3.11's test_sqlite3 does not pin
# down: every public name of _sqlite3 (constants with their values), the
# public attributes of its classes, and the exceptions (type and message) of
# common misuse. tests/cpython_sqlite3.rs runs it in the guest and under the
# machine's python3.11 over the same libsqlite3 and wants the same lines.
import sqlite3
import _sqlite3

for name in sorted(n for n in dir(_sqlite3) if not n.startswith("_")):
    value = getattr(_sqlite3, name)
    if isinstance(value, (int, str)):
        print("module", name, repr(value))
    elif isinstance(value, type):
        print("module", name, "class", value.__module__, value.__name__)
    else:
        # Builtins in CPython, Python functions in the guest: compared by name.
        print("module", name, "callable" if callable(value) else type(value).__name__)
for cls in (sqlite3.Connection, sqlite3.Cursor, sqlite3.Row, sqlite3.Blob):
    print(cls.__name__, cls.__module__, sorted(n for n in dir(cls) if not n.startswith("_")))

con = sqlite3.connect(":memory:")
con.execute("create table t(a primary key, b not null)")
con.execute("insert into t values (1, 2)")
blob_con = sqlite3.connect(":memory:")
blob_con.execute("create table b(d)")
blob_con.execute("insert into b values (zeroblob(8))")
blob = blob_con.blobopen("b", "d", 1)


def probe(label, fn):
    try:
        result = fn()
    except Exception as e:
        extra = ""
        if isinstance(e, sqlite3.Error):
            extra = " %s %s" % (getattr(e, "sqlite_errorcode", "-"), getattr(e, "sqlite_errorname", "-"))
        print(label, "->", type(e).__name__, str(e) + extra)
    else:
        print(label, "=", repr(result) if not isinstance(result, sqlite3.Cursor) else "cursor")


cases = [
    ("syntax", lambda: con.execute("selec 1")),
    ("no table", lambda: con.execute("select * from nowhere")),
    ("unique", lambda: con.execute("insert into t values (1, 3)")),
    ("not null", lambda: con.execute("insert into t values (5, null)")),
    ("bindings", lambda: con.execute("select ?", (1, 2))),
    ("named in seq", lambda: con.execute("select :a", {"b": 1})),
    ("bad param", lambda: con.execute("select ?", (object(),))),
    ("bad params", lambda: con.execute("select ?", 42)),
    ("two statements", lambda: con.execute("select 1; select 2")),
    ("null char", lambda: con.execute("select 1\0")),
    ("not str", lambda: con.execute(b"select 1")),
    ("many select", lambda: con.executemany("select ?", [(1,)])),
    ("script bytes", lambda: con.executescript(b"select 1")),
    ("big int", lambda: con.execute("select ?", (1 << 70,))),
    ("getlimit", lambda: con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)),
    ("getlimit bad", lambda: con.getlimit(1000)),
    ("setlimit", lambda: con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1 << 20)),
    ("isolation bad", lambda: setattr(con, "isolation_level", "BOGUS")),
    ("isolation type", lambda: setattr(con, "isolation_level", 1)),
    ("function narg", lambda: con.create_function("f", -2, abs)),
    ("window narg", lambda: con.create_window_function("w", -2, object)),
    ("collation callable", lambda: con.create_collation("c", 1)),
    ("backup self", lambda: con.backup(con)),
    ("backup type", lambda: con.backup("x")),
    ("serialize bad", lambda: con.serialize(name="nowhere")),
    ("deserialize str", lambda: con.deserialize("x")),
    ("blobopen no row", lambda: blob_con.blobopen("b", "d", 99)),
    ("blobopen no table", lambda: blob_con.blobopen("x", "d", 1)),
    ("blob len", lambda: len(blob)),
    ("blob seek", lambda: blob.seek(99)),
    ("blob seek origin", lambda: blob.seek(0, 7)),
    ("blob write long", lambda: blob.write(b"x" * 9)),
    ("blob item", lambda: blob[8]),
    ("blob item type", lambda: blob["a"]),
    ("blob set byte", lambda: blob.__setitem__(0, 256)),
    ("blob slice size", lambda: blob.__setitem__(slice(0, 2), b"abc")),
    ("blob iter", lambda: iter(blob)),
    ("row type", lambda: sqlite3.Row(1, ())),
    ("adapt", lambda: sqlite3.adapt(object())),
    ("complete", lambda: [sqlite3.complete_statement(s) for s in ("select 1", "select 1;", "'a;", "/* x */;")]),
    ("register converter", lambda: sqlite3.register_converter(1, int)),
    ("call conn", lambda: type(con("select 1")).__name__),
    ("call conn bytes", lambda: con(b"select 1")),
    ("rowcount select", lambda: con.execute("select 1").rowcount),
    ("rowcount insert", lambda: con.execute("insert into t values (7, 8)").rowcount),
    ("lastrowid", lambda: con.execute("insert into t values (9, 9)").lastrowid),
    ("description", lambda: con.execute("select 1 as x, 'a' as [y z]").description),
    ("total changes", lambda: con.total_changes),
    ("in transaction", lambda: con.in_transaction),
    ("cursor factory", lambda: con.cursor(factory=lambda c: 1)),
    ("closed", lambda: (con.close(), con.execute("select 1"))),
    ("closed cursor", lambda: con.cursor()),
]
for label, fn in cases:
    probe(label, fn)
