import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editToXmp, layerName, xmpToEdit } from '../panel/src/layer-meta.js';

test('an edit survives the layer XMP, special characters included', () => {
  const edit = { state: { sky: { temperature: 0.2 } }, instruction: 'make the <sky> "warmer" & brighter', mix: 0.75 };
  const xmp = editToXmp(edit);
  assert.ok(!xmp.includes('<sky>'), 'escaped');
  assert.deepEqual(xmpToEdit(xmp), edit);
});

test('layers that are not ours, or broken, give nothing', () => {
  assert.equal(xmpToEdit(null), null);
  assert.equal(xmpToEdit('<x:xmpmeta/>'), null);
  const broken = editToXmp({ state: {}, instruction: '', mix: 1 }).replace('{}', '{oops');
  assert.equal(xmpToEdit(broken), null);
  const notState = editToXmp({ state: { sky: { temperature: 'hot' } } as never, instruction: '', mix: 1 });
  assert.equal(xmpToEdit(notState), null);
  const wildMix = editToXmp({ state: {}, instruction: '', mix: 7 });
  assert.equal(xmpToEdit(wildMix)?.mix, 1);
});

test('layer names say what was done', () => {
  assert.equal(layerName({ state: {}, instruction: 'warmer sky', mix: 1 }), 'PerTouch: warmer sky');
  assert.equal(layerName({ state: { sky: { brightness: 0.1 } }, instruction: ' ', mix: 1 }), 'PerTouch: sky: brightness +10');
  assert.ok(layerName({ state: {}, instruction: 'x'.repeat(300), mix: 1 }).length <= 100);
});
