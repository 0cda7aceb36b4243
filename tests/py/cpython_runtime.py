# What CPython's runtime gives a program in the guest: each check does real
# work with the module, not just an import.
import sys

assert sys.implementation.name == "cpython", sys.implementation
assert sys.version_info[:2] == (3, 11), sys.version_info
assert sys.platform == "wasi", sys.platform

# signal: the numbers and their names, as on a POSIX host.
import signal
assert signal.SIGINT == 2 and signal.SIGTERM == 15, (signal.SIGINT, signal.SIGTERM)
assert signal.Signals(15).name == "SIGTERM"
assert signal.strsignal(signal.SIGSEGV) == "Segmentation fault", signal.strsignal(signal.SIGSEGV)
seen = []
signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
signal.raise_signal(signal.SIGUSR1)
assert seen == [signal.SIGUSR1], seen

# socket: the module and its constants import (WASI p2 gives no sockets to a
# command without a network grant, which wasmffi never gives).
import socket
assert socket.AF_INET == 1 and socket.SOCK_STREAM == 6, (socket.AF_INET, socket.SOCK_STREAM)
assert socket.inet_aton("10.1.2.3") == b"\n\x01\x02\x03"

# The packages that need socket, signal or threading to import.
import http.client, urllib.request, urllib.parse
assert urllib.parse.urlsplit("https://example.org/a?b=1").query == "b=1"
import unittest.mock
m = unittest.mock.Mock(return_value=7)
assert m(1, 2) == 7 and m.call_args == unittest.mock.call(1, 2)

import asyncio

async def double(x):
    await asyncio.sleep(0)
    return 2 * x

async def gather():
    return await asyncio.gather(*(double(i) for i in range(5)))

assert asyncio.run(gather()) == [0, 2, 4, 6, 8]

import threading
lock = threading.Lock()
with lock:
    assert lock.locked()
assert threading.current_thread() is threading.main_thread()

# __class__ assignment between a __slots__ class and its subclass.
class Slotted:
    __slots__ = ("a",)

class Sub(Slotted):
    __slots__ = ()

s = Slotted()
s.a = 1
s.__class__ = Sub
assert type(s) is Sub and s.a == 1

# The stdlib is precompiled and the guest writes no bytecode.
import json, decimal, hashlib, datetime, re
assert sys.flags.dont_write_bytecode == 1
import os, zipimport
assert os.path.dirname(json.__file__) == "/usr/local/lib/python311.zip/json", json.__file__
assert isinstance(json.__loader__, zipimport.zipimporter), json.__loader__
assert "def dumps" in json.__loader__.get_source("json")
assert str(decimal.Decimal("1.1") + decimal.Decimal("2.2")) == "3.3"
assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf")
assert datetime.date(2026, 12, 3).isoformat() == "2026-12-03"

# Deep recursion is a RecursionError, not a crash of the guest.
def down(n):
    return down(n + 1)

try:
    down(0)
except RecursionError:
    pass
else:
    raise AssertionError("no RecursionError")

print("OK cpython_runtime")
