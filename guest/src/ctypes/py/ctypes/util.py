# wasmffi: ctypes.util for a guest that can only open the native libraries the
# host's policy allows. find_library is answered by the host (the same
# search CPython does, restricted to the allowlist): find_library("z") ->
# "libz.so.1" when libz.so.1 is allowed, None otherwise.
import os
import sys

from _ctypes import _find_library


def find_library(name):
    """Return the soname of library `name` ("c", "m", "z", ...) as the host
    would open it, or None if the policy does not allow any such library."""
    if not isinstance(name, str):
        raise TypeError("find_library() argument must be str, not %s" % type(name).__name__)
    return _find_library(name)


def find_msvcrt():
    return None


def dllist():
    """The libraries loaded so far are not visible from the guest."""
    return []


def test():
    print(find_library("m"))
    print(find_library("c"))
    print(find_library("z"))


if __name__ == "__main__":
    test()
