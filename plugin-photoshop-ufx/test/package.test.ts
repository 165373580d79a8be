// The panel as shipped: one module touches Photoshop and UXP, the manifest asks
// for no more than it needs, the bundle has no code from strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_PORT } from '../panel/src/protocol.js';
import { ROOT } from './paths.js';

const src = join(ROOT, 'panel', 'src');

test('only ps-adapter.ts touches photoshop and uxp', () => {
  const touching = readdirSync(src)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /(from\s+|require\()\s*['"](photoshop|uxp)['"]/.test(readFileSync(join(src, f), 'utf8')));
  assert.deepEqual(touching, ['ps-adapter.ts']);
});

test('the manifest: v5, PS 25+, apiVersion 2, exactly the bridge port, no code generation', () => {
  const m = JSON.parse(readFileSync(join(ROOT, 'panel', 'manifest.json'), 'utf8'));
  assert.equal(m.manifestVersion, 5);
  assert.equal(m.host.app, 'PS');
  assert.ok(Number(m.host.minVersion.split('.')[0]) >= 25);
  assert.equal(m.host.data.apiVersion, 2);
  assert.deepEqual(m.requiredPermissions.network.domains, [`ws://127.0.0.1:${BRIDGE_PORT}`]);
  assert.notEqual(m.requiredPermissions.network.domains, 'all');
  assert.equal(m.requiredPermissions.allowCodeGenerationFromStrings, undefined);
  assert.equal(m.requiredPermissions.localFileSystem, undefined, 'no file access is needed');
  assert.ok(existsSync(join(ROOT, 'panel', m.main)));
  const adapter = readFileSync(join(src, 'ps-adapter.ts'), 'utf8');
  for (const e of m.entrypoints) assert.ok(adapter.includes(`'${e.id}'`), `entrypoints.setup names ${e.id}`);
  for (const icon of [...m.icons, ...m.entrypoints.flatMap((e: { icons: unknown[] }) => e.icons)]) {
    assert.ok(existsSync(join(ROOT, 'panel', icon.path)), icon.path);
    if (icon.scale.includes(2)) assert.ok(existsSync(join(ROOT, 'panel', icon.path.replace('.png', '@2x.png'))));
  }
});

test('the bundle generates no code from strings', () => {
  const bundle = join(ROOT, 'dist', 'panel', 'main.js');
  assert.ok(existsSync(bundle), 'run the build first');
  const text = readFileSync(bundle, 'utf8');
  assert.doesNotMatch(text, /\beval\s*\(/);
  assert.doesNotMatch(text, /\bnew\s+Function\s*\(/);
});
