# Temporary files sqlite makes (a sort that spills, a temp table, a
# temporary database from ATTACH '') all held open at READY, when the test
# looks at the process's open files; then the results are checked.
import sqlite3
import sys

N = 40000
c = sqlite3.connect("/data/t.db")
c.execute("pragma cache_size = 10")          # spill early
c.execute("pragma temp.cache_size = 10")
c.execute("pragma temp_store = file")

# A sort bigger than the cache: sqlite writes sorted runs to temporary files.
sort = c.cursor()
sort.execute("with recursive n(i) as (select 1 union all select i + 1 from n limit ?) "
             "select (i * 7919) % ? as k, zeroblob(200) from n order by k", (N, N))
first = sort.fetchone()
assert first[0] == 0, first

# A temp table bigger than its cache.
c.execute("create temp table tt(i integer, pad blob)")
c.execute("with recursive n(i) as (select 1 union all select i + 1 from n limit ?) "
          "insert into tt select i, zeroblob(300) from n", (N,))
# A temporary database.
c.execute("attach '' as scratch")
c.execute("create table scratch.s(i integer, pad blob)")
c.execute("with recursive n(i) as (select 1 union all select i + 1 from n limit ?) "
          "insert into scratch.s select i, randomblob(300) from n", (N,))
c.execute("create index scratch.si on s(pad)")

print("READY", flush=True)
sys.stdin.readline()

rest = [first[0]] + [r[0] for r in sort.fetchall()]
assert rest == sorted(rest) and len(rest) == N and set(rest) == set(range(N)), len(rest)
assert c.execute("select count(*), sum(i) from tt").fetchone() == (N, N * (N + 1) // 2)
assert c.execute("select count(*), sum(length(pad)) from scratch.s").fetchone() == (N, N * 300)
c.commit()
# Read back in another order through the temp table after a rollback too.
c.execute("delete from tt where i % 2 = 0")
c.rollback()
assert c.execute("select count(*) from tt").fetchone() == (N,)
print("OK confine_sqlite_tempfiles")
