# The ctypes variant of probe_layout: ctypes.Structure classes for struct stat
# and struct tm built from _probe's answers, checked against the compiler
# (argv[1]/truth.json) and used to call stat() and gmtime_r().
import ctypes
import json
import os
import sys

import _probe

truth = json.load(open(os.path.join(sys.argv[1], "truth.json")))
STAT = ["st_dev", "st_ino", "st_mode", "st_nlink", "st_uid", "st_gid", "st_size",
        "st_blksize", "st_blocks", "st_atim.tv_sec", "st_mtim.tv_sec", "st_mtim.tv_nsec"]
TM = ["tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_wday", "tm_yday",
      "tm_isdst", "tm_gmtoff", "tm_zone"]

Stat = _probe.struct("struct stat", STAT, "sys/stat.h").ctypes_structure(name="stat")
Tm = _probe.struct("struct tm", TM, "time.h").ctypes_structure(types={"tm_zone": ctypes.c_char_p}, name="tm")
assert ctypes.sizeof(Stat) == truth["sizes"]["struct stat"]
assert ctypes.sizeof(Tm) == truth["sizes"]["struct tm"]
for member in STAT:
    assert getattr(Stat, member.replace(".", "_")).offset == truth["stat"][member][0], member
for member in TM:
    assert getattr(Tm, member).offset == truth["tm"][member][0], member

libc = ctypes.CDLL(None if False else "libc.so.6")
libc.stat.argtypes = [ctypes.c_char_p, ctypes.POINTER(Stat)]
libc.stat.restype = ctypes.c_int
st = Stat()
assert libc.stat(truth["file"].encode(), ctypes.byref(st)) == 0
assert st.st_size == truth["file_size"] and st.st_mtim_tv_sec == truth["file_mtime"]

libc.gmtime_r.argtypes = [ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(Tm)]
libc.gmtime_r.restype = ctypes.POINTER(Tm)
tm = Tm()
when = ctypes.c_int64(1700000000)
libc.gmtime_r(ctypes.byref(when), ctypes.byref(tm))
assert (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour) == (123, 10, 14, 22)
assert tm.tm_zone == b"GMT", tm.tm_zone
print("OK probe_ctypes")
