import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, describe } from '../panel/src/status.js';
import { refusal } from '../panel/src/host.js';
import { drain } from '../panel/src/bridge-client.js';
import { base64 } from '../panel/src/image-url.js';

test('every problem comes with the exact fix', () => {
  const down = describe({ state: 'not_running' });
  assert.equal(down.level, 'error');
  assert.match(down.fix ?? '', /`pertouch bridge`/);
  const unpaired = describe({ state: 'unpaired' });
  assert.match(unpaired.fix ?? '', /`pertouch bridge pair`/);
  assert.equal(describe({ state: 'unpaired', reason: 'That code is wrong' }).title, 'That code is wrong');
  assert.equal(describe({ state: 'version', message: 'update the panel' }).fix, 'update the panel');
  assert.equal(describe({ state: 'connected', bridge: '0.1.0', renderer: 'parametric' }).level, 'ok');
});

test('reconnects back off to five seconds', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoff), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
});

test('documents v1 does not edit are refused clearly', () => {
  assert.equal(refusal('RGBColorMode', 8), null);
  assert.equal(refusal('RGBColorMode', 16), null);
  assert.match(refusal('CMYKColorMode', 8) ?? '', /CMYK documents are not supported.*RGB Color/);
  assert.match(refusal('labColorMode', 16) ?? '', /Lab documents/);
  assert.match(refusal('grayscaleMode', 8) ?? '', /Grayscale/);
  assert.match(refusal('RGBColorMode', 32) ?? '', /32-bit documents are not supported yet.*16 Bits/);
});

test('sending waits for the socket buffer to drain', async () => {
  const queued = [20 << 20, 12 << 20, 9 << 20, 1 << 20];
  const ws = { get bufferedAmount() { return queued[0]; } };
  let sleeps = 0;
  await drain(ws, 8 << 20, async () => {
    sleeps++;
    queued.shift();
  });
  assert.equal(sleeps, 3);
  assert.equal(ws.bufferedAmount, 1 << 20);
});

test('preview JPEGs become data URLs byte for byte', () => {
  for (const n of [0, 1, 2, 3, 100, 10000]) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    assert.equal(base64(b), Buffer.from(b).toString('base64'));
  }
});
