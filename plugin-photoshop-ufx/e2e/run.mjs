// The browser end-to-end test: the shipped panel bundle (dist/panel) in headless
// Chromium (Debian's, driven by playwright-core), with `require('photoshop')` and
// `require('uxp')` provided by e2e/fake-photoshop.js, talking to the real bridge
// binary (`pertouch bridge`) on the manifest's port. Every new layer is compared
// with the core's own render (examples/e2e_reference.rs, host::Engine directly).
//
// Run: build/photoshop-e2e.sh (builds what is needed), or
//   PERTOUCH_BIN=... PERTOUCH_E2E_REFERENCE=... node e2e/run.mjs [--screenshot FILE]
// Exit status 0 when every step passes.

import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream, statSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(ROOT, '..');
const SAMPLES = process.env.PERTOUCH_SAMPLES ?? resolve(REPO, '..', 'shared', 'samples');
const BIN = process.env.PERTOUCH_BIN ?? join(REPO, 'target', 'debug', 'pertouch');
const REF = process.env.PERTOUCH_E2E_REFERENCE ?? join(REPO, 'target', 'debug', 'examples', 'e2e_reference');
const CHROMIUM = process.env.CHROMIUM ?? ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((p) => existsSync(p));
const PORT = 47863; // the manifest's port
const screenshotArg = process.argv.indexOf('--screenshot');
const SCREENSHOT = screenshotArg > 0 ? resolve(process.argv[screenshotArg + 1]) : null;

const tmp = mkdtempSync(join(tmpdir(), 'pertouch-e2e-'));
const data = join(tmp, 'data');
mkdirSync(data);
const tokenFile = join(tmp, 'config', 'bridge-token.json');
const timings = [];
let bridge = null;
let bridgeLog = '';
let browser = null;

function fail(msg) {
  throw new Error(msg);
}

async function step(name, fn) {
  const t = Date.now();
  process.stdout.write(`- ${name} ... `);
  const r = await fn();
  const ms = Date.now() - t;
  timings.push([name, ms]);
  console.log(`ok (${(ms / 1000).toFixed(1)} s)`);
  return r;
}

function tool(...args) {
  execFileSync(REF, args.map(String), { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function portAnswers(port) {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      done(true);
    });
    s.on('error', () => done(false));
  });
}

async function startBridge(origin) {
  const args = ['bridge', '--port', String(PORT), '--token-file', tokenFile, '--allow-origin', origin];
  const env = { ...process.env, PERTOUCH_DATA_DIR: join(tmp, 'pertouch-data'), RUST_LOG: 'trace' };
  const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (d) => (bridgeLog += d));
  let out = '';
  await new Promise((ok, no) => {
    const timer = setTimeout(() => no(new Error(`the bridge did not start: ${out}${bridgeLog.slice(-2000)}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      no(new Error(`the bridge exited (${code}): ${out}${bridgeLog.slice(-2000)}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopBridge() {
  if (!bridge) return;
  const b = bridge;
  bridge = null;
  await new Promise((ok) => {
    b.on('exit', ok);
    b.kill('SIGTERM');
  });
}

function serve() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json' };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const base = url.pathname.startsWith('/data/') ? data : join(ROOT, 'dist', 'panel');
    const rel = url.pathname.replace(/^\/data\//, '/').replace(/^\/+/, '');
    const file = resolve(base, rel || 'index.html');
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

async function main() {
  for (const [what, p] of [['pertouch', BIN], ['e2e_reference', REF], ['Chromium', CHROMIUM], ['panel bundle', join(ROOT, 'dist', 'panel', 'main.js')], ['samples', SAMPLES]]) {
    if (!p || !existsSync(p)) fail(`${what} not found (${p}); build/photoshop-e2e.sh builds and finds everything`);
  }
  if (await portAnswers(PORT)) fail(`something already listens on 127.0.0.1:${PORT} (a bridge?): stop it first`);

  const sizes = { small: [1600, 1000], big: [6000, 4000] };
  await step('test documents (sample photos, 8-bit 1600x1000 and 16-bit 6000x4000)', async () => {
    tool('doc', join(SAMPLES, 'dune.jpg'), ...sizes.small, 8, join(data, 'dune8.raw'));
    tool('selection', ...sizes.small, join(data, 'sel.raw'));
    tool('doc', join(SAMPLES, 'storm.jpg'), ...sizes.big, 16, join(data, 'storm16.raw'));
  });
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  bridge = await step('bridge started (real binary, port 47863)', () => startBridge(origin));

  browser = await step('Chromium started', () =>
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-extensions', '--no-first-run'],
    }),
  );
  const page = await browser.newPage({ viewport: { width: 300, height: 980 }, deviceScaleFactor: 2 });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket connection to/.test(m.text())) pageErrors.push(m.text());
  });
  await page.addInitScript({ path: join(ROOT, 'e2e', 'fake-photoshop.js') });
  const cdp = await page.context().newCDPSession(page);
  // JS heap plus ArrayBuffer backing stores (where pixels live).
  const heap = async () => {
    const h = await cdp.send('Runtime.getHeapUsage');
    return h.usedSize + (h.backingStorageSize ?? 0);
  };

  const text = (sel) => page.locator(sel).innerText();
  const waitFor = (fn, arg, timeout = 120000) => page.waitForFunction(fn, arg, { timeout, polling: 50 });
  const status = () => text('#status-title');
  const summary = () => page.evaluate(() => window.__fake.summary());
  const waitIdle = () => waitFor(() => document.getElementById('busy').hidden);
  const waitMessage = (re) => waitFor((src) => new RegExp(src).test(document.getElementById('message').textContent), re.source);

  async function openDoc(title, file, [width, height], bits, mode) {
    return page.evaluate(
      async ({ title, file, width, height, bits, mode }) => {
        let pixels = null;
        if (file) {
          const buf = await (await fetch(`/data/${file}`)).arrayBuffer();
          pixels = bits === 16 ? new Uint16Array(buf) : new Uint8Array(buf);
        }
        return window.__fake.open({ title, width, height, bits, mode, pixels });
      },
      { title, file, width, height, bits, mode },
    );
  }

  /** Compares layer `layerId` with the reference render (and, under a selection,
   * unselected pixels with the background), in the page. */
  async function compare(layerId, refFile, selFile) {
    return page.evaluate(
      async ({ layerId, refFile, selFile }) => {
        const f = window.__fake;
        const doc = f.doc();
        const layer = doc._layers.find((l) => l.id === layerId);
        const bg = doc._layers.find((l) => l.background);
        const buf = await (await fetch(`/data/${refFile}`)).arrayBuffer();
        const ref = doc._bits === 16 ? new Uint16Array(buf) : new Uint8Array(buf);
        const sel = selFile ? new Uint8Array(await (await fetch(`/data/${selFile}`)).arrayBuffer()) : null;
        let wrong = 0, untouched = 0, untouchedWrong = 0, changed = 0, first = null;
        const n = doc.width * doc.height;
        for (let i = 0; i < n; i++) {
          const outside = sel && sel[i] === 0;
          if (outside) untouched++;
          for (let c = 0; c < 3; c++) {
            const k = i * 3 + c;
            const want = outside ? bg.rgb[k] : doc._bits === 16 ? f.fromFull(ref[k]) : ref[k];
            if (layer.rgb[k] !== want) {
              if (outside) untouchedWrong++;
              else wrong++;
              if (!first) first = { i, c, got: layer.rgb[k], want };
            }
            if (layer.rgb[k] !== bg.rgb[k]) changed++;
          }
        }
        const opaque = layer.alpha.every((a) => a === (doc._bits === 16 ? 32768 : 255));
        return { wrong, untouched, untouchedWrong, changed, first, opaque, mask: layer.mask && sel ? layer.mask.every((m, i) => m === sel[i]) : null };
      },
      { layerId, refFile, selFile },
    );
  }

  /** The state stored on a layer, rendered by the core for comparison. */
  async function reference(layer, docFile, [w, h], bits, out, selFile) {
    const m = /<pertouch:state>([\s\S]*?)<\/pertouch:state>/.exec(layer.xmp ?? '');
    if (!m) fail(`layer "${layer.name}" has no PerTouch state in its XMP`);
    const stateFile = join(data, `${out}.state.json`);
    writeFileSync(stateFile, m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    tool('render', join(data, docFile), w, h, bits, stateFile, join(data, out), ...(selFile ? [join(data, selFile)] : []));
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  }

  function checkLayer(r, what) {
    if (r.wrong || r.untouchedWrong) fail(`${what}: ${r.wrong} samples differ from the core's render, ${r.untouchedWrong} unselected samples changed (first: ${JSON.stringify(r.first)})`);
    if (!r.opaque) fail(`${what}: the layer is not fully written (replace:false missing?)`);
    if (r.changed === 0) fail(`${what}: the layer equals the original`);
  }

  await step('panel loads; without a token it says how to pair', async () => {
    await page.goto(`${origin}/index.html`);
    await waitFor(() => /Not paired/.test(document.getElementById('status-title').textContent));
    const fix = await text('#status-fix');
    if (!fix.includes('pertouch bridge pair')) fail(`fix text: ${fix}`);
    if (await page.locator('#pairing').isHidden()) fail('no pairing field');
  });

  await step('a wrong code is refused; the code from `pertouch bridge pair` pairs', async () => {
    await page.fill('#pair-code', '0000-0000');
    await page.click('#pair-button');
    await waitFor(() => /code is wrong/.test(document.getElementById('status-title').textContent));
    const out = execFileSync(BIN, ['bridge', 'pair', '--port', String(PORT), '--token-file', tokenFile]).toString();
    const code = /Pairing code: (\S+)/.exec(out)?.[1] ?? fail(`no code in: ${out}`);
    await page.fill('#pair-code', code);
    await page.click('#pair-button');
    await waitFor(() => /^Connected/.test(document.getElementById('status-title').textContent));
  });

  const dune = await openDoc('dune.psd', 'dune8.raw', sizes.small, 8);
  await step('8-bit document: Read turns the instruction into region sliders, preview shows', async () => {
    await waitFor(() => /dune\.psd/.test(document.getElementById('doc').textContent));
    await page.fill('#instruction', 'make the sky a little warmer and add a bit of contrast');
    await page.click('#read');
    await waitFor(() => document.querySelector('.region[data-region="sky"]') !== null);
    await waitIdle();
    const warm = await page.$eval('.region[data-region="sky"] input[data-attr="temperature"]', (e) => Number(e.value));
    if (!(warm > 0)) fail(`sky warmth slider at ${warm}`);
    await waitFor(() => document.getElementById('preview').dataset.seq !== undefined && document.getElementById('preview').complete);
  });
  if (SCREENSHOT) {
    const height = await page.evaluate(() => Math.ceil(document.getElementById('panel').getBoundingClientRect().bottom) + 4);
    await page.setViewportSize({ width: 300, height });
    await page.screenshot({ path: SCREENSHOT });
    await page.setViewportSize({ width: 300, height: 980 });
    console.log(`  screenshot: ${SCREENSHOT}`);
  }

  let before = await summary();
  const first = await step('Apply: a new layer equal to the core render, one history entry', async () => {
    await page.click('#apply');
    await waitMessage(/Applied as/);
    const s = await summary();
    if (s.layers.length !== before.layers.length + 1) fail(`layers: ${JSON.stringify(s.layers)}`);
    if (s.history.length !== before.history.length + 1) fail(`history: ${JSON.stringify(s.history)}`);
    const layer = s.layers[0];
    if (!layer.name.startsWith('PerTouch:') || s.history.at(-1) !== layer.name) fail(`history entry ${s.history.at(-1)} for layer ${layer.name}`);
    if (layer.mask) fail('a mask without a selection');
    await reference(layer, 'dune8.raw', sizes.small, 8, 'ref1.raw');
    checkLayer(await compare(layer.id, 'ref1.raw'), 'first apply');
    return layer;
  });

  await step('re-open: selecting the PerTouch layer loads its edit; Apply replaces it in one step', async () => {
    await waitFor(() => !document.getElementById('editing').hidden);
    const stored = await page.$eval('.region[data-region="sky"] input[data-attr="temperature"]', (e) => Number(e.value));
    if (!(stored > 0)) fail('the stored edit was not loaded into the sliders');
    await page.$eval('.region[data-region="sky"] input[data-attr="brightness"]', (e) => {
      e.value = '30';
      e.dispatchEvent(new Event('input'));
    });
    before = await summary();
    await page.click('#apply');
    await waitMessage(/Applied as/);
    const s = await summary();
    if (s.layers.length !== before.layers.length || s.layers.some((l) => l.id === first.id)) fail(`the old layer was not replaced: ${JSON.stringify(s.layers)}`);
    if (s.history.length !== before.history.length + 1) fail(`history: ${JSON.stringify(s.history)}`);
    const state = await reference(s.layers[0], 'dune8.raw', sizes.small, 8, 'ref2.raw');
    if (state.sky?.brightness !== 0.3) fail(`stored state ${JSON.stringify(state)}`);
    checkLayer(await compare(s.layers[0].id, 'ref2.raw'), 're-edit');
  });

  await step('selection: the new layer is masked by it; unselected pixels identical', async () => {
    const layers = (await summary()).layers;
    const bg = layers.at(-1).id;
    await page.evaluate(async ({ bg, hide }) => {
      const f = window.__fake;
      // The user hides the earlier PerTouch layer and selects the background.
      f.hideLayer(hide);
      f.selectLayer(bg);
      const sel = new Uint8Array(await (await fetch('/data/sel.raw')).arrayBuffer());
      f.setSelection(sel, { left: 0, top: 0, right: 1600, bottom: 1000 });
    }, { bg, hide: layers[0].id });
    await waitFor(() => document.getElementById('editing').hidden && /selection/.test(document.getElementById('doc').textContent));
    before = await summary();
    await page.click('#apply');
    await waitMessage(/Applied as/);
    const s = await summary();
    if (s.layers.length !== before.layers.length + 1 || s.history.length !== before.history.length + 1) fail(`layers/history: ${JSON.stringify(s)}`);
    if (!s.layers[0].mask) fail('no layer mask');
    await reference(s.layers[0], 'dune8.raw', sizes.small, 8, 'ref3.raw', 'sel.raw');
    const r = await compare(s.layers[0].id, 'ref3.raw', 'sel.raw');
    checkLayer(r, 'selection apply');
    if (!r.mask) fail('the mask is not the selection');
    if (r.untouched < 100000) fail(`only ${r.untouched} unselected pixels`);
  });

  await step('Esc while the layer is written: no layer, no history', async () => {
    const bg = (await summary()).layers.at(-1).id;
    await page.evaluate((bg) => {
      window.__fake.selectLayer(bg);
      window.__fake.escAfterPuts(1);
    }, bg);
    await waitFor(() => document.getElementById('editing').hidden);
    before = await summary();
    await page.click('#apply');
    await waitMessage(/Cancelled/);
    await waitIdle();
    const s = await summary();
    if (JSON.stringify(s.layers) !== JSON.stringify(before.layers) || s.history.length !== before.history.length) fail(`document changed: ${JSON.stringify(s)}`);
    if (s.modal) fail('modal scope left open');
  });

  await step('bridge down: the panel says how to start it; restarted: it reconnects by itself', async () => {
    await stopBridge();
    await waitFor(() => /Bridge not running/.test(document.getElementById('status-title').textContent));
    const fix = await text('#status-fix');
    if (!fix.includes('pertouch bridge')) fail(`fix: ${fix}`);
    if (!(await page.locator('#apply').isDisabled())) fail('Apply enabled without a bridge');
    bridge = await startBridge(origin);
    await waitFor(() => /^Connected/.test(document.getElementById('status-title').textContent), undefined, 30000);
    const seq = await page.$eval('#preview', (e) => Number(e.dataset.seq ?? 0));
    await page.$eval('#mix', (e) => {
      e.value = '60';
      e.dispatchEvent(new Event('input'));
    });
    await waitFor((seq) => Number(document.getElementById('preview').dataset.seq ?? 0) > seq, seq);
  });

  await step('CMYK and 32-bit documents are refused with the way out', async () => {
    const cmyk = await openDoc('print.psd', null, [64, 64], 8, 'CMYKColorMode');
    await waitFor(() => /CMYK documents are not supported/.test(document.getElementById('doc').textContent));
    if (!(await page.locator('#apply').isDisabled())) fail('Apply enabled on CMYK');
    await page.evaluate((id) => window.__fake.close(id), cmyk);
    const hdr = await openDoc('hdr.psd', null, [64, 64], 32);
    await waitFor(() => /32-bit documents are not supported yet/.test(document.getElementById('doc').textContent));
    await page.evaluate((id) => window.__fake.close(id), hdr);
  });

  let peakHeap = 0;
  let baseHeap = 0;
  await step('6000x4000 16-bit document: Read, Apply, layer equal to the core render', async () => {
    await openDoc('storm.psd', 'storm16.raw', sizes.big, 16);
    await waitFor(() => /storm\.psd/.test(document.getElementById('doc').textContent));
    await page.click('#reset');
    await page.fill('#instruction', 'make the sky a little cooler and brighten it slightly');
    await page.click('#read');
    await waitFor(() => document.querySelector('.region[data-region="sky"]') !== null);
    await waitIdle();
    before = await summary();
    await cdp.send('HeapProfiler.collectGarbage');
    baseHeap = await heap();
    peakHeap = baseHeap;
    const t = Date.now();
    const sampler = setInterval(async () => {
      try {
        peakHeap = Math.max(peakHeap, await heap());
      } catch {
        // page busy
      }
    }, 250);
    await page.click('#apply');
    await waitMessage(/Applied as/);
    clearInterval(sampler);
    const applyMs = Date.now() - t;
    timings.push(['  of which Apply (read 137 MiB, render, write)', applyMs]);
    const s = await summary();
    if (s.layers.length !== before.layers.length + 1 || s.history.length !== before.history.length + 1) fail(`layers/history: ${JSON.stringify(s)}`);
    await reference(s.layers[0], 'storm16.raw', sizes.big, 16, 'ref4.raw');
    checkLayer(await compare(s.layers[0].id, 'ref4.raw'), '16-bit apply');
  });

  await step('the token never reached the bridge log (RUST_LOG=trace)', async () => {
    const token = JSON.parse(readFileSync(tokenFile, 'utf8')).token;
    if (!bridgeLog.includes('client authenticated')) fail('the bridge log was not captured');
    if (bridgeLog.includes(token)) fail('the token is in the bridge log');
  });

  if (pageErrors.length) fail(`errors in the page: ${pageErrors.join('\n')}`);
  // The test double's new layer (RGB + alpha, 16-bit) is allocated during the apply too.
  const layerBytes = 6000 * 4000 * 8;
  console.log(
    `page memory during the 6000x4000 apply (JS heap + array buffers, CDP Runtime.getHeapUsage every 250 ms): ` +
      `peak ${(peakHeap / 2 ** 20).toFixed(0)} MiB, before ${(baseHeap / 2 ** 20).toFixed(0)} MiB; ` +
      `the panel's own share, without the double's new 183 MiB layer: ${((peakHeap - baseHeap - layerBytes) / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log('\ntimings:');
  for (const [name, ms] of timings) console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`);
  console.log(`  ${(timings.filter(([n]) => !n.startsWith('  ')).reduce((a, [, ms]) => a + ms, 0) / 1000).toFixed(1).padStart(6)} s  total`);
  server.close();
}

let code = 0;
try {
  await main();
  console.log('\nPASS: Photoshop panel end-to-end');
} catch (e) {
  code = 1;
  console.log('FAILED');
  console.error(`\n${e.stack ?? e}`);
  if (bridgeLog) console.error(`\nbridge log (last lines):\n${bridgeLog.split('\n').slice(-15).join('\n')}`);
} finally {
  await browser?.close().catch(() => undefined);
  await stopBridge().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
