// The panel: what the user sees and does, on the Host interface (never on
// Photoshop directly) and the bridge client. Reads an instruction into sliders,
// previews on a small copy of the document, applies at full resolution as a new
// layer, re-opens a PerTouch layer's edit when that layer is selected.

import { planBands, sampleBytes } from './bands.js';
import { BridgeClient, JobCancelled, JobFailed, JobResult, Upload } from './bridge-client.js';
import type { DocInfo, DocStatus, Host, PerTouchLayer, Pixels, Samples } from './host.js';
import { jpegUrl } from './image-url.js';
import { editToXmp, layerName } from './layer-meta.js';
import { BandKind, JobStart } from './protocol.js';
import { ATTRIBUTES, Attribute, EditModel, GLOBAL, regionLabel, SELECTION } from './state-model.js';
import { Connection, describe } from './status.js';

/** Long side of the copy previews and the agent work on. */
export const PREVIEW_SIDE = 768;
const PREVIEW_DELAY_MS = 120;
const POLL_MS = 800;

type Busy = 'agent' | 'apply';

function el<T extends HTMLElement>(doc: Document, id: string): T {
  const e = doc.getElementById(id);
  if (!e) throw new Error(`the panel's HTML lacks #${id}`);
  return e as T;
}

/** Sets `text` into `target`, with `backquoted` parts as <code>. */
function setWithCode(target: HTMLElement, text: string): void {
  target.textContent = '';
  text.split('`').forEach((part, i) => {
    if (i % 2 === 1) {
      const c = document.createElement('code');
      c.textContent = part;
      target.appendChild(c);
    } else if (part) target.appendChild(document.createTextNode(part));
  });
}

function errorText(e: unknown): string {
  if (e instanceof JobCancelled) return 'Cancelled: the document is unchanged.';
  if (e instanceof JobFailed) return e.message;
  const err = e as { name?: string; number?: number; message?: string };
  if (err?.name === 'Cancelled') return 'Cancelled: the document is unchanged.';
  if (err?.number === 9) return 'Photoshop is busy with another plug-in or a dialog: try again when it is done.';
  return err?.message ?? String(e);
}

export class App {
  private readonly client: BridgeClient;
  private model = new EditModel();
  private mix = 1;
  private instruction = '';
  private docStatus: DocStatus = { kind: 'none' };
  private docKey = '';
  private editing: PerTouchLayer | null = null;
  private busy: Busy | null = null;
  private current?: { cancel(): void };
  private stopRequested = false;
  private previewCache?: { key: string; pixels: Pixels; selection: Samples | null };
  private previewSeq = 0;
  private previewJob?: { cancel(): void };
  private previewTimer?: ReturnType<typeof setTimeout>;
  private afterUrl = '';
  private beforeUrl = '';
  private readonly e;

  constructor(
    private readonly host: Host,
    private readonly dom: Document,
  ) {
    const d = dom;
    this.e = {
      status: el(d, 'status'),
      statusTitle: el(d, 'status-title'),
      statusFix: el(d, 'status-fix'),
      pairing: el(d, 'pairing'),
      pairCode: el<HTMLInputElement>(d, 'pair-code'),
      pairButton: el<HTMLButtonElement>(d, 'pair-button'),
      doc: el(d, 'doc'),
      instruction: el<HTMLTextAreaElement>(d, 'instruction'),
      read: el<HTMLButtonElement>(d, 'read'),
      recall: el<HTMLInputElement>(d, 'recall'),
      reset: el<HTMLButtonElement>(d, 'reset'),
      understood: el(d, 'understood'),
      regions: el(d, 'regions'),
      addRegion: el<HTMLSelectElement>(d, 'add-region'),
      preview: el<HTMLImageElement>(d, 'preview'),
      previewEmpty: el(d, 'preview-empty'),
      before: el<HTMLButtonElement>(d, 'before'),
      mix: el<HTMLInputElement>(d, 'mix'),
      mixValue: el(d, 'mix-value'),
      busy: el(d, 'busy'),
      busyText: el(d, 'busy-text'),
      busyBar: el(d, 'busy-bar'),
      cancel: el<HTMLButtonElement>(d, 'cancel'),
      editing: el(d, 'editing'),
      message: el(d, 'message'),
      apply: el<HTMLButtonElement>(d, 'apply'),
    };
    this.client = new BridgeClient(host.socketFactory, host.tokens, (c) => this.onStatus(c), {
      name: 'pertouch-panel 0.1.0',
      app: host.app.name,
      version: host.app.version,
    });
  }

  start(): void {
    const e = this.e;
    e.pairButton.addEventListener('click', () => this.pair());
    e.pairCode.addEventListener('keydown', (ev) => {
      if ((ev as KeyboardEvent).key === 'Enter') this.pair();
    });
    e.read.addEventListener('click', () => void this.read());
    e.instruction.addEventListener('keydown', (ev) => {
      const k = ev as KeyboardEvent;
      if (k.key === 'Enter' && !k.shiftKey) {
        k.preventDefault();
        void this.read();
      }
    });
    e.reset.addEventListener('click', () => {
      this.model = new EditModel();
      this.e.understood.textContent = '';
      this.renderRegions();
      this.schedulePreview();
    });
    e.addRegion.addEventListener('change', () => {
      const r = e.addRegion.value;
      e.addRegion.value = '';
      if (!r) return;
      this.model.addRegion(r);
      this.renderRegions();
    });
    e.mix.addEventListener('input', () => {
      this.mix = Number(e.mix.value) / 100;
      e.mixValue.textContent = `${e.mix.value}%`;
      this.schedulePreview();
    });
    const showBefore = (on: boolean) => {
      const url = on ? this.beforeUrl : this.afterUrl;
      if (url) e.preview.src = url;
    };
    e.before.addEventListener('mousedown', () => showBefore(true));
    e.before.addEventListener('mouseup', () => showBefore(false));
    e.before.addEventListener('mouseleave', () => showBefore(false));
    e.cancel.addEventListener('click', () => this.cancel());
    e.apply.addEventListener('click', () => void this.apply());
    this.renderRegions();
    this.refreshDocument();
    setInterval(() => this.refreshDocument(), POLL_MS);
    void this.client.start();
  }

  // ---- connection ----

  private onStatus(c: Connection): void {
    const s = describe(c);
    // Attributes rather than `dataset`: the smallest DOM UXP may offer.
    this.e.status.setAttribute('data-level', s.level);
    this.e.statusTitle.textContent = s.title;
    setWithCode(this.e.statusFix, s.fix ?? '');
    this.e.statusFix.hidden = !s.fix;
    this.e.pairing.hidden = c.state !== 'unpaired';
    if (c.state === 'connected') {
      this.fillRegionPicker();
      this.schedulePreview();
    }
    this.updateButtons();
  }

  private pair(): void {
    const code = this.e.pairCode.value.trim();
    if (code.replace(/[^0-9a-z]/gi, '').length !== 8) {
      this.say('The code has 8 characters, like ABCD-EFGH.', 'error');
      return;
    }
    this.e.pairCode.value = '';
    this.client.pair(code);
  }

  // ---- document ----

  private refreshDocument(): void {
    // The panel's own jobs change the document; look again when they are done.
    if (this.busy !== null) return;
    const st = this.host.document();
    const doc = st.kind === 'none' ? null : st.doc;
    const key = doc ? `${doc.id}:${doc.historyId}:${doc.activeLayerId}:${doc.selection}` : '';
    if (key === this.docKey) return;
    this.docKey = key;
    this.docStatus = st;
    const e = this.e.doc;
    e.classList.toggle('refused', st.kind === 'refused');
    if (st.kind === 'none') e.textContent = 'No document open';
    else if (st.kind === 'refused') e.textContent = st.reason;
    else {
      const d = st.doc;
      e.textContent = `${d.title} · ${d.width}×${d.height} · ${d.bits}-bit RGB · ${d.profile || 'no profile'}${d.selection ? ' · selection' : ''}`;
      e.title = e.textContent;
    }
    this.fillRegionPicker();
    this.updateButtons();
    if (st.kind === 'ok') void this.checkEditingLayer(st.doc);
    else this.schedulePreview();
  }

  private async checkEditingLayer(doc: DocInfo): Promise<void> {
    const found = await this.host.perTouchLayer(doc);
    if (found && found.layerId === this.editing?.layerId) return;
    this.editing = found;
    if (found) {
      this.model = EditModel.fromState(found.edit.state);
      this.mix = found.edit.mix;
      this.instruction = found.edit.instruction;
      this.e.instruction.value = found.edit.instruction;
      this.e.mix.value = String(Math.round(this.mix * 100));
      this.e.mixValue.textContent = `${this.e.mix.value}%`;
      this.e.editing.textContent = `Editing “${found.name}”: Apply replaces this layer.`;
      this.renderRegions();
    } else {
      this.e.editing.textContent = '';
    }
    this.e.editing.hidden = !found;
    this.schedulePreview();
  }

  private okDoc(): DocInfo | null {
    return this.docStatus.kind === 'ok' ? this.docStatus.doc : null;
  }

  // ---- regions and sliders ----

  private fillRegionPicker(): void {
    const sel = this.e.addRegion;
    const have = new Set(this.model.rows.map((r) => r.region));
    const names = [GLOBAL, ...(this.okDoc()?.selection ? [SELECTION] : []), ...this.client.regions];
    sel.textContent = '';
    const first = this.dom.createElement('option');
    first.value = '';
    first.textContent = 'Add region…';
    sel.appendChild(first);
    for (const n of names) {
      if (have.has(n)) continue;
      const o = this.dom.createElement('option');
      o.value = n;
      o.textContent = regionLabel(n);
      sel.appendChild(o);
    }
  }

  private renderRegions(): void {
    const box = this.e.regions;
    box.textContent = '';
    for (const row of this.model.rows) {
      const group = this.dom.createElement('div');
      group.className = 'region';
      group.setAttribute('data-region', row.region);
      const head = this.dom.createElement('div');
      head.className = 'region-head';
      const name = this.dom.createElement('span');
      name.textContent = regionLabel(row.region);
      const spacer = this.dom.createElement('span');
      spacer.className = 'spacer';
      const remove = this.dom.createElement('button');
      remove.className = 'quiet';
      remove.textContent = '×';
      remove.title = `Stop editing ${regionLabel(row.region).toLowerCase()}`;
      remove.addEventListener('click', () => {
        this.model.removeRegion(row.region);
        this.renderRegions();
        this.schedulePreview();
      });
      head.append(name, spacer, remove);
      group.appendChild(head);
      for (const { key, label } of ATTRIBUTES) group.appendChild(this.slider(row.region, key, label, row.values[key]));
      box.appendChild(group);
    }
    this.fillRegionPicker();
    this.updateButtons();
  }

  private slider(region: string, attr: Attribute, label: string, value: number): HTMLElement {
    const line = this.dom.createElement('div');
    line.className = 'slider';
    const name = this.dom.createElement('span');
    name.className = 'name';
    name.textContent = label;
    const input = this.dom.createElement('input');
    input.type = 'range';
    input.min = '-100';
    input.max = '100';
    input.step = '1';
    input.value = String(Math.round(value * 100));
    input.setAttribute('data-attr', attr);
    const shown = this.dom.createElement('span');
    shown.className = 'value';
    const show = (v: number) => {
      shown.textContent = `${v > 0 ? '+' : ''}${v}`;
      // The track is filled from the centre to the value (CSS variables).
      const pos = (v + 100) / 2;
      input.style.setProperty('--lo', `${Math.min(50, pos)}%`);
      input.style.setProperty('--hi', `${Math.max(50, pos)}%`);
    };
    show(Math.round(value * 100));
    input.addEventListener('input', () => {
      const v = Number(input.value);
      show(v);
      this.model.set(region, attr, v / 100);
      this.schedulePreview();
    });
    input.addEventListener('dblclick', () => {
      input.value = '0';
      show(0);
      this.model.set(region, attr, 0);
      this.schedulePreview();
    });
    line.append(name, input, shown);
    return line;
  }

  // ---- jobs ----

  private updateButtons(): void {
    const ready = this.client.isConnected() && this.okDoc() !== null;
    this.e.read.disabled = !ready || this.busy !== null;
    this.e.apply.disabled = !ready || this.busy !== null || this.model.isEmpty();
    this.e.busy.hidden = this.busy === null;
  }

  private setBusy(b: Busy | null, text = ''): void {
    this.busy = b;
    this.stopRequested = false;
    this.e.busyText.textContent = text;
    this.e.busyBar.style.width = '0%';
    this.updateButtons();
  }

  private progress(text: string, value: number): void {
    this.e.busyText.textContent = text;
    this.e.busyBar.style.width = `${Math.round(Math.max(0, Math.min(1, value)) * 100)}%`;
  }

  private say(text: string, level: 'ok' | 'error' | 'info' = 'info'): void {
    this.e.message.setAttribute('data-level', level);
    setWithCode(this.e.message, text);
  }

  private cancel(): void {
    this.stopRequested = true;
    this.current?.cancel();
    this.e.busyText.textContent = 'Cancelling…';
  }

  private jobEvents(what: string) {
    const stages: Record<string, string> = { segment: 'Finding regions', plan: 'Solving', render: 'Rendering' };
    return {
      onQueued: (ahead: number) => this.progress(`Waiting for the bridge (${ahead} ${ahead === 1 ? 'job' : 'jobs'} ahead)`, 0),
      onProgress: (stage: string, value: number) => this.progress(`${stages[stage] ?? what}…`, value),
    };
  }

  /** The small copy of the document previews and the agent use (cached until the document changes). */
  private async previewSource(doc: DocInfo): Promise<{ pixels: Pixels; selection: Samples | null }> {
    const hide = this.editing?.layerId;
    const key = `${doc.id}:${doc.historyId}:${hide ?? ''}:${doc.selection}`;
    if (this.previewCache?.key === key) return this.previewCache;
    const src = await this.host.readPreview(doc, PREVIEW_SIDE, { hideLayerId: hide });
    this.previewCache = { key, ...src };
    return this.previewCache;
  }

  /** Sends in-memory pixels (and selection) as bands. */
  private static uploadPixels(p: Pixels, selection: Samples | null) {
    return async (u: Upload) => {
      const row = p.width * p.components;
      for (const b of planBands(p.height, row * (p.bits / 8), u.rowsPerBand)) {
        const px = p.data.subarray(b.y0 * row, (b.y0 + b.rows) * row);
        await u.send({ kind: BandKind.Source, band: b.band, y0: b.y0, rows: b.rows, width: p.width, components: p.components, bits: p.bits }, sampleBytes(px));
        if (selection) {
          const s = selection.subarray(b.y0 * p.width, (b.y0 + b.rows) * p.width);
          await u.send(
            { kind: BandKind.Selection, band: b.band, y0: b.y0, rows: b.rows, width: p.width, components: 1, bits: s instanceof Uint16Array ? 16 : 8 },
            sampleBytes(s),
          );
        }
      }
    };
  }

  private smallJob(op: 'preview' | 'agent', doc: DocInfo, src: { pixels: Pixels; selection: Samples | null }, extra: Partial<JobStart>) {
    const p = src.pixels;
    return this.client.job(
      { op, width: p.width, height: p.height, components: p.components, depth: p.bits, profile: doc.profile, selection: src.selection !== null, ...extra },
      App.uploadPixels(p, src.selection),
      op === 'agent' ? this.jobEvents('Reading') : {},
    );
  }

  private schedulePreview(): void {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => void this.preview(), PREVIEW_DELAY_MS);
  }

  private async preview(): Promise<void> {
    const doc = this.okDoc();
    if (!doc || !this.client.isConnected()) return;
    if (this.busy !== null) return; // previews resume after the job (see finally blocks)
    const seq = ++this.previewSeq;
    try {
      const src = await this.previewSource(doc);
      if (seq !== this.previewSeq || this.busy !== null) return;
      const job = this.smallJob('preview', doc, src, { state: this.model.toState(), mix: this.mix });
      this.previewJob = job;
      const r = await job.result;
      if (seq !== this.previewSeq || r.kind !== 'preview') return;
      this.afterUrl = jpegUrl(r.after);
      this.beforeUrl = jpegUrl(r.before);
      this.e.preview.src = this.afterUrl;
      this.e.preview.hidden = false;
      this.e.preview.setAttribute('data-seq', String(seq));
      this.e.previewEmpty.hidden = true;
    } catch (e) {
      if (e instanceof JobCancelled || seq !== this.previewSeq) return;
      if (e instanceof JobFailed && e.code === 'disconnected') return;
      this.say(`Preview: ${errorText(e)}`, 'error');
    }
  }

  private async read(): Promise<void> {
    const doc = this.okDoc();
    const text = this.e.instruction.value.trim();
    const recall = this.e.recall.checked;
    if (!doc || !this.client.isConnected() || this.busy) return;
    if (!text && !recall) {
      this.say('Type what to change, e.g. “make the sky a little warmer”.', 'error');
      return;
    }
    this.previewJob?.cancel();
    this.previewSeq++;
    this.say('');
    this.setBusy('agent', 'Reading the instruction…');
    try {
      const src = await this.previewSource(doc);
      const job = this.smallJob('agent', doc, src, {
        state: this.model.toState(),
        instruction: text,
        recall: recall && this.model.isEmpty(),
      });
      this.current = job;
      const r: JobResult = await job.result;
      if (r.kind !== 'agent') return;
      this.model = EditModel.fromState(r.state);
      if (text) this.instruction = text;
      this.renderUnderstood(r);
      this.renderRegions();
      this.say(r.understood.length || r.recalled ? 'Adjust the sliders, then Apply.' : 'Nothing to change was found in that instruction.');
    } catch (e) {
      this.say(errorText(e), e instanceof JobCancelled ? 'info' : 'error');
    } finally {
      this.current = undefined;
      this.setBusy(null);
      this.schedulePreview();
    }
  }

  private renderUnderstood(r: Extract<JobResult, { kind: 'agent' }>): void {
    const box = this.e.understood;
    box.textContent = '';
    const chip = (text: string, cls = '') => {
      const c = this.dom.createElement('span');
      c.className = `chip ${cls}`;
      c.textContent = text;
      box.appendChild(c);
    };
    if (r.recalled) chip(`From a similar edit: “${r.recalled.instruction || 'sliders'}”`, 'recalled');
    for (const u of r.understood) {
      const a = ATTRIBUTES.find((x) => x.key === u.attribute)?.label ?? u.attribute;
      chip(`${regionLabel(u.region)}: ${a.toLowerCase()} ${u.amount > 0 ? '+' : ''}${Math.round(u.amount * 100)}`);
    }
  }

  private async apply(): Promise<void> {
    const doc = this.okDoc();
    if (!doc || !this.client.isConnected() || this.busy || this.model.isEmpty()) return;
    this.previewJob?.cancel();
    this.previewSeq++;
    const state = this.model.toState();
    const edit = { state, instruction: this.instruction, mix: this.mix };
    const editing = this.editing;
    const opts = { hideLayerId: editing?.layerId };
    this.say('');
    this.setBusy('apply', 'Reading the document…');
    const started = Date.now();
    try {
      const components = await this.host.compositeComponents(doc, opts);
      const bits = doc.bits as 8 | 16;
      const job = this.client.job(
        {
          op: 'apply',
          width: doc.width,
          height: doc.height,
          components,
          depth: bits,
          profile: doc.profile,
          selection: doc.selection,
          state,
          instruction: this.instruction,
          remember: true,
        },
        async (u) => {
          const bands = planBands(doc.height, doc.width * components * (bits / 8), u.rowsPerBand);
          await this.host.readBands(
            doc,
            bands,
            opts,
            async (b, px, sel) => {
              await u.send({ kind: BandKind.Source, band: b.band, y0: b.y0, rows: b.rows, width: doc.width, components, bits }, sampleBytes(px));
              if (sel) {
                await u.send(
                  { kind: BandKind.Selection, band: b.band, y0: b.y0, rows: b.rows, width: doc.width, components: 1, bits: sel instanceof Uint16Array ? 16 : 8 },
                  sampleBytes(sel),
                );
              }
              this.progress('Reading the document…', (b.y0 + b.rows) / doc.height);
            },
            () => this.stopRequested,
          );
          this.progress('Rendering…', 0);
        },
        this.jobEvents('Rendering'),
      );
      this.current = job;
      const r = await job.result;
      if (r.kind !== 'apply') throw new Error('the bridge answered an apply with another result');
      this.current = { cancel: () => (this.stopRequested = true) };
      this.progress('Writing the layer…', 0);
      try {
        const name = layerName(edit);
        await this.host.writeLayer({
          doc,
          name,
          opacity: Math.round(this.mix * 100),
          xmp: editToXmp(edit),
          replaceLayerId: editing?.layerId,
          mask: doc.selection,
          bands: r.bands,
          pull: async (i) => {
            const { header, payload } = await r.pull(i);
            return { y0: header.y0, rows: header.rows, width: header.width, components: header.components, bits: header.bits, payload };
          },
          onProgress: (f) => this.progress('Writing the layer…', f),
          shouldStop: () => this.stopRequested,
        });
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        this.say(`Applied as “${name}” in ${secs} s: one step in History (Edit > Undo removes it).`, 'ok');
      } finally {
        r.close();
      }
    } catch (e) {
      this.say(errorText(e), e instanceof JobCancelled || (e as Error)?.name === 'Cancelled' ? 'info' : 'error');
    } finally {
      this.current = undefined;
      this.setBusy(null);
      this.refreshDocument();
      this.schedulePreview();
    }
  }
}

