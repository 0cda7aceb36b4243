"""Wand (ImageMagick's MagickWand): draw, transform and encode images in memory."""
import hashlib

from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

with Image(width=64, height=48, background=Color("#3366cc")) as img:
    with Drawing() as draw:
        draw.fill_color = Color("white")
        draw.rectangle(left=8, top=8, right=40, bottom=30)
        draw.fill_color = Color("red")
        draw.circle((48, 32), (56, 32))
        draw(img)
    print("size", img.size, "depth", img.depth, "colors", img.colors)
    print("pixel", img[10, 10], img[48, 32], img[0, 0])
    img.rotate(90)
    print("rotated", img.size)
    img.resize(24, 32)
    with img.clone() as gray:
        gray.type = "grayscale"
        print("gray", gray.type, hashlib.sha256(gray.make_blob("gray")).hexdigest()[:16])
    blob = img.make_blob("ppm")
    print("ppm", len(blob), blob[:15])
    png = img.make_blob("png")
with Image(blob=png) as again:
    print("png back", again.format, again.size, hashlib.sha256(again.make_blob("rgb")).hexdigest()[:16])
