"""psycopg 3 in pure-Python mode (libpq through ctypes): connection strings and escaping without a server."""
import os
os.environ["PSYCOPG_IMPL"] = "python"

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

print("impl", pq.__impl__, "libpq major", pq.version() // 10000)
print(conninfo_to_dict("host=db.example port=5433 dbname=app user=alice application_name='my app'"))
print(conninfo_to_dict("postgresql://bob:secret@[::1]:6543/shop?sslmode=require&connect_timeout=7"))
print(make_conninfo("dbname=x", user="o'brien", password="p w"))
try:
    conninfo_to_dict("host=a port")
except psycopg.ProgrammingError as e:
    print("bad conninfo:", e)
esc = pq.Escaping()
print(esc.escape_bytea(bytes([0, 1, 2, 255, 92, 39])))
print(esc.unescape_bytea(b"\\x00017f5c"))
defaults = {o.keyword.decode(): o.compiled for o in pq.Conninfo.get_defaults()}
print("default port", defaults["port"], "keywords", len(defaults) > 20)
