import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLongSide, planBands, sampleBytes, samplesFromBytes } from '../panel/src/bands.js';
import { MAX_BAND_BYTES } from '../panel/src/protocol.js';

test('bands cover every row once, within the byte limit', () => {
  for (const [h, rowBytes, maxRows] of [
    [4000, 6000 * 6, Infinity],
    [4000, 6000 * 6, 50],
    [1, 10, Infinity],
    [117, 6000 * 8, Infinity],
  ] as const) {
    const bands = planBands(h, rowBytes, maxRows);
    let next = 0;
    bands.forEach((b, i) => {
      assert.equal(b.band, i);
      assert.equal(b.y0, next);
      assert.ok(b.rows >= 1 && b.rows * rowBytes <= MAX_BAND_BYTES && b.rows <= maxRows);
      next += b.rows;
    });
    assert.equal(next, h);
  }
  assert.equal(planBands(4000, 36000).length, Math.ceil(4000 / 116));
  assert.throws(() => planBands(10, MAX_BAND_BYTES + 1));
  assert.throws(() => planBands(0, 10));
});

test('16-bit samples travel little-endian and come back', () => {
  const s = Uint16Array.from([0, 1, 256, 65535, 32768]);
  const b = sampleBytes(s);
  assert.deepEqual(Array.from(b), [0, 0, 1, 0, 0, 1, 255, 255, 0, 128]);
  assert.deepEqual(Array.from(samplesFromBytes(b, 16)), Array.from(s));
  // An odd offset (a band's payload inside a message) still reads right.
  const odd = new Uint8Array(b.length + 1);
  odd.set(b, 1);
  assert.deepEqual(Array.from(samplesFromBytes(odd.subarray(1), 16)), Array.from(s));
  const eight = Uint8Array.from([9, 8, 7]);
  assert.equal(sampleBytes(eight), eight);
});

test('preview sizes keep the aspect', () => {
  assert.deepEqual(fitLongSide(6000, 4000, 768), { width: 768, height: 512 });
  assert.deepEqual(fitLongSide(300, 200, 768), { width: 300, height: 200 });
});
