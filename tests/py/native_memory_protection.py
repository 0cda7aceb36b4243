# Raw native memory honours page protection, in-process and in a helper
# (where the kernel's process_vm_writev is ENOSYS under qemu-user): a write to
# a read-only page or a read of an unmapped one is a SegfaultException and
# leaves the page as it was. Needs a trusted libc (raw memory granted).
import _rawffi

libc = _rawffi.CDLL(_rawffi.platform["libc_soname"])
sysconf = libc.ptr("sysconf", ["i"], "l")
mmap = libc.ptr("mmap", ["P", "N", "i", "i", "i", "l"], "P")
mprotect = libc.ptr("mprotect", ["P", "N", "i"], "i")
munmap = libc.ptr("munmap", ["P", "N"], "i")

# Linux's values on every architecture wasmffi runs native code for.
PROT_READ, PROT_WRITE = 1, 2
MAP_PRIVATE, MAP_ANONYMOUS = 0x02, 0x20
_SC_PAGESIZE = 30

page = sysconf(_SC_PAGESIZE)
assert page >= 4096 and page & (page - 1) == 0, page
base = mmap(None, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
assert base not in (0, (1 << (8 * _rawffi.sizeof("P"))) - 1), base

_rawffi.memwrite(base, b"writable")
assert mprotect(base, page, PROT_READ) == 0
assert munmap(base + page, page) == 0


def refused(what, action):
    try:
        action()
    except _rawffi.SegfaultException as e:
        print(what, "refused:", e)
        assert "SIGSEGV" in str(e) or "SIGBUS" in str(e) or "EFAULT" in str(e) or "Bad address" in str(e), e
    else:
        raise AssertionError(what + " succeeded")


refused("write to a read-only page", lambda: _rawffi.memwrite(base, b"XX"))
refused("store to a read-only page", lambda: _rawffi.store(base + 8, "q", -1))
refused("read of an unmapped page", lambda: _rawffi.memread(base + page, 4))
refused("write to an unmapped page", lambda: _rawffi.memwrite(base + page, b"X"))
refused("write across into an unmapped page", lambda: _rawffi.memwrite(base + page - 2, b"XXXX"))
assert _rawffi.memread(base, 9) == b"writable\0", _rawffi.memread(base, 9)
assert _rawffi.load(base + 8, "q") == 0

assert munmap(base, page) == 0
print("OK native_memory_protection")
