# Native code crashes in the middle of a Python program. Which crash comes
# from argv: "segv" (NULL write) or "abort" (abort()).
import os
import sys
import _rawffi

lib = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
crash = {"segv": "t_crash_null", "abort": "t_abort"}[sys.argv[1]]


def inner_python_frame():
    lib.ptr(crash, [], "v")()


print("about to crash", flush=True)
inner_python_frame()
print("survived the crash")  # only with --isolate-native
