// Draws the panel's icons (a ring with a touch point, anti-aliased) and writes
// them as PNGs into panel/icons/. Run: node panel/scripts/make-icons.mjs
// The PNGs are committed; this script is how they were made.

import { deflateSync, crc32 } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'icons');

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bits
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Coverage of the icon at (x, y) in a unit square: a ring and a dot. */
function coverage(u, v) {
  const dx = u - 0.5, dy = v - 0.5;
  const r = Math.hypot(dx, dy);
  const ring = Math.abs(r - 0.38) < 0.055 ? 1 : 0;
  const dot = Math.hypot(u - 0.62, v - 0.38) < 0.13 ? 1 : 0;
  const gap = Math.hypot(u - 0.62, v - 0.38) < 0.2 && !dot ? 1 : 0; // the dot breaks the ring
  return Math.max(ring * (1 - gap), dot);
}

function draw(size, [r, g, b]) {
  const px = Buffer.alloc(size * size * 4);
  const n = 4; // 4x4 supersampling
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let c = 0;
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) c += coverage((x + (i + 0.5) / n) / size, (y + (j + 0.5) / n) / size);
      const o = (y * size + x) * 4;
      px[o] = r;
      px[o + 1] = g;
      px[o + 2] = b;
      px[o + 3] = Math.round((255 * c) / (n * n));
    }
  }
  return png(size, px);
}

mkdirSync(out, { recursive: true });
const light = [214, 214, 214]; // on dark themes
const dark = [70, 70, 70]; // on light themes
for (const [name, size, colour] of [
  ['panel-dark.png', 23, light],
  ['panel-dark@2x.png', 46, light],
  ['panel-light.png', 23, dark],
  ['panel-light@2x.png', 46, dark],
  ['plugin.png', 48, light],
  ['plugin@2x.png', 96, light],
]) {
  writeFileSync(join(out, name), draw(size, colour));
}
console.log(`icons written to ${out}`);
