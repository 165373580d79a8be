import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EditModel, regionLabel, snap, summarize } from '../panel/src/state-model.js';

test('a state becomes sliders and back', () => {
  const m = EditModel.fromState({ sky: { warmth: 0.2, brightness: -0.1 }, global: { contrast: 0.15 }, water: { cool: 0.3 } });
  assert.deepEqual(m.rows.map((r) => r.region), ['global', 'sky', 'water']);
  assert.equal(m.rows[2].values.temperature, -0.3, '"cool" is negative warmth');
  assert.deepEqual(m.toState(), {
    global: { contrast: 0.15 },
    sky: { brightness: -0.1, temperature: 0.2 },
    water: { temperature: -0.3 },
  });
});

test('zeros and empty regions are left out; values snap to the sliders', () => {
  const m = new EditModel();
  m.addRegion('Sky');
  m.set('sky', 'colorfulness', 0.1234);
  m.set('sky', 'contrast', 3);
  m.addRegion('water');
  assert.deepEqual(m.toState(), { sky: { contrast: 1, colorfulness: 0.12 } });
  m.set('sky', 'contrast', 0);
  m.set('sky', 'colorfulness', 0);
  assert.ok(m.isEmpty());
  assert.equal(snap(Number.NaN), 0);
  m.removeRegion('sky');
  assert.deepEqual(m.rows.map((r) => r.region), ['water']);
});

test('states from anywhere are read defensively', () => {
  const m = EditModel.fromState({ sky: { sparkle: 1, warmth: 'hot' } as never, bad: null as never });
  assert.ok(m.isEmpty());
});

test('labels and summaries read well', () => {
  assert.equal(regionLabel('global'), 'Whole image');
  assert.equal(regionLabel('selection'), 'Selection');
  assert.equal(regionLabel('sky'), 'Sky');
  assert.equal(summarize({ sky: { temperature: 0.2 }, global: { contrast: -0.15 } }), 'sky: warmth +20; image: contrast -15');
  assert.equal(summarize({}), 'no change');
  assert.ok(summarize({ sky: { temperature: 0.2, brightness: 0.3, contrast: 0.1 } }, 20).length <= 20);
});
