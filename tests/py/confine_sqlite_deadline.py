# A statement that would run forever, under --cpu-time: `query` (a recursive
# CTE without end) or `busy` (a write waiting on a lock another connection
# holds, with a timeout of a day). The host interrupts it at the deadline
# and the guest's next instruction ends the run (exit 124).
import sqlite3
import sys

mode = sys.argv[1]


def runaway():
    if mode == "query":
        c = sqlite3.connect(":memory:")
        c.execute("with recursive n(i) as (select 1 union all select i + 1 from n) "
                  "select count(*) from n").fetchone()
    else:
        a = sqlite3.connect("/data/b.db", isolation_level=None)
        a.execute("create table if not exists t(x)")
        a.execute("begin exclusive")
        b = sqlite3.connect("/data/b.db", timeout=86400)
        try:
            b.execute("pragma busy_timeout = 86400000")
        except sqlite3.OperationalError as e:
            print("PRAGMA REFUSED", e, flush=True)
        b.execute("insert into t values (1)")
    raise AssertionError("the statement ended by itself")


runaway()
