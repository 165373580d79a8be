// The edit stored with the layer it made, so that selecting the layer later
// re-opens the edit: an XMP packet in the layer's metadata (it travels with the
// PSD) and a readable layer name.

import type { RegionState } from './protocol.js';
import { summarize } from './state-model.js';

export const XMP_NS = 'http://ns.pertouch.org/photoshop/1.0/';
export const LAYER_PREFIX = 'PerTouch';

export interface StoredEdit {
  state: RegionState;
  instruction: string;
  mix: number;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The XMP packet stored on a PerTouch layer. */
export function editToXmp(edit: StoredEdit): string {
  const field = (name: string, value: string) => `<pertouch:${name}>${escapeXml(value)}</pertouch:${name}>`;
  return [
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    `<rdf:Description rdf:about="" xmlns:pertouch="${XMP_NS}">`,
    field('state', JSON.stringify(edit.state)),
    field('instruction', edit.instruction),
    field('mix', String(edit.mix)),
    '</rdf:Description>',
    '</rdf:RDF>',
    '</x:xmpmeta>',
  ].join('');
}

function isState(v: unknown): v is RegionState {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every(
    (a) =>
      typeof a === 'object' &&
      a !== null &&
      Object.values(a as object).every((n) => typeof n === 'number' && Number.isFinite(n)),
  );
}

/** The edit in a layer's XMP, or null when the layer is not PerTouch's. */
export function xmpToEdit(xmp: string | null | undefined): StoredEdit | null {
  if (!xmp || !xmp.includes(XMP_NS)) return null;
  const field = (name: string) => {
    const m = new RegExp(`<pertouch:${name}>([\\s\\S]*?)</pertouch:${name}>`).exec(xmp);
    return m ? unescapeXml(m[1]) : null;
  };
  const text = field('state');
  if (text === null) return null;
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isState(state)) return null;
  const mix = Number(field('mix') ?? '1');
  return { state, instruction: field('instruction') ?? '', mix: Number.isFinite(mix) ? Math.max(0, Math.min(1, mix)) : 1 };
}

/** The new layer's name: what was asked for, or what was set. */
export function layerName(edit: StoredEdit): string {
  const what = edit.instruction.trim() || summarize(edit.state, 60);
  const name = `${LAYER_PREFIX}: ${what}`;
  return name.length > 100 ? name.slice(0, 99) + '…' : name;
}
