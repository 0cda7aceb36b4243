# Fill sqlite's memory: `heap` an in-memory database, `temp` a temp table
# that spills to temporary files. argv: mode, how many MiB to try, the limit
# in MiB, and optionally `pause`: wait on stdin at BASE and FULL while the
# test measures the host's RSS. The run must stop with MemoryError or
# OperationalError at the limit.
import sqlite3
import sys

mode, tries, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
interactive = sys.argv[4:] == ["pause"]


def pause(word):
    if interactive:
        print(word, flush=True)
        sys.stdin.readline()


if mode == "heap":
    c = sqlite3.connect(":memory:")
    c.execute("create table t(b blob)")
    table = "t"
else:
    c = sqlite3.connect(":memory:")
    c.execute("pragma temp_store = file")
    c.execute("pragma temp.cache_size = 10")
    c.execute("create temp table tt(b blob)")
    table = "tt"
pause("BASE")
stored = 0
error = None
try:
    for i in range(tries):
        c.execute("insert into %s values (randomblob(1048576))" % table)
        stored += 1
except (MemoryError, sqlite3.OperationalError) as e:
    error = e
print("stored", stored, "MiB:", type(error).__name__, error)
assert error is not None, "stored %d MiB past a %d MiB limit" % (stored, limit)
assert stored <= limit, stored
assert "sqlite_memory" in str(error) or isinstance(error, MemoryError), error
pause("FULL")
# The connection survives and gives memory back.
c.execute("delete from %s" % table)
c.commit()
c.execute("insert into %s values (randomblob(1000))" % table)
assert c.execute("select count(*) from %s" % table).fetchone() == (1,)
print("OK confine_sqlite_memory", mode)
