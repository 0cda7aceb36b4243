"""pylibdmtx (libdmtx): encode Data Matrix symbols, decode them back from the pixels."""
from pylibdmtx import pylibdmtx

for text in [b"wasmffi", b"https://example.org/ctypes?x=1", bytes(range(32, 90))]:
    encoded = pylibdmtx.encode(text)
    print("encoded", encoded.width, encoded.height, encoded.bpp, len(encoded.pixels))
    decoded = pylibdmtx.decode((encoded.pixels, encoded.width, encoded.height))
    print("decoded", [(d.data, d.rect) for d in decoded])
