// What the panel needs from Photoshop, as an interface: ps-adapter.ts is the
// one implementation (and the one module that touches `photoshop` and `uxp`);
// everything else is written against this and tested without Photoshop.

import type { Band } from './bands.js';
import type { SocketFactory, TokenStore } from './bridge-client.js';
import type { StoredEdit } from './layer-meta.js';

export interface DocInfo {
  id: number;
  title: string;
  width: number;
  height: number;
  /** Photoshop's mode constant ("RGBColorMode", "CMYKColorMode", ...). */
  mode: string;
  /** 8, 16 or 32 (1 for bitmaps). */
  bits: number;
  /** The document's colour profile, kept as is (no conversion in or out). */
  profile: string;
  selection: boolean;
  /** Changes whenever the document does (for the preview cache). */
  historyId: number;
  activeLayerId: number | null;
}

export type DocStatus =
  | { kind: 'none' }
  | { kind: 'refused'; doc: DocInfo; reason: string }
  | { kind: 'ok'; doc: DocInfo };

export type Samples = Uint8Array | Uint16Array;

export interface Pixels {
  data: Samples;
  width: number;
  height: number;
  components: number;
  bits: 8 | 16;
}

export interface ReadOptions {
  /** A layer to leave out of the composite (the PerTouch layer being re-edited). */
  hideLayerId?: number;
}

export interface ResultBand {
  y0: number;
  rows: number;
  width: number;
  components: number;
  bits: number;
  payload: Uint8Array;
}

export interface WriteRequest {
  doc: DocInfo;
  name: string;
  /** Layer opacity, 0..100 (the panel's Strength). */
  opacity: number;
  /** The edit, stored in the layer's XMP. */
  xmp: string;
  /** A PerTouch layer this one replaces (in the same undo step). */
  replaceLayerId?: number;
  /** Mask the new layer with the document's selection. */
  mask: boolean;
  bands: number;
  pull(band: number): Promise<ResultBand>;
  onProgress(fraction: number): void;
  shouldStop(): boolean;
}

export interface PerTouchLayer {
  layerId: number;
  name: string;
  edit: StoredEdit;
}

export interface Host {
  /** "Photoshop 27.4.0" or similar, for the bridge's logs. */
  readonly app: { name: string; version: string };
  readonly tokens: TokenStore;
  readonly socketFactory: SocketFactory;
  document(): DocStatus;
  /** Components of the composite (3, or 4 when it has transparency). */
  compositeComponents(doc: DocInfo, opts: ReadOptions): Promise<number>;
  /** A small copy of the composite (long side at most `maxSide`) and of the selection. */
  readPreview(doc: DocInfo, maxSide: number, opts: ReadOptions): Promise<{ pixels: Pixels; selection: Samples | null }>;
  /** Reads the composite band by band in the document's own depth and profile, in
   * one modal scope, handing each band (and the selection's rows) to `onBand`. */
  readBands(
    doc: DocInfo,
    bands: Band[],
    opts: ReadOptions,
    onBand: (band: Band, pixels: Samples, selection: Samples | null) => Promise<void>,
    shouldStop: () => boolean,
  ): Promise<void>;
  /** Writes the result as a new layer in one modal scope and one history step;
   * an error or Esc leaves the document as it was. */
  writeLayer(req: WriteRequest): Promise<{ layerId: number }>;
  /** The PerTouch edit stored on the active layer, if it is one of ours. */
  perTouchLayer(doc: DocInfo): Promise<PerTouchLayer | null>;
  /** Calls `ready` when the panel's DOM is there (UXP's entrypoints). */
  registerPanel(ready: () => void): void;
}

/** Why a document cannot be edited, or null when it can. */
export function refusal(mode: string, bits: number): string | null {
  const modes: Record<string, string> = {
    CMYKColorMode: 'CMYK',
    labColorMode: 'Lab',
    grayscaleMode: 'Grayscale',
    bitmapMode: 'Bitmap',
    indexedColorMode: 'Indexed Color',
    duotoneMode: 'Duotone',
    multichannelMode: 'Multichannel',
  };
  if (mode !== 'RGBColorMode') {
    const name = modes[mode] ?? mode;
    return `${name} documents are not supported: PerTouch edits RGB. Work on an RGB copy (Image > Duplicate, then Image > Mode > RGB Color).`;
  }
  if (bits === 32) {
    return '32-bit documents are not supported yet: convert to 16 bits (Image > Mode > 16 Bits/Channel) or work on a 16-bit copy.';
  }
  if (bits !== 8 && bits !== 16) return `${bits}-bit documents are not supported: use 8 or 16 bits per channel.`;
  return null;
}
