# Run with --native-arch ARCH: libraries are that architecture's. find_library
# answers with ARCH's libraries, which load from ARCH's multiarch directory
# and work; a library ARCH lacks is an OSError naming it and what to install
# (no host path); a granted file of the host's architecture is an OSError
# naming both architectures. argv[1]: a JSON object from tests/native_arch.rs.
import ctypes
import ctypes.util
import json
import math
import sys

import _rawffi

want = json.loads(sys.argv[1])
arch = want["arch"]
own_dir = "/%s/" % want["multiarch"]


def check(what, got, expected):
    if got != expected:
        raise AssertionError("%s: got %r, want %r" % (what, got, expected))
    print("%s: %r" % (what, got))


def loads_from_own_dir(soname):
    path = _rawffi.CDLL(soname).path
    if own_dir not in path:
        raise AssertionError("%s loaded from %r, not from %s's %s" % (soname, path, arch, own_dir))
    print("%s loads %s" % (soname, path))
    return ctypes.CDLL(soname)


def refused(name, *needles):
    try:
        ctypes.CDLL(name)
    except OSError as e:
        message = str(e)
    else:
        raise AssertionError("%s opened under --native-arch %s" % (name, arch))
    for needle in needles:
        if needle not in message:
            raise AssertionError("%r not in %r" % (needle, message))
    print("refused:", message)
    return message


check("find_library('c')", ctypes.util.find_library("c"), "libc.so.6")
libc = loads_from_own_dir("libc.so.6")
libc.strlen.restype = ctypes.c_size_t
check("strlen", libc.strlen(b"sandbox"), 7)
libc.gnu_get_libc_version.restype = ctypes.c_char_p
check("glibc 2.x", libc.gnu_get_libc_version().startswith(b"2."), True)

check("find_library('m')", ctypes.util.find_library("m"), "libm.so.6")
libm = loads_from_own_dir("libm.so.6")
libm.cos.restype = libm.pow.restype = ctypes.c_double
libm.cos.argtypes = [ctypes.c_double]
libm.pow.argtypes = [ctypes.c_double, ctypes.c_double]
check("cos(0.5)", abs(libm.cos(0.5) - math.cos(0.5)) < 1e-15, True)
check("pow(2, 10)", libm.pow(2.0, 10.0), 1024.0)

if want["zlib"]:
    check("find_library('z')", ctypes.util.find_library("z"), "libz.so.1")
    libz = loads_from_own_dir("libz.so.1")
    libz.zlibVersion.restype = ctypes.c_char_p
    check("zlibVersion 1.x", libz.zlibVersion().startswith(b"1."), True)
    libz.crc32.restype = ctypes.c_ulong
    libz.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
    check("crc32", libz.crc32(0, b"hello world", 11), 0x0D4A1185)
    source = b"wasmffi " * 200
    libz.compressBound.restype = ctypes.c_ulong
    bound = libz.compressBound(len(source))
    packed = ctypes.create_string_buffer(bound)
    packed_len = ctypes.c_ulong(bound)
    check("compress", libz.compress(packed, ctypes.byref(packed_len), source, ctypes.c_ulong(len(source))), 0)
    check("compressed smaller", packed_len.value < len(source) // 10, True)
    unpacked = ctypes.create_string_buffer(len(source))
    unpacked_len = ctypes.c_ulong(len(source))
    check("uncompress", libz.uncompress(unpacked, ctypes.byref(unpacked_len), packed, packed_len), 0)
    check("round trip", unpacked.raw[: unpacked_len.value] == source, True)
else:
    check("find_library('z')", ctypes.util.find_library("z"), None)
    refused("libz.so.1", "libz.so.1: not installed for " + arch, "zlib1g:" + want["deb"])

absent = want["absent"]
check("find_library(%r)" % absent["name"], ctypes.util.find_library(absent["name"]), None)
message = refused(absent["soname"], absent["soname"] + ": not installed for " + arch, absent["hint"])
check("no host path in %r" % message, "/lib" in message, False)

if want["host_libm"]:
    refused(
        want["host_libm"],
        "built for %s, but native code runs as %s" % (want["host_elf"], arch),
        "grant libm.so.6 by name",
    )

print("OK native_arch_libs")
