# Platform probing (_probe, PyPy's ctypes_configure) checked against what the
# host compiler says (argv[1]/truth.json, written by a C program the Rust
# test compiled itself), then used to build correct _rawffi.Structure
# layouts for struct stat and struct tm and to call stat() and gmtime_r().
import json
import os
import sys

import _probe
import _rawffi

truth = json.load(open(os.path.join(sys.argv[1], "truth.json")))
STAT = ["st_dev", "st_ino", "st_mode", "st_nlink", "st_uid", "st_gid", "st_size",
        "st_blksize", "st_blocks", "st_atim.tv_sec", "st_mtim.tv_sec", "st_mtim.tv_nsec"]
TM = ["tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_wday", "tm_yday",
      "tm_isdst", "tm_gmtoff", "tm_zone"]

# Sizes, alignments, kinds of named types.
for name, (size, align, signed) in truth["types"].items():
    got = _probe.layout(name, ["stddef.h", "stdint.h", "sys/types.h", "time.h"])
    assert got[:2] == (size, align), (name, got, size, align)
    if signed is not None:
        assert got[2] == ("signed" if signed else "unsigned"), (name, got)
assert _probe.layout("char *")[2] == "pointer"
assert _probe.layout("double")[2] == "float"
assert _probe.layout("struct stat", "sys/stat.h")[2] == "other"

# Field offsets and sizes.
stat_fields = _probe.fields("struct stat", STAT, ["sys/stat.h"])
for member in STAT:
    assert list(stat_fields[member][:2]) == truth["stat"][member], (member, stat_fields[member])
tm_fields = _probe.fields("struct tm", TM, "time.h")
for member in TM:
    assert list(tm_fields[member][:2]) == truth["tm"][member], (member, tm_fields[member])
assert tm_fields["tm_zone"][2] == "pointer" and tm_fields["tm_year"][2] == "signed"

# Constants (#define and enum) and defined().
consts = _probe.constants(list(truth["constants"]) + ["WASMFFI_NOT_DEFINED", "__FILE__"],
                          ["errno.h", "fcntl.h", "stdio.h", "time.h", "sys/socket.h", "limits.h"])
for name, value in truth["constants"].items():
    assert consts[name] == value, (name, consts[name], value)
assert consts["WASMFFI_NOT_DEFINED"] is None      # not defined
assert consts["__FILE__"] is None                 # a string, not an integer
assert _probe.defined("EINTR", "errno.h") is True
assert _probe.defined("WASMFFI_NOT_DEFINED", "errno.h") is False

# ctypes_configure style, one compiler run for everything.
class CConfig:
    _headers_ = ["sys/stat.h", "time.h", "errno.h"]
    stat = _probe.Struct("struct stat", STAT)
    tm = _probe.Struct("struct tm", TM)
    time_t = _probe.SimpleType("time_t")
    EINTR = _probe.ConstantInteger("EINTR")
    MAYBE = _probe.DefinedConstantInteger("WASMFFI_NOT_DEFINED")
    HAVE_EINTR = _probe.Defined("EINTR")
    SIZEOF_TM = _probe.SizeOf("struct tm")

info = _probe.configure(CConfig)
assert info["EINTR"] == truth["constants"]["EINTR"] and info["MAYBE"] is None and info["HAVE_EINTR"]
assert info["SIZEOF_TM"] == truth["sizes"]["struct tm"]
assert info["time_t"][:2] == tuple(truth["types"]["time_t"][:2])
stat_layout = info["stat"]
assert stat_layout.size == truth["sizes"]["struct stat"]

# A _rawffi.Structure with the compiler's layout; fill it with stat().
StatShape = stat_layout.rawffi_structure()
assert StatShape.size == truth["sizes"]["struct stat"]
for member in STAT:
    assert StatShape.fieldoffset(member.replace(".", "_")) == truth["stat"][member][0], member
libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
stat_fn = libc.ptr("stat", ["z", "P"], "i")
st = StatShape()
path = truth["file"]
assert stat_fn(path.encode(), st.buffer) == 0, _rawffi.get_errno()
assert st.st_size == truth["file_size"], (st.st_size, truth["file_size"])
assert st.st_mode & 0o170000 == 0o100000        # S_IFREG
assert st.st_mtim_tv_sec == truth["file_mtime"], (st.st_mtim_tv_sec, truth["file_mtime"])

TmShape = info["tm"].rawffi_structure()
assert TmShape.size == truth["sizes"]["struct tm"]
gmtime_r = libc.ptr("gmtime_r", ["P", "P"], "P")
t = _rawffi.Structure([("t", "q")])()
t.t = 1700000000                                  # 2023-11-14 22:13:20 UTC
tm = TmShape()
assert gmtime_r(t.buffer, tm.buffer) == tm.buffer
assert (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) == (123, 10, 14, 22, 13, 20)
assert tm.tm_wday == 2 and tm.tm_yday == 317

# Repeated queries come from the cache.
import time
t0 = time.time()
for _ in range(20):
    _probe.configure(CConfig)
assert time.time() - t0 < 2.0, time.time() - t0

# Bad input: ValueError for names outside the grammar (no C is written for
# them), ProbeError for names the compiler rejects; nothing crashes.
def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %s%r" % (exc.__name__, fn.__name__, args))

raises(ValueError, _probe.sizeof, "int); system(\"id\"); (int")
raises(ValueError, _probe.sizeof, "int", ["stdio.h>\n#include </etc/passwd"])
raises(ValueError, _probe.sizeof, "int", ["/etc/passwd.h"])
raises(ValueError, _probe.sizeof, "int", ["../../etc/x.h"])
raises(ValueError, _probe.offsetof, "struct stat", "st_mode[0]", "sys/stat.h")
raises(ValueError, _probe.constant, "1 + 1")
raises(ValueError, _probe.constant, "EINTR\n#define X")
raises(ValueError, _probe._run, [], [("bogus", "x")])
raises(TypeError, _probe._run, [], [("type", 42)])
raises(_probe.ProbeError, _probe.sizeof, "struct wasmffi_no_such_struct")
raises(_probe.ProbeError, _probe.offsetof, "struct stat", "st_no_such_member", "sys/stat.h")
e = raises(ValueError, _probe.sizeof, "int", ["wasmffi_no_such_header.h"])
assert "wasmffi_no_such_header.h" in str(e), e
print("OK probe_layout")
