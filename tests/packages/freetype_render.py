"""freetype-py (its bundled libfreetype): load a font from memory, render glyphs, measure text."""
import hashlib
import sys

import freetype

path = sys.argv[1]
with open(path, "rb") as f:
    face = freetype.Face(f)          # FT_New_Memory_Face over the file's bytes
print(face.family_name.decode(), face.style_name.decode(), face.num_glyphs > 100)
face.set_char_size(24 * 64)
pen = 0
digest = hashlib.sha256()
for ch in "Sandbox ffi!":
    face.load_char(ch, freetype.FT_LOAD_RENDER)
    bitmap = face.glyph.bitmap
    digest.update(bytes(bitmap.buffer))
    print(repr(ch), bitmap.width, bitmap.rows, face.glyph.bitmap_left,
          face.glyph.bitmap_top, face.glyph.advance.x)
    pen += face.glyph.advance.x
kerning = face.get_kerning(face.get_char_index("A"), face.get_char_index("V"))
print("pen", pen, "kerning", kerning.x, "bitmaps", digest.hexdigest()[:16])
outline = face.glyph.outline
print("outline of '!'", len(outline.points), len(outline.contours), outline.tags[:4])
