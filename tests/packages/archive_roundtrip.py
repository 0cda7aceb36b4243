"""libarchive-c (libarchive): write tar/zip/7z archives in memory with filters, read them back."""
import hashlib

import libarchive

files = {
    "docs/readme.txt": b"wasmffi\n" * 50,
    "data/numbers.bin": bytes(range(256)) * 8,
    "empty.txt": b"",
}
for fmt, filt in [("ustar", "gzip"), ("pax", "xz"), ("zip", None), ("7zip", None),
                  ("ustar", "bzip2"), ("cpio", "zstd")]:
    chunks = []

    def write(data):
        chunks.append(bytes(data))
        return len(data)

    with libarchive.custom_writer(write, fmt, filt) as archive:
        for name, data in files.items():
            archive.add_file_from_memory(name, len(data), data, permission=0o644, mtime=1700000000)
    seen = []
    with libarchive.memory_reader(b"".join(chunks)) as archive:
        for entry in archive:
            body = b"".join(entry.get_blocks())
            seen.append((entry.pathname, entry.size, hashlib.md5(body).hexdigest()[:8], entry.mtime))
    print(fmt, filt, len(b"".join(chunks)) > 0, seen)
