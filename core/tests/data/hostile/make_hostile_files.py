#!/usr/bin/env python3
"""Writes the hostile image fixtures in this folder (standard library only):

tiled-planar.tif  40 x 20 RGB, 8-bit, 16 x 16 tiles, PlanarConfiguration 2
                  (one plane per channel), as ImageMagick writes with
                  `-define tiff:tile-geometry=64x64 -interlace plane`. The `tiff`
                  crate's decoder trips an assertion on this layout (issue 18
                  item 4): the file must be an error, never a crash.
wide-bomb.png     249,000,000 x 1 pixels of 1-bit grey in 30 KB (issue 18 item 8):
                  refused before decoding instead of taking gigabytes.

Run: python3 make_hostile_files.py (rewrites both files).
"""
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tiled_planar_tiff(width=40, height=20, tile=16):
    tiles_x = (width + tile - 1) // tile
    tiles_y = (height + tile - 1) // tile
    tile_bytes = tile * tile
    data = bytearray()
    offsets = []
    header = 8
    for plane in range(3):
        for ty in range(tiles_y):
            for tx in range(tiles_x):
                offsets.append(header + len(data))
                for y in range(tile):
                    for x in range(tile):
                        gx, gy = tx * tile + x, ty * tile + y
                        data.append((gx * 6 + gy * 3 + plane * 80) % 256)
    counts = [tile_bytes] * len(offsets)
    ifd_at = header + len(data)
    n = len(offsets)
    # Out-of-line values follow the IFD.
    entries = 11
    extra_at = ifd_at + 2 + entries * 12 + 4
    bits_at = extra_at
    offsets_at = bits_at + 6
    counts_at = offsets_at + 4 * n
    SHORT, LONG = 3, 4

    def entry(tag, typ, count, value):
        if typ == SHORT and count == 1:
            return struct.pack("<HHIHH", tag, typ, count, value, 0)
        return struct.pack("<HHII", tag, typ, count, value)

    ifd = struct.pack("<H", entries)
    ifd += entry(256, SHORT, 1, width)
    ifd += entry(257, SHORT, 1, height)
    ifd += entry(258, SHORT, 3, bits_at)
    ifd += entry(259, SHORT, 1, 1)  # no compression
    ifd += entry(262, SHORT, 1, 2)  # RGB
    ifd += entry(277, SHORT, 1, 3)  # samples per pixel
    ifd += entry(284, SHORT, 1, 2)  # planar: separate
    ifd += entry(322, SHORT, 1, tile)
    ifd += entry(323, SHORT, 1, tile)
    ifd += entry(324, LONG, n, offsets_at)
    ifd += entry(325, LONG, n, counts_at)
    ifd += struct.pack("<I", 0)
    extra = struct.pack("<HHH", 8, 8, 8)
    extra += struct.pack(f"<{n}I", *offsets)
    extra += struct.pack(f"<{n}I", *counts)
    return b"II*\0" + struct.pack("<I", ifd_at) + bytes(data) + ifd + extra


def png(width, height, bit_depth, colour_type, raw):
    def chunk(kind, body):
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    (HERE / "tiled-planar.tif").write_bytes(tiled_planar_tiff())
    width = 249_000_000
    row = b"\x00" + bytes((width + 7) // 8)
    (HERE / "wide-bomb.png").write_bytes(png(width, 1, 1, 0, row))


if __name__ == "__main__":
    main()
