# The failure modes of callbacks: each must leave the guest running.
import os
import sys
import _rawffi

lib = _rawffi.CDLL(os.environ["WASMFFI_TESTLIB"])
apply = lib.ptr("t_apply", ["P", "i"], "i")

# An exception in a callback is reported as unraisable; C gets 0.
def boom(x):
    raise ValueError("boom %d" % x)

boom_ptr = _rawffi.CallbackPtr(boom, ["i"], "i")
assert apply(boom_ptr.buffer, 7) == 0
sys.stderr.write("--- after the exception\n")

# A wrong result type is an exception too.
wrong = _rawffi.CallbackPtr(lambda x: "not an int", ["i"], "i")
assert apply(wrong.buffer, 1) == 0

# Recursion through native code ends in a RecursionError, not a crash. As in
# CPython, it is raised inside a callback, so it is reported as unraisable and
# that callback's C caller gets 0: the recursion unwinds and returns.
def forever(x):
    return apply(deep.buffer, x + 1)

deep = _rawffi.CallbackPtr(forever, ["i"], "i")
assert forever(0) == 0

# A callback freed while C still holds its pointer: C gets 0, a message on stderr.
set_cb = lib.ptr("t_set_cb", ["P"], "v")
call_stored = lib.ptr("t_call_stored", ["i"], "i")
cb = _rawffi.CallbackPtr(lambda x: x * 2, ["i"], "i")
set_cb(cb.buffer)
assert call_stored(21) == 42
del cb
assert call_stored(21) == 0

# A callback from a thread native code created is refused with a message; C gets 0.
in_thread = lib.ptr("t_call_in_thread", ["P", "i"], "i")
ran = []
threaded = _rawffi.CallbackPtr(lambda x: ran.append(x) or x, ["i"], "i")
assert in_thread(threaded.buffer, 9) == 0
assert ran == []

# And everything still works.
ok = _rawffi.CallbackPtr(lambda x: -x, ["i"], "i")
assert apply(ok.buffer, 5) == -5
print("OK callback_errors")
