// Bundles the panel (esbuild) into dist/panel/ with its manifest, HTML, CSS and
// icons: the folder UXP Developer Tool loads and the .ccx packs. With --tests,
// also bundles test/*.test.ts for `node --test` into .build/test/.
// The bundle is checked for code generated from strings (eval, new Function),
// which the manifest does not allow.

import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const panel = join(root, 'panel');
const dist = join(root, 'dist', 'panel');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [join(panel, 'src', 'main.ts')],
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  external: ['photoshop', 'uxp'],
  outfile: join(dist, 'main.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['manifest.json', 'index.html', 'styles.css']) cpSync(join(panel, f), join(dist, f));
cpSync(join(panel, 'icons'), join(dist, 'icons'), { recursive: true });

const bundle = readFileSync(join(dist, 'main.js'), 'utf8');
for (const banned of [/\beval\s*\(/, /\bnew\s+Function\s*\(/]) {
  if (banned.test(bundle)) {
    console.error(`error: the bundle generates code from strings (${banned}); UXP forbids it without allowCodeGenerationFromStrings`);
    process.exit(1);
  }
}
console.log(`panel bundle: ${dist} (${(bundle.length / 1024).toFixed(1)} KiB)`);

if (process.argv.includes('--tests')) {
  const out = join(root, '.build', 'test');
  rmSync(out, { recursive: true, force: true });
  const tests = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts'));
  await build({
    entryPoints: tests.map((f) => join(root, 'test', f)),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  console.log(`tests: ${tests.length} files in ${out}`);
}
