# A ctypes program whose results depend on the ABI native code runs under.
# Try it against several architectures from one machine:
#
#   for arch in aarch64 s390x i686; do
#       wasmffi run --allow-lib libc.so.6 --native-arch $arch examples/abi_portability.py
#   done
#
# (scripts/native_helpers.sh --install ARCH, then scripts/native_helpers.sh ARCH, install and
# build what each needs; without --native-arch it reports this machine.)
import ctypes
import sys

import _rawffi

facts = _rawffi.platform
print("native code runs on %s (%d-bit, %s-endian, %s)" % (
    facts["arch"], facts["pointer_width"], "big" if facts["big_endian"] else "little", facts["libc"]))


class Record(ctypes.Structure):
    # The kind of struct a file format or a wire protocol is written with.
    _fields_ = [("tag", ctypes.c_char), ("count", ctypes.c_long),
                ("ratio", ctypes.c_double), ("extra", ctypes.c_longdouble)]


print("sizeof(long) = %d, sizeof(long double) = %d, sizeof(Record) = %d" % (
    ctypes.sizeof(ctypes.c_long), ctypes.sizeof(ctypes.c_longdouble), ctypes.sizeof(Record)))
print("Record offsets: count %d, ratio %d, extra %d" % (
    Record.count.offset, Record.ratio.offset, Record.extra.offset))

libc = ctypes.CDLL(facts["libc_soname"])
libc.strtol.restype = ctypes.c_long
libc.strtol.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
big = libc.strtol(b"3000000000", None, 10)
print("strtol('3000000000') = %d%s" % (big, "  (clamped: long is 32-bit here)" if big != 3000000000 else ""))

value = ctypes.c_uint32(0x11223344)
print("bytes of 0x11223344 in native memory: %s" % ctypes.string_at(ctypes.addressof(value), 4).hex())
if ctypes.sizeof(Record) != 48 or big != 3000000000:
    print("this program's binary layout is not portable to %s" % facts["arch"], file=sys.stderr)
