# What sqlite tells the guest about files names guest paths only. The test
# preopens a host directory at /data whose j.db-journal is a symlink to
# /etc/hostname, and checks that the host path appears nowhere in the output.
import sqlite3

c = sqlite3.connect("/data/x.db")
c.execute("create table t(x)")
c.commit()
rows = c.execute("pragma database_list").fetchall()
print(rows)
assert rows == [(0, "main", "/data/x.db")], rows
c.execute("attach '/data/sub/../side.db' as side")
rows = c.execute("select name, file from pragma_database_list order by seq").fetchall()
print(rows)
assert rows == [("main", "/data/x.db"), ("side", "/data/side.db")], rows

messages = []


def fails(f, *args):
    try:
        f(*args)
    except sqlite3.Error as e:
        messages.append(str(e))
        print(type(e).__name__, e)
        return str(e)
    raise AssertionError("%r succeeded" % (args,))


# A journal that leads out of the preopen: refused, and the message names
# the guest path.
j = sqlite3.connect("/data/j.db")
msg = fails(j.execute, "create table t(x)")
assert "/data/j.db-journal" in msg, msg
msg = fails(c.execute, "attach '/etc/passwd' as p")
assert "/etc/passwd" in msg, msg
msg = fails(c.execute, "vacuum into '/data/../../tmp/out.db'")
msg = fails(c.execute, "attach '/data/nodir/x.db' as q")
assert "/data/nodir/x.db" in msg, msg
print("OK confine_sqlite_paths")
