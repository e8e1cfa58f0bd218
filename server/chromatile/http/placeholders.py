"""Placeholder thumbnails: what an `<img>` of a withdrawn or private image shows instead of a broken icon.

A 256 x 256 PNG (the thumbnail size) with a crossed frame and one word, drawn from a 5 x 7 bitmap font
and encoded here (zlib), so the server needs no imaging library and no files. Made once per process.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

import numpy as np

SIZE = 256
# 5 x 7 glyphs of the letters the words need ("#" is ink).
GLYPHS = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "#####"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"),
}
WORDS = {"withdrawn": ("WITHDRAWN", (176, 40, 40)), "private": ("PRIVATE", (60, 60, 150))}


@cache
def placeholder_png(kind: str) -> bytes:
    """The PNG of `kind` ("withdrawn" or "private")."""
    word, ink = WORDS[kind]
    img = np.full((SIZE, SIZE, 3), 235, np.uint8)
    img[:4], img[-4:], img[:, :4], img[:, -4:] = ink, ink, ink, ink
    scale = 4
    width = (len(word) * 6 - 1) * scale
    x0, y0 = (SIZE - width) // 2, (SIZE - 7 * scale) // 2
    for n, letter in enumerate(word):
        for row, line in enumerate(GLYPHS[letter]):
            for col, cell in enumerate(line):
                if cell == "#":
                    y, x = y0 + row * scale, x0 + (n * 6 + col) * scale
                    img[y:y + scale, x:x + scale] = ink
    return _png(img, f"chromatile placeholder: {kind}")


def _png(rgb: np.ndarray, description: str) -> bytes:
    """An 8-bit RGB PNG with a tEXt Description (tools and tests can read what it shows)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Description\x00" + description.encode("latin-1"))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
