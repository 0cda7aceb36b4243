"""python-magic (libmagic): identify file types from their first bytes."""
import gzip
import io
import zipfile

import magic

samples = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
    "gzip": gzip.compress(b"hello world" * 20, mtime=0),
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "elf": b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00\x3e\x00",
    "script": b"#!/bin/sh\necho hello\n",
    "json": b'{"a": [1, 2, 3], "b": {"c": "d"}}\n',
    "text": "na\u00efve caf\u00e9 text\n".encode("utf-8"),
}
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr(zipfile.ZipInfo("a.txt", (2020, 1, 1, 0, 0, 0)), "x" * 100)
samples["zip"] = buf.getvalue()

print("version", magic.version() // 100 > 4)
describe = magic.Magic()
mime = magic.Magic(mime=True)
enc = magic.Magic(mime_encoding=True)
for name, data in samples.items():
    print(name, "|", mime.from_buffer(data), "|", enc.from_buffer(data), "|",
          describe.from_buffer(data))
