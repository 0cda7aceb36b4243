# A Python callback sqlite calls never returns (`function`), or the guest
# replaces the progress handler with its own that never stops a runaway query
# (`progress`), under --cpu-time: the run still ends at the deadline (exit 124).
import sqlite3
import sys

mode = sys.argv[1]
con = sqlite3.connect(":memory:")
if mode == "function":
    def spin(x):
        while True:
            pass
    con.create_function("spin", 1, spin)
    con.execute("select spin(1)").fetchone()
else:
    con.set_progress_handler(lambda: 0, 100)
    con.execute("with recursive n(i) as (select 1 union all select i + 1 from n) "
                "select count(*) from n").fetchone()
raise AssertionError("the statement ended by itself")
