# Attacks on the host through SQL alone: host pointers out (fts3_tokenizer
# with one argument returns the address of a host function table), host
# pointers in (with two arguments it registers a guest-chosen one, which the
# host then calls through: Debian's libsqlite3 accepts it from a literal, and
# any sqlite from a bound parameter), extension loading, and pragmas that
# undo the confinement or change the whole process.
import sqlite3

c = sqlite3.connect("/data/p.db")
refused = []


def must_fail(sql, params=(), why=("not authorized",)):
    try:
        rows = c.execute(sql, params).fetchall()
    except sqlite3.DatabaseError as e:
        assert any(w in str(e) for w in why), (sql, e)
        refused.append(sql)
        return str(e)
    raise AssertionError("%s was allowed: %r" % (sql, rows))


fake = (0x4141414141414141).to_bytes(8, "little")
# Out: a host address.
msg = must_fail("select fts3_tokenizer('simple')")
assert "pointers" in msg, msg
must_fail("select hex(fts3_tokenizer('porter'))")
# In: a literal, a bound blob (sqlite3_value_frombind passes the check).
must_fail("select fts3_tokenizer('evil', x'4141414141414141')")
must_fail("select fts3_tokenizer('evil', ?)", (fake,))
must_fail("select fts3_tokenizer(?, ?)", ("simple", fake))
# Hidden in a view or a trigger (compiled when used; the untrusted schema
# refuses it first in a view).
schema = ("not authorized", "unsafe use")
c.execute("create view if not exists v as select fts3_tokenizer('simple') as p")
must_fail("select * from v", why=schema)
c.execute("create table if not exists t(x)")
c.execute("create trigger if not exists tr after insert on t "
          "begin select fts3_tokenizer('evil', new.x); end")
must_fail("insert into t values (?)", (fake,), why=schema)
c.rollback()
c.execute("drop trigger tr")
# Had any registration worked, this would make the host call through 0x4141...
c.execute("create virtual table if not exists f using fts3(body)")
c.execute("insert into f values ('hello world')")
assert c.execute("select count(*) from f where f match 'hello'").fetchone() == (1,)
for tok in ("evil", "simple2"):
    try:
        c.execute("create virtual table g_%s using fts3(tokenize=%s)" % (tok, tok))
    except sqlite3.OperationalError as e:
        assert "unknown tokenizer" in str(e), e
    else:
        raise AssertionError("tokenizer %s was registered" % tok)

# Extension loading, as a function.
must_fail("select load_extension('/lib/x86_64-linux-gnu/libc.so.6')")
must_fail("select load_extension(?, ?)", ("libc.so.6", "system"))

# The schema is untrusted and stays so.
assert c.execute("pragma trusted_schema").fetchone() == (0,)
must_fail("pragma trusted_schema = 1")
must_fail("pragma trusted_schema = on")
must_fail("pragma main.trusted_schema = 'yes'")
c.execute("pragma trusted_schema = off")
assert c.execute("pragma trusted_schema").fetchone() == (0,)

# Process-wide settings (every other run and the host share them).
must_fail("pragma hard_heap_limit = 1")
must_fail("pragma soft_heap_limit = 1")
must_fail("pragma temp_store_directory = '/tmp'")
# Worker threads would allocate and run outside the run's limits.
must_fail("pragma threads = 4")
assert c.execute("pragma threads").fetchone() == (0,)
# No memory-mapped I/O (maps are counted nowhere).
assert c.execute("pragma mmap_size = 268435456").fetchall() in ([(0,)], []), "mmap"
assert c.execute("pragma mmap_size").fetchone() == (0,)

# Defensive mode: the schema cannot be written directly.
c.execute("pragma writable_schema = on")
must_fail("update sqlite_master set sql = 'x' where name = 't'",
          why=("may not be modified", "not authorized", "read-only", "readonly"))
c.execute("pragma writable_schema = off")

# The connection still works.
c.execute("insert into t values (1)")
c.commit()
assert c.execute("select count(*) from t").fetchone() == (1,)
print("refused", len(refused))
print("OK confine_sqlite_pointers")
