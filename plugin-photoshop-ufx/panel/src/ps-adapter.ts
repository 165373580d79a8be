// The one module that touches Photoshop (`photoshop`) and UXP (`uxp`). It
// implements host.ts's Host with the documented APIs only: imaging.getPixels /
// getSelection / createImageDataFromBuffer / putPixels, core.executeAsModal with
// hostControl.suspendHistory / resumeHistory, action.batchPlay (layer mask from
// the selection, layer XMP), secureStorage, entrypoints. See
// ../../README.md "What is and is not tested" for what only a real Photoshop
// can confirm.

import { action, app, constants, core, imaging } from 'photoshop';
import * as uxp from 'uxp';
import { fitLongSide, type Band } from './bands.js';
import type { SocketFactory, SocketLike, TokenStore } from './bridge-client.js';
import type { DocInfo, DocStatus, Host, PerTouchLayer, Pixels, ReadOptions, Samples, WriteRequest } from './host.js';
import { refusal } from './host.js';
import { xmpToEdit } from './layer-meta.js';

type PsDocument = NonNullable<typeof app.activeDocument>;
type PsLayer = PsDocument['layers'][number];
type Context = Parameters<Parameters<typeof core.executeAsModal>[0]>[0];
type ImageData = Awaited<ReturnType<typeof imaging.getPixels>>['imageData'];

const TOKEN_KEY = 'pertouch.bridge.token';
const BITS: Record<string, number> = { bitDepth1: 1, bitDepth8: 8, bitDepth16: 16, bitDepth32: 32 };

/** Thrown when Esc or the panel's Cancel stops a modal step. */
class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

function activeDocument(): PsDocument | null {
  try {
    return app.activeDocument ?? null;
  } catch {
    return null; // no document open
  }
}

/** The document `doc` describes, if it is still the active one. */
function documentOf(doc: DocInfo): PsDocument {
  const d = activeDocument();
  if (!d || d.id !== doc.id) throw new Error(`switch back to "${doc.title}" (the edit was made for it)`);
  return d;
}

function findLayer(layers: ArrayLike<PsLayer>, id: number): PsLayer | null {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l.id === id) return l;
    const inner = (l as unknown as { layers?: ArrayLike<PsLayer> }).layers;
    if (inner) {
      const f = findLayer(inner, id);
      if (f) return f;
    }
  }
  return null;
}

function info(d: PsDocument): DocInfo {
  let selection = false;
  try {
    selection = d.selection.bounds != null;
  } catch {
    selection = false; // Photoshop before 25.0 has no Selection DOM
  }
  let historyId = 0;
  try {
    historyId = d.activeHistoryState.id;
  } catch {
    historyId = 0;
  }
  let activeLayerId: number | null = null;
  try {
    activeLayerId = d.activeLayers.length > 0 ? d.activeLayers[0].id : null;
  } catch {
    activeLayerId = null;
  }
  return {
    id: d.id,
    title: d.title,
    width: Math.round(Number(d.width)),
    height: Math.round(Number(d.height)),
    mode: String(d.mode),
    bits: BITS[String(d.bitsPerChannel)] ?? 0,
    profile: d.colorProfileName ?? '',
    selection,
    historyId,
    activeLayerId,
  };
}

async function data(img: ImageData): Promise<Samples> {
  // fullRange: 16-bit samples as 0..65535 (Photoshop's own scale is 0..32768).
  const d = await img.getData({ chunky: true, fullRange: true });
  if (d instanceof Float32Array) throw new Error('32-bit pixels: not supported');
  return d;
}

/** Runs `fn` in a modal scope, optionally with `hideLayerId` hidden for its
 * duration (inside a history suspension that is rolled back: no trace). */
async function withComposite<T>(
  doc: DocInfo,
  opts: ReadOptions,
  commandName: string,
  fn: (ctx: Context, d: PsDocument) => Promise<T>,
): Promise<T> {
  return core.executeAsModal(
    async (ctx) => {
      const d = documentOf(doc);
      if (opts.hideLayerId === undefined) return fn(ctx, d);
      const s = await ctx.hostControl.suspendHistory({ documentID: d.id, name: commandName });
      try {
        const layer = findLayer(d.layers, opts.hideLayerId);
        if (layer) layer.visible = false;
        return await fn(ctx, d);
      } finally {
        await ctx.hostControl.resumeHistory(s, false);
      }
    },
    { commandName },
  );
}

/** A band of the selection, full width, zeros outside what Photoshop returns. */
async function selectionRows(d: PsDocument, band: Band, width: number): Promise<Samples> {
  const r = await imaging.getSelection({
    documentID: d.id,
    sourceBounds: { left: 0, top: band.y0, right: width, bottom: band.y0 + band.rows },
  });
  try {
    const got = await data(r.imageData);
    const b = r.sourceBounds;
    const full = b.left === 0 && b.top === band.y0 && b.right === width && b.bottom === band.y0 + band.rows;
    if (full) return got;
    const out = got instanceof Uint16Array ? new Uint16Array(width * band.rows) : new Uint8Array(width * band.rows);
    const w = b.right - b.left;
    for (let y = b.top; y < b.bottom; y++) {
      out.set(got.subarray((y - b.top) * w, (y - b.top + 1) * w), (y - band.y0) * width + b.left);
    }
    return out;
  } finally {
    await r.imageData.dispose();
  }
}

const tokens: TokenStore = {
  async get() {
    try {
      const v = await secureStorage().getItem(TOKEN_KEY);
      if (!v || v.length === 0) return null;
      return typeof v === 'string' ? v : String.fromCharCode(...Array.from(v));
    } catch {
      return null;
    }
  },
  async set(token: string) {
    await secureStorage().setItem(TOKEN_KEY, token);
  },
  async clear() {
    try {
      await secureStorage().removeItem(TOKEN_KEY);
    } catch {
      // nothing stored
    }
  },
};

/** `require('uxp').storage.secureStorage` (the typings put it on the module). */
function secureStorage(): typeof uxp.secureStorage {
  const s = (uxp.storage as unknown as { secureStorage?: typeof uxp.secureStorage }).secureStorage;
  return s ?? uxp.secureStorage;
}

const socketFactory: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

export const photoshopHost: Host = {
  app: { name: 'PS', version: String(uxp.host?.version ?? '') },
  tokens,
  socketFactory,

  document(): DocStatus {
    const d = activeDocument();
    if (!d) return { kind: 'none' };
    const doc = info(d);
    const why = refusal(doc.mode, doc.bits);
    return why ? { kind: 'refused', doc, reason: why } : { kind: 'ok', doc };
  },

  async compositeComponents(doc, opts) {
    return withComposite(doc, opts, 'PerTouch: reading the document', async (_ctx, d) => {
      const r = await imaging.getPixels({ documentID: d.id, sourceBounds: { left: 0, top: 0, right: 1, bottom: 1 } });
      const n = r.imageData.components;
      await r.imageData.dispose();
      return n;
    });
  },

  async readPreview(doc, maxSide, opts) {
    return withComposite(doc, opts, 'PerTouch: reading the document', async (_ctx, d) => {
      const r = await imaging.getPixels({ documentID: d.id, targetSize: fitLongSide(doc.width, doc.height, maxSide) });
      const img = r.imageData;
      let pixels: Pixels;
      try {
        pixels = {
          data: await data(img),
          width: img.width,
          height: img.height,
          components: img.components,
          bits: img.componentSize === 16 ? 16 : 8,
        };
      } finally {
        await img.dispose();
      }
      let selection: Samples | null = null;
      if (doc.selection) {
        const s = await imaging.getSelection({ documentID: d.id, targetSize: { width: pixels.width, height: pixels.height } });
        try {
          if (s.imageData.width === pixels.width && s.imageData.height === pixels.height) selection = await data(s.imageData);
        } finally {
          await s.imageData.dispose();
        }
      }
      return { pixels, selection };
    });
  },

  async readBands(doc, bands, opts, onBand, shouldStop) {
    await withComposite(doc, opts, 'PerTouch: reading the document', async (ctx, d) => {
      for (const [i, band] of bands.entries()) {
        if (ctx.isCancelled || shouldStop()) throw new Cancelled();
        const r = await imaging.getPixels({
          documentID: d.id,
          sourceBounds: { left: 0, top: band.y0, right: doc.width, bottom: band.y0 + band.rows },
        });
        let pixels: Samples;
        try {
          const b = r.sourceBounds;
          if (r.imageData.width !== doc.width || r.imageData.height !== band.rows || b.top !== band.y0) {
            throw new Error(`Photoshop returned ${r.imageData.width} x ${r.imageData.height} pixels at row ${b.top} for rows ${band.y0}..${band.y0 + band.rows}`);
          }
          pixels = await data(r.imageData);
        } finally {
          await r.imageData.dispose();
        }
        const selection = doc.selection ? await selectionRows(d, band, doc.width) : null;
        await onBand(band, pixels, selection);
        ctx.reportProgress({ value: (i + 1) / bands.length });
      }
    });
  },

  async writeLayer(req: WriteRequest) {
    return core.executeAsModal(
      async (ctx) => {
        const d = documentOf(req.doc);
        const suspension = await ctx.hostControl.suspendHistory({ documentID: d.id, name: req.name });
        try {
          const layer = await d.createPixelLayer({ name: req.name, opacity: req.opacity });
          if (!layer) throw new Error('Photoshop did not create the layer');
          if (d.layers.length > 0 && d.layers[0].id !== layer.id) {
            layer.move(d.layers[0], constants.ElementPlacement.PLACEBEFORE);
          }
          for (let i = 0; i < req.bands; i++) {
            if (ctx.isCancelled || req.shouldStop()) throw new Cancelled();
            const band = await req.pull(i);
            const samples =
              band.bits === 16
                ? new Uint16Array(band.payload.buffer, band.payload.byteOffset, band.payload.byteLength / 2)
                : band.payload;
            const img = await imaging.createImageDataFromBuffer(samples, {
              width: band.width,
              height: band.rows,
              components: band.components,
              chunky: true,
              colorSpace: 'RGB',
              colorProfile: req.doc.profile,
              fullRange: true,
            });
            try {
              await imaging.putPixels({
                documentID: d.id,
                layerID: layer.id,
                imageData: img,
                targetBounds: { left: 0, top: band.y0, width: band.width, height: band.rows },
                replace: false,
              });
            } finally {
              await img.dispose();
            }
            req.onProgress((i + 1) / req.bands);
            ctx.reportProgress({ value: (i + 1) / req.bands });
          }
          if (ctx.isCancelled || req.shouldStop()) throw new Cancelled();
          if (req.mask) {
            await action.batchPlay(
              [
                {
                  _obj: 'make',
                  new: { _class: 'channel' },
                  at: { _ref: 'channel', _enum: 'channel', _value: 'mask' },
                  using: { _enum: 'userMaskEnabled', _value: 'revealSelection' },
                },
              ],
              {},
            );
          }
          await action.batchPlay(
            [
              {
                _obj: 'set',
                _target: [{ _ref: 'property', _property: 'XMPMetadataAsUTF8' }, { _ref: 'layer', _id: layer.id }],
                to: { _obj: 'layer', XMPMetadataAsUTF8: req.xmp },
              },
            ],
            {},
          );
          if (req.replaceLayerId !== undefined) findLayer(d.layers, req.replaceLayerId)?.delete();
          // Resuming in the same tick as the last change can lose the suspension.
          await new Promise((r) => setTimeout(r, 0));
          await ctx.hostControl.resumeHistory(suspension, true);
          return { layerId: layer.id };
        } catch (e) {
          // Throwing out of the modal scope rolls back every unsuspended state; say
          // so explicitly as well, in case the scope lives on.
          try {
            await ctx.hostControl.resumeHistory(suspension, false);
          } catch {
            // already rolled back
          }
          throw ctx.isCancelled ? new Cancelled() : e;
        }
      },
      { commandName: 'PerTouch: writing the layer' },
    );
  },

  async perTouchLayer(doc): Promise<PerTouchLayer | null> {
    if (doc.activeLayerId === null) return null;
    const d = activeDocument();
    if (!d || d.id !== doc.id) return null;
    const layer = findLayer(d.layers, doc.activeLayerId);
    if (!layer) return null;
    try {
      const [r] = await action.batchPlay(
        [
          {
            _obj: 'get',
            _target: [{ _property: 'XMPMetadataAsUTF8' }, { _ref: 'layer', _id: layer.id }, { _ref: 'document', _id: d.id }],
          },
        ],
        {},
      );
      const edit = xmpToEdit((r as { XMPMetadataAsUTF8?: string } | undefined)?.XMPMetadataAsUTF8);
      return edit ? { layerId: layer.id, name: layer.name, edit } : null;
    } catch {
      return null; // a layer without metadata
    }
  },

  registerPanel(ready) {
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        ready();
      }
    };
    try {
      // The typings declare `panels` as an array; the documentation (and UXP) take
      // an object keyed by the manifest's panel id.
      const setup = { panels: { 'pertouch.panel': { show: once } } };
      uxp.entrypoints.setup(setup as unknown as Parameters<typeof uxp.entrypoints.setup>[0]);
    } catch {
      // Set up already (reload): the DOM is there.
    }
    // The panel's document is loaded when this runs; do not wait for `show`.
    once();
  },
};
