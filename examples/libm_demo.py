"""A tour of _rawffi: Python in the sandbox calling the host's libc and libm.

    wasmffi run --allow-lib libc.so.6 --allow-lib libm.so.6 examples/libm_demo.py
"""
import _rawffi

facts = _rawffi.platform
print("host:", facts["os"], facts["arch"], facts["libc"], "- long is", _rawffi.sizeof("l"), "bytes")

libm = _rawffi.CDLL(facts["libm_soname"])
libc = _rawffi.CDLL(facts["libc_soname"])
print("opened", libm.path, "and", libc.path)

cos = libm.ptr("cos", ["d"], "d")
pow_ = libm.ptr("pow", ["d", "d"], "d")
print("cos(0) =", cos(0.0), " pow(2, 0.5) =", pow_(2.0, 0.5))

# A struct returned by value.
DivT = _rawffi.Structure([("quot", "i"), ("rem", "i")])
div = libc.ptr("div", ["i", "i"], DivT)
r = div(47, 5)
print("div(47, 5) = quot %d rem %d" % (r.quot, r.rem))

# Variadic formatting into native memory.
buf = _rawffi.Array("c")(64)
snprintf = libc.ptr("snprintf", ["P", "N", "z", "i", "d", "z"], "i", variadic=3)
snprintf(buf, 64, b"%d-%.3f-%s", 7, 2.5, b"ok")
print("snprintf ->", _rawffi.charp2string(buf.buffer))

# errno, captured right after the call.
strtol = libc.ptr("strtol", ["z", "P", "i"], "l")
value = strtol(b"1" * 30, 0, 10)
print("strtol overflow ->", value, "errno", _rawffi.get_errno(), "(ERANGE is %d)" % _rawffi.errno_codes["ERANGE"])

# Native memory the guest owns.
ints = _rawffi.Array("i")(5, [5, 3, 9, 1, 7])
print("sum via native memory:", sum(ints), "first byte:", _rawffi.memread(ints.buffer, 1))
