# A realistic sqlite3 program, unmodified from what it would be on CPython:
# schema, parameterised inserts, transactions, queries, errors. The database
# lives under a preopened directory (argv[1]) and must persist across runs:
# argv[2] is "first" (create) or "second" (reopen and check).
import os
import sqlite3
import sys

DATA = sys.argv[1]
PHASE = sys.argv[2]
DB = os.path.join(DATA, "inventory.db")

if PHASE == "first":
    assert not os.path.exists(DB)
    con = sqlite3.connect(DB)
    con.executescript("""
        CREATE TABLE supplier (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE item (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sku TEXT NOT NULL UNIQUE,
            supplier_id INTEGER REFERENCES supplier(id),
            price REAL CHECK (price >= 0),
            qty INTEGER NOT NULL DEFAULT 0,
            photo BLOB
        );
    """)
    cur = con.cursor()
    cur.execute("INSERT INTO supplier (name) VALUES (?)", ("Acme",))
    acme = cur.lastrowid
    cur.execute("INSERT INTO supplier (name) VALUES (:name)", {"name": "Globex"})
    globex = cur.lastrowid
    assert (acme, globex) == (1, 2), (acme, globex)
    items = [("A-%03d" % i, acme if i % 2 else globex, i * 1.25, i, bytes([i]) * i)
             for i in range(1, 51)]
    cur.executemany("INSERT INTO item (sku, supplier_id, price, qty, photo) VALUES (?, ?, ?, ?, ?)", items)
    assert cur.rowcount == 50, cur.rowcount
    assert con.in_transaction
    con.commit()
    assert not con.in_transaction

    # A transaction rolled back leaves nothing behind.
    cur.execute("UPDATE item SET qty = qty + 100")
    assert cur.rowcount == 50
    assert con.in_transaction
    con.rollback()
    assert con.execute("SELECT max(qty) FROM item").fetchone() == (50,)

    # The context manager commits on success, rolls back on error.
    with con:
        con.execute("UPDATE item SET qty = qty - 1 WHERE sku = ?", ("A-010",))
    try:
        with con:
            con.execute("UPDATE item SET qty = 0 WHERE sku = 'A-011'")
            con.execute("INSERT INTO supplier (name) VALUES ('Acme')")
    except sqlite3.IntegrityError as e:
        assert "UNIQUE" in str(e), e
        assert e.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE", e.sqlite_errorname
    else:
        raise AssertionError("duplicate supplier accepted")
    assert con.execute("SELECT qty FROM item WHERE sku = 'A-011'").fetchone() == (11,)
    assert con.execute("SELECT qty FROM item WHERE sku = 'A-010'").fetchone() == (9,)

    # Queries: joins, aggregates, row factory, iteration.
    con.row_factory = sqlite3.Row
    rows = con.execute("""
        SELECT s.name AS supplier, count(*) AS n, sum(i.qty) AS total, round(avg(i.price), 3) AS avg_price
        FROM item i JOIN supplier s ON s.id = i.supplier_id
        GROUP BY s.name ORDER BY s.name
    """).fetchall()
    assert [r["supplier"] for r in rows] == ["Acme", "Globex"]
    assert rows[0]["n"] == 25 and rows[1]["N"] == 25
    assert rows[0]["total"] == sum(range(1, 51, 2)) - 0 and rows[1]["total"] == sum(range(2, 51, 2)) - 1
    assert rows[0].keys() == ["supplier", "n", "total", "avg_price"]
    con.row_factory = None
    photo = con.execute("SELECT photo FROM item WHERE sku = ?", ("A-003",)).fetchone()[0]
    assert photo == b"\x03\x03\x03" and type(photo) is bytes

    # Errors, with CPython's exception types.
    for sql, params, exc in [
        ("SELEC * FROM item", (), sqlite3.OperationalError),
        ("SELECT * FROM no_such_table", (), sqlite3.OperationalError),
        ("SELECT * FROM item WHERE id = ?", (1, 2), sqlite3.ProgrammingError),
        ("SELECT * FROM item WHERE id = ?", (), sqlite3.ProgrammingError),
        ("INSERT INTO item (sku, price) VALUES ('neg', -1)", (), sqlite3.IntegrityError),
        ("INSERT INTO item (sku) VALUES (NULL)", (), sqlite3.IntegrityError),
        ("SELECT 1; SELECT 2", (), sqlite3.ProgrammingError),
        ("SELECT ?", ([1],), sqlite3.ProgrammingError),
    ]:
        try:
            con.execute(sql, params)
        except exc as e:
            assert isinstance(e, sqlite3.DatabaseError) and isinstance(e, sqlite3.Error)
        else:
            raise AssertionError("no %s for %r" % (exc.__name__, sql))
    con.commit()
    con.close()
    try:
        con.execute("SELECT 1")
    except sqlite3.ProgrammingError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("closed connection still usable")

    # Outside the preopened directory: refused, and nothing is created.
    for outside in ["/etc/wasmffi-test.db", "/tmp/wasmffi-outside.db", DATA + "/../escape.db"]:
        try:
            sqlite3.connect(outside)
        except sqlite3.OperationalError as e:
            assert "outside" in str(e), e
        else:
            raise AssertionError("opened %s outside the sandbox" % outside)
    con = sqlite3.connect(DB)
    for attach in ["/etc/passwd", "/tmp/wasmffi-attach.db"]:
        try:
            con.execute("ATTACH DATABASE ? AS other", (attach,))
        except sqlite3.OperationalError as e:
            assert "unable to open" in str(e), e
        else:
            raise AssertionError("attached %s outside the sandbox" % attach)
    # ATTACH inside the directory works (a guest path).
    con.execute("ATTACH DATABASE ? AS side", (os.path.join(DATA, "side.db"),))
    con.execute("CREATE TABLE side.notes (t TEXT)")
    con.execute("INSERT INTO side.notes VALUES ('attached')")
    con.commit()
    try:
        con.execute("VACUUM INTO '/tmp/wasmffi-vacuum.db'")
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("VACUUM INTO outside the sandbox")
    for sql in ["SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
                "PRAGMA temp_store_directory = '/etc'"]:
        try:
            con.execute(sql)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("allowed: " + sql)
    try:
        con.enable_load_extension(True)
    except (AttributeError, sqlite3.NotSupportedError):
        pass
    else:
        raise AssertionError("load_extension enabled")
    # A symlink the guest makes must not lead out either.
    link = os.path.join(DATA, "link.db")
    try:
        os.symlink("/etc/hostname", link)
    except OSError:
        link = None
    if link:
        try:
            sqlite3.connect(link)
        except sqlite3.OperationalError as e:
            assert "outside" in str(e), e
        else:
            raise AssertionError("followed a symlink out of the sandbox")
    con.close()
    print("OK sqlite_app first")
else:
    assert os.path.exists(DB)
    con = sqlite3.connect(DB)
    assert con.execute("SELECT count(*) FROM item").fetchone() == (50,)
    assert con.execute("SELECT name FROM supplier ORDER BY id").fetchall() == [("Acme",), ("Globex",)]
    assert con.execute("SELECT qty FROM item WHERE sku = 'A-010'").fetchone() == (9,)
    con.execute("ATTACH DATABASE ? AS side", (os.path.join(DATA, "side.db"),))
    assert con.execute("SELECT t FROM side.notes").fetchall() == [("attached",)]
    with con:
        con.execute("DELETE FROM item WHERE qty > ?", (40,))
    assert con.execute("SELECT count(*) FROM item").fetchone() == (40,)
    con.close()
    print("OK sqlite_app second")
