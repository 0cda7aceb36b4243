# sqlite3: 1,000,000 rows inserted (executemany, one transaction) and read
# back (iterating a cursor), and a query calling a Python function once per
# row. In the guest the host-backed `_sqlite3` (the host's libsqlite3, Python
# callbacks through the suspend/resume protocol), natively CPython's own over
# the same libsqlite3 (bench/sqlite_bench.sh runs both and prints ratios).
#
#   wasmffi run bench/sqlite_bench.py [ROWS]
#   python3 bench/sqlite_bench.py [ROWS]
#
# Output: one `key value` line per figure (seconds).
import sqlite3
import sys
import time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000

con = sqlite3.connect(":memory:")
con.execute("create table t(id integer primary key, n integer, name text, x real)")

t0 = time.perf_counter()
with con:
    con.executemany("insert into t(n, name, x) values (?, ?, ?)",
                    ((i, "name%d" % i, i * 0.5) for i in range(rows)))
t1 = time.perf_counter()
count = 0
total = 0
for _id, n, _name, _x in con.execute("select id, n, name, x from t"):
    count += 1
    total += n
t2 = time.perf_counter()
assert count == rows and total == rows * (rows - 1) // 2, (count, total)


def twice(v):
    return v * 2


con.create_function("twice", 1, twice, deterministic=True)
t3 = time.perf_counter()
(doubled,) = con.execute("select sum(twice(n)) from t").fetchone()
t4 = time.perf_counter()
assert doubled == rows * (rows - 1), doubled
con.close()

print("rows %d" % rows)
print("insert_s %.3f" % (t1 - t0))
print("query_s %.3f" % (t2 - t1))
print("python_function_s %.3f" % (t4 - t3))
print("function_call_ns %.0f" % ((t4 - t3) / rows * 1e9))
