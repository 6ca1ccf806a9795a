#!/usr/bin/python3
"""Writes label PNGs for the C# label reader's test, by hand (Pillow writes no interlaced PNG), and checks that Pillow
reads back the same indices.

Run:  /usr/bin/python3 tools/reference/label_pngs.py
Writes tests/fixtures/labels/interlaced_gray8.png (13 x 11, 8-bit grayscale, value (7x + 13y) mod 21) and
interlaced_palette4.png (13 x 11, 4-bit palette, index (x + 2y) mod 16): sizes that leave some Adam7 passes short and
others empty in a row or column, and filter types varied per row so that every filter is undone within a pass; and
gray16.png and interlaced_gray16.png (13 x 11, 16-bit grayscale, value (5x + 3y) mod 21, as OpenCV writes uint16 labels),
and gray16_over_255.png (2 x 1: 7, then 300, which no class index is).
"""
import os
import struct
import zlib

from PIL import Image

# Adam7 passes: (first column, first row, column step, row step), PNG spec §8.2.
PASSES = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(values, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    if depth == 8:
        return bytes(values)
    per_byte, out = 8 // depth, bytearray()
    for i in range(0, len(values), per_byte):
        byte = 0
        for j, v in enumerate(values[i:i + per_byte]):
            byte |= v << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


def filtered(row, previous, kind, stride):
    """The row encoded with filter kind (0 none, 1 sub, 2 up, 3 average, 4 Paeth), PNG spec §9."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - stride] if i >= stride else 0
        b = previous[i] if previous is not None else 0
        c = previous[i - stride] if previous is not None and i >= stride else 0
        if kind == 0:
            predictor = 0
        elif kind == 1:
            predictor = a
        elif kind == 2:
            predictor = b
        elif kind == 3:
            predictor = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out.append((x - predictor) & 0xFF)
    return bytes([kind]) + bytes(out)


def label_png(width, height, depth, colour, value, palette=None, interlaced=True):
    raw, row_number = bytearray(), 0
    for x0, y0, dx, dy in PASSES if interlaced else [(0, 0, 1, 1)]:
        columns = list(range(x0, width, dx))
        rows = list(range(y0, height, dy))
        if not columns or not rows:
            continue
        previous = None
        for y in rows:
            row = pack_row([value(x, y) for x in columns], depth)
            raw += filtered(row, previous, row_number % 5, max(1, depth // 8))
            previous, row_number = row, row_number + 1
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 1 if interlaced else 0)
    body = chunk(b"IHDR", header)
    if palette is not None:
        body += chunk(b"PLTE", bytes(palette))
    body += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write_and_check(path, width, height, depth, colour, value, palette=None, interlaced=True):
    with open(path, "wb") as f:
        f.write(label_png(width, height, depth, colour, value, palette, interlaced))
    image = Image.open(path)
    assert image.info.get("interlace", 0) == (1 if interlaced else 0), path
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            assert pixels[x, y] == value(x, y), (path, x, y, pixels[x, y], value(x, y))
    print(f"wrote {path}: Pillow reads the same {width}x{height} indices")


def main():
    out = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests", "fixtures", "labels")
    os.makedirs(out, exist_ok=True)
    write_and_check(os.path.join(out, "interlaced_gray8.png"), 13, 11, 8, 0, lambda x, y: (7 * x + 13 * y) % 21)
    palette = [c for i in range(16) for c in (i * 16, 255 - i * 16, (i * 37) % 256)]
    write_and_check(os.path.join(out, "interlaced_palette4.png"), 13, 11, 4, 3, lambda x, y: (x + 2 * y) % 16, palette)
    for interlaced in (False, True):
        write_and_check(os.path.join(out, ("interlaced_" if interlaced else "") + "gray16.png"), 13, 11, 16, 0,
                        lambda x, y: (5 * x + 3 * y) % 21, interlaced=interlaced)
    # A 16-bit value no class index takes (the reader refuses it, naming the pixel).
    write_and_check(os.path.join(out, "gray16_over_255.png"), 2, 1, 16, 0, lambda x, y: 300 if x == 1 else 7, interlaced=False)


if __name__ == "__main__":
    main()
