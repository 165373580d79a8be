// A test double of the documented Photoshop and UXP APIs the panel calls
// (docs: AdobeDocs/uxp-photoshop imaging.md, executeasmodal.md, manifest-v5;
// @types/photoshop 25.0.4), for the browser end-to-end test: Photoshop is the
// one thing that cannot run here. Injected before the shipped panel bundle as
// `window.require('photoshop' | 'uxp')`. Semantics it keeps, because the panel
// depends on them:
// - 16-bit documents hold 0..32768; getData/createImageDataFromBuffer convert
//   to and from 0..65535 only with `fullRange: true`;
// - putPixels and document changes need a modal scope; `replace` defaults to
//   true (the layer's pixels are cleared first);
// - one executeAsModal at a time (another is rejected with error number 9);
// - history: each change outside a suspension is a state; a suspension resumed
//   with commit=true becomes one state (if the document changed), commit=false or
//   an exception out of the modal scope rolls everything back;
// - Esc: ctx.isCancelled turns true and the next Photoshop call throws;
// - "Reveal Selection" masks the active layer with the selection and deselects;
// - getSelection trims its result to the selection's bounds.
// `window.__fake` is the test's handle (documents, layers, history, Esc).
(() => {
  'use strict';
  const toFull = (v) => Math.round((v * 65535) / 32768);
  const fromFull = (w) => Math.min(32768, Math.round((w * 32768) / 65535));
  const max16 = 32768;

  let nextId = 1;
  const state = {
    docs: [],
    active: null,
    modal: null, // { ctx, suspensions: [], cancelPending }
    escAfterPuts: null,
    puts: 0,
    calls: [],
    secure: new Map(),
    setup: null,
  };

  function psError(message, number) {
    const e = new Error(message);
    if (number !== undefined) e.number = number;
    return e;
  }

  /** Every Photoshop call goes through here: Esc makes the next one throw. */
  function enter(name, { modal = false } = {}) {
    state.calls.push(name);
    const m = state.modal;
    if (m && m.cancelPending) {
      m.cancelPending = false;
      throw psError('The user cancelled the operation', 8007);
    }
    if (modal && !m) throw psError(`${name} needs a modal scope (core.executeAsModal)`);
  }

  class FakeLayer {
    constructor(doc, { name, opacity = 100, background = false, pixels = null }) {
      this._doc = doc;
      this.id = nextId++;
      this._name = name;
      this._opacity = opacity;
      this._visible = true;
      this.background = background;
      const n = doc.width * doc.height;
      const Arr = doc._bits === 16 ? Uint16Array : Uint8Array;
      this.rgb = pixels ?? new Arr(n * 3);
      this.alpha = background ? null : new Arr(n); // 0 = transparent
      this.mask = null; // Uint8Array, 255 = shown
      this.xmp = null;
      this.kind = 'pixel';
      this._shared = false; // arrays also held by a history snapshot
    }
    get name() { return this._name; }
    set name(v) { this._doc._change('Rename Layer', () => (this._name = v)); }
    get opacity() { return this._opacity; }
    set opacity(v) { this._doc._change('Opacity', () => (this._opacity = v)); }
    get visible() { return this._visible; }
    set visible(v) {
      enter('Layer.visible', { modal: true });
      this._doc._change(v ? 'Show Layer' : 'Hide Layer', () => (this._visible = v));
    }
    move(rel, placement) {
      enter('Layer.move', { modal: true });
      const doc = this._doc;
      doc._change('Move Layer', () => {
        doc._layers = doc._layers.filter((l) => l !== this);
        const i = doc._layers.indexOf(rel);
        if (i < 0) throw psError('move: the relative layer is not in the document');
        doc._layers.splice(placement === 'placeAfter' ? i + 1 : i, 0, this);
      });
    }
    delete() {
      enter('Layer.delete', { modal: true });
      const doc = this._doc;
      doc._change('Delete Layer', () => {
        const i = doc._layers.indexOf(this);
        doc._layers = doc._layers.filter((l) => l !== this);
        if (doc._active === this) doc._active = doc._layers[Math.min(i, doc._layers.length - 1)] ?? null;
      });
    }
  }

  class FakeDocument {
    constructor({ title, width, height, bits = 8, mode = 'RGBColorMode', profile = 'sRGB IEC61966-2.1', pixels = null }) {
      this.id = nextId++;
      this.title = title;
      this.width = width;
      this.height = height;
      this._bits = bits;
      this.mode = mode;
      this.colorProfileName = profile;
      this._layers = [];
      this._selection = null; // { bounds, mask: Uint8Array }
      this._history = [{ id: nextId++, name: 'Open' }];
      const bg = new FakeLayer(this, { name: 'Background', background: true, pixels });
      this._layers.push(bg);
      this._active = bg;
      const doc = this;
      this.selection = {
        get bounds() { return doc._selection ? { ...doc._selection.bounds } : null; },
      };
    }
    get bitsPerChannel() { return `bitDepth${this._bits}`; }
    get layers() { return [...this._layers]; }
    get activeLayers() { return this._active ? [this._active] : []; }
    get historyStates() { return [...this._history]; }
    get activeHistoryState() { return this._history[this._history.length - 1]; }

    /** A snapshot of everything history can restore. */
    _snapshot() {
      for (const l of this._layers) l._shared = true;
      return {
        layers: [...this._layers],
        props: this._layers.map((l) => ({ l, name: l._name, opacity: l._opacity, visible: l._visible, rgb: l.rgb, alpha: l.alpha, mask: l.mask, xmp: l.xmp })),
        active: this._active,
        selection: this._selection,
      };
    }
    _restore(s) {
      this._layers = s.layers;
      for (const p of s.props) Object.assign(p.l, { _name: p.name, _opacity: p.opacity, _visible: p.visible, rgb: p.rgb, alpha: p.alpha, mask: p.mask, xmp: p.xmp });
      this._active = s.active;
      this._selection = s.selection;
    }
    /** Applies a change: in a suspension it is recorded there, else it is a history state. */
    _change(name, fn) {
      const susp = state.modal?.suspensions.find((s) => s.doc === this && s.open);
      if (susp) {
        fn();
        susp.changed = true;
        return;
      }
      fn();
      this._history.push({ id: nextId++, name });
    }

    async createPixelLayer(opts = {}) {
      enter('Document.createPixelLayer', { modal: true });
      let layer;
      this._change('New Layer', () => {
        layer = new FakeLayer(this, { name: opts.name ?? `Layer ${this._layers.length}`, opacity: opts.opacity ?? 100 });
        const i = this._active ? this._layers.indexOf(this._active) : 0;
        this._layers.splice(Math.max(0, i), 0, layer);
        this._active = layer;
      });
      return layer;
    }

    /** The composite of visible layers over `rect`, in the document's depth (RGB). */
    _composite(rect) {
      const { left, top, right, bottom } = rect;
      const w = right - left, h = bottom - top;
      const Arr = this._bits === 16 ? Uint16Array : Uint8Array;
      const full = this._bits === 16 ? max16 : 255;
      const out = new Arr(w * h * 3);
      const visible = this._layers.filter((l) => l._visible).reverse(); // bottom first
      for (const [k, l] of visible.entries()) {
        const op = l._opacity / 100;
        const simple = k === 0 && !l.alpha && !l.mask && op === 1;
        for (let y = 0; y < h; y++) {
          const src = ((top + y) * this.width + left) * 3;
          const dst = y * w * 3;
          if (simple) {
            out.set(l.rgb.subarray(src, src + w * 3), dst);
            continue;
          }
          for (let x = 0; x < w; x++) {
            const p = (top + y) * this.width + left + x;
            let a = op;
            if (l.alpha) a *= l.alpha[p] / full;
            if (l.mask) a *= l.mask[p] / 255;
            if (a === 0) continue;
            for (let c = 0; c < 3; c++) {
              const o = dst + x * 3 + c;
              out[o] = Math.round(out[o] + (l.rgb[p * 3 + c] - out[o]) * a);
            }
          }
        }
      }
      return out;
    }
  }

  class FakeImageData {
    constructor({ data, width, height, components, bits, profile }) {
      Object.assign(this, { width, height, components, componentSize: bits, colorProfile: profile, colorSpace: 'RGB', chunky: true, type: 'image/uncompressed' });
      this.hasAlpha = components === 4 || components === 2;
      this.pixelFormat = components === 1 ? 'Grayscale' : components === 4 ? 'RGBA' : 'RGB';
      this._data = data; // internal scale (16-bit: 0..32768)
      this._disposed = false;
    }
    async getData(opts = {}) {
      if (this._disposed) throw psError('getData on disposed image data');
      if (opts.chunky === false && this.components > 1) throw psError('the double supports chunky data only');
      if (this.componentSize !== 16) return this._data.slice();
      const out = new Uint16Array(this._data.length);
      const conv = opts.fullRange === true;
      for (let i = 0; i < out.length; i++) out[i] = conv ? toFull(this._data[i]) : this._data[i];
      return out;
    }
    async dispose() { this._disposed = true; }
  }

  function docById(id) {
    const d = id === undefined ? state.active : state.docs.find((x) => x.id === id);
    if (!d) throw psError(`no document ${id}`);
    return d;
  }

  function rectOf(doc, b) {
    const r = b ? { left: b.left, top: b.top, right: b.right ?? b.left + b.width, bottom: b.bottom ?? b.top + b.height } : { left: 0, top: 0, right: doc.width, bottom: doc.height };
    const c = { left: Math.max(0, r.left), top: Math.max(0, r.top), right: Math.min(doc.width, r.right), bottom: Math.min(doc.height, r.bottom) };
    if (c.right <= c.left || c.bottom <= c.top) throw psError(`bounds ${JSON.stringify(b)} are outside the document`);
    return c;
  }

  /** Nearest-neighbour scaling of chunky samples to fit `size`. */
  function scale(data, w, h, comps, size) {
    const s = Math.min(size.width ? size.width / w : Infinity, size.height ? size.height / h : Infinity, 1);
    if (s >= 1) return { data, w, h };
    const tw = Math.max(1, Math.round(w * s)), th = Math.max(1, Math.round(h * s));
    const out = new data.constructor(tw * th * comps);
    for (let y = 0; y < th; y++) {
      const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / th));
      for (let x = 0; x < tw; x++) {
        const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / tw));
        for (let c = 0; c < comps; c++) out[(y * tw + x) * comps + c] = data[(sy * w + sx) * comps + c];
      }
    }
    return { data: out, w: tw, h: th };
  }

  const imaging = {
    async getPixels(opts) {
      enter('imaging.getPixels');
      const doc = docById(opts.documentID);
      if (opts.layerID !== undefined) throw psError('the double reads the composite only');
      if (opts.componentSize !== undefined && opts.componentSize !== doc._bits) throw psError('componentSize conversion is not supported by the double');
      const r = rectOf(doc, opts.sourceBounds);
      let data = doc._composite(r);
      let w = r.right - r.left, h = r.bottom - r.top;
      if (opts.targetSize) ({ data, w, h } = scale(data, w, h, 3, opts.targetSize));
      return {
        imageData: new FakeImageData({ data, width: w, height: h, components: 3, bits: doc._bits, profile: doc.colorProfileName }),
        sourceBounds: r,
        level: 0,
      };
    },
    async getSelection(opts) {
      enter('imaging.getSelection');
      const doc = docById(opts.documentID);
      const sel = doc._selection;
      if (!sel) throw psError('no selection');
      let r = rectOf(doc, opts.sourceBounds);
      if (!opts.targetSize) {
        // Trimmed to the selection's bounds, as documented for sources.
        const b = sel.bounds;
        const t = { left: Math.max(r.left, b.left), top: Math.max(r.top, b.top), right: Math.min(r.right, b.right), bottom: Math.min(r.bottom, b.bottom) };
        if (t.right > t.left && t.bottom > t.top) r = t;
      }
      let w = r.right - r.left, h = r.bottom - r.top;
      let data = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) data.set(sel.mask.subarray((r.top + y) * doc.width + r.left, (r.top + y) * doc.width + r.right), y * w);
      if (opts.targetSize) ({ data, w, h } = scale(data, w, h, 1, opts.targetSize));
      return { imageData: new FakeImageData({ data, width: w, height: h, components: 1, bits: 8, profile: 'Gray Gamma 2.2' }), sourceBounds: r };
    },
    async createImageDataFromBuffer(arr, o) {
      enter('imaging.createImageDataFromBuffer');
      if (arr.length !== o.width * o.height * o.components) throw psError(`buffer of ${arr.length} samples for ${o.width} x ${o.height} x ${o.components}`);
      if (o.chunky === false) throw psError('the double supports chunky data only');
      const bits = arr instanceof Uint16Array ? 16 : 8;
      let data = arr;
      if (bits === 16) {
        data = new Uint16Array(arr.length);
        for (let i = 0; i < arr.length; i++) data[i] = o.fullRange === true ? fromFull(arr[i]) : Math.min(max16, arr[i]);
      } else data = arr.slice();
      return new FakeImageData({ data, width: o.width, height: o.height, components: o.components, bits, profile: o.colorProfile });
    },
    async putPixels(o) {
      enter('imaging.putPixels', { modal: true });
      const doc = docById(o.documentID);
      const layer = doc._layers.find((l) => l.id === o.layerID);
      if (!layer) throw psError(`no layer ${o.layerID}`);
      const img = o.imageData;
      if (img._disposed) throw psError('putPixels with disposed image data');
      if (img.componentSize !== doc._bits) throw psError(`putPixels: ${img.componentSize}-bit data into a ${doc._bits}-bit document`);
      const left = o.targetBounds?.left ?? 0, top = o.targetBounds?.top ?? 0;
      if (left + img.width > doc.width || top + img.height > doc.height) throw psError('putPixels outside the document');
      const full = doc._bits === 16 ? max16 : 255;
      doc._change('PerTouch pixels', () => {
        // Copy on write: a history snapshot keeps the old arrays.
        if (layer._shared) {
          layer.rgb = layer.rgb.slice();
          if (layer.alpha) layer.alpha = layer.alpha.slice();
          layer._shared = false;
        }
        if (o.replace !== false) {
          layer.rgb.fill(0);
          if (layer.alpha) layer.alpha.fill(0);
        }
        const c = img.components;
        for (let y = 0; y < img.height; y++) {
          for (let x = 0; x < img.width; x++) {
            const p = (top + y) * doc.width + left + x;
            const s = (y * img.width + x) * c;
            layer.rgb[p * 3] = img._data[s];
            layer.rgb[p * 3 + 1] = img._data[s + 1];
            layer.rgb[p * 3 + 2] = img._data[s + 2];
            if (layer.alpha) layer.alpha[p] = c === 4 ? img._data[s + 3] : full;
          }
        }
      });
      state.puts++;
      if (state.escAfterPuts !== null && state.puts >= state.escAfterPuts && state.modal) {
        state.escAfterPuts = null;
        state.modal.ctx.isCancelled = true;
        state.modal.cancelPending = true;
        state.modal.ctx.onCancel?.({ reason: 'Esc' });
      }
    },
  };

  function layerRef(doc, target) {
    const ref = target.find((t) => t._ref === 'layer');
    const layer = ref && ref._id !== undefined ? doc._layers.find((l) => l.id === ref._id) : doc._active;
    if (!layer) throw psError('batchPlay: no such layer');
    return layer;
  }

  const action = {
    async batchPlay(descs) {
      enter('action.batchPlay');
      const out = [];
      for (const d of descs) {
        const doc = docById(undefined);
        if (d._obj === 'make' && d.at?._value === 'mask' && d.using?._value === 'revealSelection') {
          enter('make mask', { modal: true });
          const layer = doc._active;
          const mask = doc._selection ? doc._selection.mask.slice() : new Uint8Array(doc.width * doc.height).fill(255);
          doc._change('Add Layer Mask', () => {
            layer.mask = mask;
            doc._selection = null; // making the mask uses the selection up
          });
          out.push({});
        } else if (d._obj === 'set' && d._target?.[0]?._property === 'XMPMetadataAsUTF8') {
          enter('set XMP', { modal: true });
          const layer = layerRef(doc, d._target);
          doc._change('Layer Metadata', () => (layer.xmp = d.to.XMPMetadataAsUTF8));
          out.push({});
        } else if (d._obj === 'get' && d._target?.[0]?._property === 'XMPMetadataAsUTF8') {
          const layer = layerRef(doc, d._target);
          out.push({ XMPMetadataAsUTF8: layer.xmp ?? '' });
        } else {
          throw psError(`the double does not know this descriptor: ${JSON.stringify(d)}`);
        }
      }
      return out;
    },
  };

  const core = {
    isModal: () => state.modal !== null,
    async executeAsModal(fn, options) {
      if (!options || typeof options.commandName !== 'string') throw psError('executeAsModal needs options.commandName');
      if (state.modal) throw psError('Photoshop is in a modal state', 9);
      const ctx = {
        isCancelled: false,
        onCancel: undefined,
        reportProgress: () => undefined,
        hostControl: {
          async suspendHistory({ documentID, name }) {
            enter('suspendHistory');
            const doc = docById(documentID);
            const s = { historySuspensionID: nextId++, doc, name, open: true, changed: false, snapshot: doc._snapshot() };
            state.modal.suspensions.push(s);
            return { historySuspensionID: s.historySuspensionID };
          },
          async resumeHistory(susp, commit = true) {
            const s = state.modal?.suspensions.find((x) => x.historySuspensionID === susp.historySuspensionID);
            if (!s || !s.open) throw psError('resumeHistory: no such open suspension');
            s.open = false;
            if (!commit) s.doc._restore(s.snapshot);
            else if (s.changed) s.doc._history.push({ id: nextId++, name: susp.finalName ?? s.name });
          },
        },
      };
      state.modal = { ctx, suspensions: [], cancelPending: false };
      try {
        return await fn(ctx);
      } catch (e) {
        // An exception out of the modal scope cancels what the suspensions hold.
        for (const s of state.modal.suspensions) if (s.open) { s.open = false; s.doc._restore(s.snapshot); }
        throw e;
      } finally {
        for (const s of state.modal.suspensions) if (s.open) { s.open = false; if (s.changed) s.doc._history.push({ id: nextId++, name: s.name }); }
        state.modal = null;
      }
    },
  };

  const app = {
    get activeDocument() { return state.active; },
    get documents() { return [...state.docs]; },
  };
  const constants = { ElementPlacement: { PLACEBEFORE: 'placeBefore', PLACEAFTER: 'placeAfter', PLACEATBEGINNING: 'placeAtBeginning', PLACEATEND: 'placeAtEnd' } };

  const enc = new TextEncoder(), dec = new TextDecoder();
  const uxp = {
    host: { name: 'Photoshop', version: '27.4.0 (test double)', uiLocale: 'en_US' },
    versions: { uxp: 'uxp-9.2.0', plugin: '0.1.0' },
    entrypoints: {
      setup(cfg) {
        if (state.setup) throw psError('entrypoints.setup called twice');
        state.setup = cfg;
        setTimeout(() => cfg?.panels?.['pertouch.panel']?.show?.(), 0);
      },
    },
    storage: {
      secureStorage: {
        async getItem(k) {
          if (!state.secure.has(k)) throw psError(`no item ${k}`);
          return enc.encode(state.secure.get(k));
        },
        async setItem(k, v) {
          if (v === undefined || v === '') throw psError('empty value');
          state.secure.set(k, typeof v === 'string' ? v : dec.decode(v));
        },
        async removeItem(k) {
          if (!state.secure.delete(k)) throw psError(`no item ${k}`);
        },
      },
    },
  };

  window.require = (name) => {
    if (name === 'photoshop') return { app, core, action, imaging, constants };
    if (name === 'uxp') return uxp;
    throw new Error(`Cannot find module '${name}'`);
  };

  // ---- the test's handle ----
  window.__fake = {
    /** Opens a document from internal-scale samples (16-bit: 0..32768). */
    open({ title, width, height, bits = 8, mode, profile, pixels }) {
      const doc = new FakeDocument({ title, width, height, bits, mode, profile, pixels });
      state.docs.push(doc);
      state.active = doc;
      return doc.id;
    },
    close(id) {
      state.docs = state.docs.filter((d) => d.id !== id);
      state.active = state.docs[state.docs.length - 1] ?? null;
    },
    doc: () => state.active,
    setSelection(mask, bounds) {
      state.active._selection = mask ? { mask, bounds } : null;
    },
    hideLayer(id) {
      const l = state.active._layers.find((x) => x.id === id);
      if (l) l._visible = false;
      state.active._history.push({ id: nextId++, name: 'Hide Layer' });
    },
    selectLayer(id) {
      state.active._active = state.active._layers.find((l) => l.id === id) ?? state.active._active;
    },
    escAfterPuts(n) {
      state.escAfterPuts = n;
      state.puts = 0;
    },
    summary() {
      const d = state.active;
      return {
        layers: d._layers.map((l) => ({ id: l.id, name: l._name, opacity: l._opacity, visible: l._visible, mask: l.mask !== null, xmp: l.xmp })),
        history: d._history.map((h) => h.name),
        activeLayer: d._active?.id ?? null,
        selection: d._selection !== null,
        modal: state.modal !== null,
      };
    },
    toFull,
    fromFull,
    secure: state.secure,
    calls: state.calls,
  };
})();
