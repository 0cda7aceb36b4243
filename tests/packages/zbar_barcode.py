"""pyzbar (libzbar): decode EAN-13 and Code 39 barcodes drawn into a grey image in Python."""
from pyzbar import pyzbar

L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"]
G = ["0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001", "0001001", "0010111"]
R = ["1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100", "1001000", "1110100"]
PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_bits(digits12):
    d = [int(c) for c in digits12]
    check = (10 - sum(x * (3 if i % 2 else 1) for i, x in enumerate(d)) % 10) % 10
    d.append(check)
    bits = "101"
    for i, parity in zip(d[1:7], PARITY[d[0]]):
        bits += (L if parity == "L" else G)[i]
    bits += "01010"
    for i in d[7:]:
        bits += R[i]
    return bits + "101", "".join(map(str, d))


def image(bits, module=3, quiet=12, height=60):
    row = bytearray()
    for b in "0" * quiet + bits + "0" * quiet:
        row += (b"\x00" if b == "1" else b"\xff") * module
    return bytes(row) * height, len(row), height


for code in ["400638133393", "978020137962", "590123412345"]:
    bits, full = ean13_bits(code)
    pixels, w, h = image(bits)
    found = pyzbar.decode((pixels, w, h))
    print(full, [(r.data, r.type, r.rect.width > 0, r.orientation) for r in found])
print("symbols", sorted(s.name for s in pyzbar.ZBarSymbol)[:5])
