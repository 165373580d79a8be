// The panel's codec against the shared vectors (fixtures/protocol.json), which
// the bridge's Rust tests read too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_PORT, bandMessage, decodeHeader, encodeHeader, parseServerMessage, PROTO } from '../panel/src/protocol.js';
import type { BandHeader } from '../panel/src/protocol.js';
import { ROOT } from './paths.js';

const f = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'protocol.json'), 'utf8'));
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

test('version and port agree with the bridge', () => {
  assert.equal(f.proto, PROTO);
  assert.equal(f.port, BRIDGE_PORT);
});

test('header vectors encode and decode exactly', () => {
  for (const v of f.headers) {
    const h: BandHeader = { kind: v.kind, job: v.job, band: v.band, y0: v.y0, rows: v.rows, width: v.width, components: v.components, bits: v.bits };
    assert.equal(Buffer.from(encodeHeader(h)).toString('hex'), v.hex);
    assert.deepEqual(decodeHeader(bytes(v.hex)).header, h);
  }
  for (const v of f.badHeaders) assert.throws(() => decodeHeader(bytes(v.hex)), Error, v.why);
});

test('a band message carries its payload after the header', () => {
  const h = f.headers[0];
  const msg = bandMessage(h, Uint8Array.from([1, 2, 3]));
  const back = decodeHeader(msg.subarray(0));
  assert.deepEqual(Array.from(back.payload), [1, 2, 3]);
  // A view into a larger buffer decodes too (WebSocket data often is one).
  const big = new Uint8Array(msg.length + 8);
  big.set(msg, 8);
  assert.equal(decodeHeader(big.subarray(8)).header.width, h.width);
});

test('server messages parse; others are refused', () => {
  for (const m of f.server) assert.deepEqual(parseServerMessage(JSON.stringify(m)), m);
  assert.throws(() => parseServerMessage('{"type":"nope"}'));
  assert.throws(() => parseServerMessage('[]'));
  assert.throws(() => parseServerMessage('not json'));
});
