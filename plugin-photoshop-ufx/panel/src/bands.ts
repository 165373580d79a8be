// How a frame is cut into bands, and samples turned into wire bytes.

import { MAX_BAND_BYTES } from './protocol.js';

export interface Band {
  band: number;
  y0: number;
  rows: number;
}

/** Bands of whole rows covering `height` rows, each at most `maxBytes` (and at
 * most `maxRows` rows when the bridge asked for fewer). */
export function planBands(height: number, rowBytes: number, maxRows = Infinity, maxBytes = MAX_BAND_BYTES): Band[] {
  if (!(height > 0) || !(rowBytes > 0)) throw new Error(`cannot cut ${height} rows of ${rowBytes} bytes`);
  if (rowBytes > maxBytes) throw new Error(`one row is ${rowBytes} bytes, more than a band holds (${maxBytes})`);
  const rows = Math.max(1, Math.min(Math.floor(maxBytes / rowBytes), maxRows, height));
  const out: Band[] = [];
  for (let y0 = 0, band = 0; y0 < height; y0 += rows, band++) {
    out.push({ band, y0, rows: Math.min(rows, height - y0) });
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Samples as little-endian bytes (a view, no copy, on little-endian machines:
 * every machine Photoshop runs on). */
export function sampleBytes(samples: Uint8Array | Uint16Array): Uint8Array {
  if (samples instanceof Uint8Array) return samples;
  if (LITTLE_ENDIAN) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 2);
  const v = new DataView(out.buffer);
  samples.forEach((s, i) => v.setUint16(i * 2, s, true));
  return out;
}

/** Little-endian 16-bit wire bytes back to samples. */
export function samplesFromBytes(bytes: Uint8Array, bits: number): Uint8Array | Uint16Array {
  if (bits === 8) return bytes;
  if (bytes.byteLength % 2 !== 0) throw new Error('16-bit samples need an even byte count');
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }
  const out = new Uint16Array(bytes.byteLength / 2);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint16(i * 2, true);
  return out;
}

/** A size that fits `maxSide` on its long side, aspect kept. */
export function fitLongSide(width: number, height: number, maxSide: number): { width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}
