#!/usr/bin/env bash
# Writes the binary seed corpora (fuzz/corpus/image_decode, fuzz/corpus/pixel_view)
# from scratch: small images of each format, depth and layout our loader reads,
# cut-off and damaged copies, the hostile fixtures, and pixel-view descriptions.
# The text corpora (region_state, vlm_reply, manifest) are plain files edited by
# hand. Needs python3 and a built `pertouch` (cargo build -p pertouch-cli), which
# writes the JPEG, TIFF and WebP seeds through the same encoders users get.
set -euo pipefail
cd "$(dirname "$0")"
pertouch="${PERTOUCH:-../target/debug/pertouch}"
out=corpus/image_decode
mkdir -p "$out" corpus/pixel_view
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 - "$out" "$tmp" <<'PY'
import struct, sys, zlib
out, tmp = sys.argv[1], sys.argv[2]

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

def png(w, h, depth, colour, rows, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

w, h = 12, 8
rgb = png(w, h, 8, 2, [bytes((x * 20 + y * 7 + c * 50) % 256 for x in range(w) for c in range(3)) for y in range(h)])
open(f"{tmp}/rgb.png", "wb").write(rgb)
open(f"{out}/rgb8.png", "wb").write(rgb)
open(f"{out}/rgba16.png", "wb").write(png(w, h, 16, 6, [bytes((x * 9 + y + c) % 256 for x in range(w) for c in range(8)) for y in range(h)]))
open(f"{out}/grey1.png", "wb").write(png(w, h, 1, 0, [bytes([0b10110010, 0b01000000]) for _ in range(h)]))
open(f"{out}/grey-alpha.png", "wb").write(png(w, h, 8, 4, [bytes((x + y) % 256 for x in range(w * 2)) for y in range(h)]))
plte = chunk(b"PLTE", bytes(range(12)))
open(f"{out}/palette.png", "wb").write(png(w, h, 4, 3, [bytes([0x01, 0x23, 0x01, 0x23, 0x01, 0x23]) for _ in range(h)], plte))
open(f"{out}/png-cut.png", "wb").write(rgb[: len(rgb) // 2])
open(f"{out}/png-huge-header.png", "wb").write(png(1 << 30, 1 << 30, 8, 2, [b""]))
PY

for ext in jpg tif webp; do
  "$pertouch" retouch "$tmp/rgb.png" -o "$tmp/rgb.$ext" --set contrast=0.1 -q >/dev/null
  cp "$tmp/rgb.$ext" "$out/rgb.$ext"
  size=$(stat -c %s "$tmp/rgb.$ext")
  head -c $((size / 2)) "$tmp/rgb.$ext" > "$out/cut.$ext"
done
# A JPEG without its end marker only, and one with a byte flipped mid-scan.
size=$(stat -c %s "$tmp/rgb.jpg")
head -c $((size - 2)) "$tmp/rgb.jpg" > "$out/jpg-no-eoi.jpg"
python3 - "$tmp/rgb.jpg" "$out/jpg-flipped.jpg" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) * 2 // 3] ^= 0x55
open(sys.argv[2], "wb").write(bytes(b))
PY
cp ../core/tests/data/hostile/tiled-planar.tif "$out/tiled-planar.tif"

# Pixel views: the first bytes are width, height, channels, depth, padding,
# short-step, bottom-up and misalignment choices (see checks.rs), then fill and
# rectangle choices.
python3 - corpus/pixel_view <<'PY'
import sys
d = sys.argv[1]
seeds = {
    "rgb8-top-down": [15, 9, 3, 0, 4, 1, 0, 1] + list(range(40)),
    "rgba16-bottom-up": [31, 20, 4, 1, 8, 1, 1, 1] + list(range(200, 240)),
    "f32-padded": [7, 47, 3, 2, 12, 1, 0, 1] + [255] * 40,
    "grey-matte": [47, 47, 1, 0, 0, 1, 1, 1] + [3, 4, 5, 6, 0, 0],
    "short-step": [10, 10, 3, 0, 2, 0, 0, 1],
    "misaligned-u16": [10, 10, 4, 1, 2, 1, 0, 0],
    "zero-channels": [3, 3, 0, 0],
}
for name, b in seeds.items():
    open(f"{d}/{name}", "wb").write(bytes(x % 256 for x in b))
PY
ls -l "$out" corpus/pixel_view | head -40
