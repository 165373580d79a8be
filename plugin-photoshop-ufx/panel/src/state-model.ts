// The region state as the panel shows it: one group of four sliders per region.

import type { RegionState } from './protocol.js';

/** The four attributes, in the order the panel shows them, with their labels. */
export const ATTRIBUTES = [
  { key: 'brightness', label: 'Brightness' },
  { key: 'contrast', label: 'Contrast' },
  { key: 'colorfulness', label: 'Saturation' },
  { key: 'temperature', label: 'Warmth' },
] as const;
export type Attribute = (typeof ATTRIBUTES)[number]['key'];

/** Words the core also accepts for the attributes (the agent answers in canonical names). */
const SYNONYMS: Record<string, [Attribute, number]> = {
  brightness: ['brightness', 1], exposure: ['brightness', 1],
  contrast: ['contrast', 1],
  colorfulness: ['colorfulness', 1], saturation: ['colorfulness', 1], vibrance: ['colorfulness', 1],
  temperature: ['temperature', 1], warmth: ['temperature', 1], cool: ['temperature', -1], coolness: ['temperature', -1],
};

export const GLOBAL = 'global';
export const SELECTION = 'selection';

export interface RegionRow {
  region: string;
  values: Record<Attribute, number>;
}

function zeros(): Record<Attribute, number> {
  return { brightness: 0, contrast: 0, colorfulness: 0, temperature: 0 };
}

/** A value snapped to the sliders' 0.01 steps and the core's [-1, 1]. */
export function snap(v: number): number {
  if (!Number.isFinite(v)) return 0;
  return Math.round(Math.max(-1, Math.min(1, v)) * 100) / 100;
}

/** How people read a region's name. */
export function regionLabel(region: string): string {
  if (region === GLOBAL) return 'Whole image';
  if (region === SELECTION) return 'Selection';
  return region.charAt(0).toUpperCase() + region.slice(1);
}

/** The edit being made: regions in order (the whole image first). */
export class EditModel {
  rows: RegionRow[] = [];

  static fromState(state: RegionState | null | undefined): EditModel {
    const m = new EditModel();
    for (const [region, attrs] of Object.entries(state ?? {})) {
      if (typeof attrs !== 'object' || attrs === null) continue;
      const row = m.addRegion(region);
      for (const [word, v] of Object.entries(attrs)) {
        const a = SYNONYMS[word.toLowerCase()];
        if (a && typeof v === 'number') row.values[a[0]] = snap(v * a[1]);
      }
    }
    return m;
  }

  /** The row of `region`, added (after the whole image, before nothing) if new. */
  addRegion(region: string): RegionRow {
    const name = region.trim().toLowerCase();
    let row = this.rows.find((r) => r.region === name);
    if (!row) {
      row = { region: name, values: zeros() };
      if (name === GLOBAL) this.rows.unshift(row);
      else this.rows.push(row);
    }
    return row;
  }

  removeRegion(region: string): void {
    this.rows = this.rows.filter((r) => r.region !== region);
  }

  set(region: string, attr: Attribute, value: number): void {
    this.addRegion(region).values[attr] = snap(value);
  }

  /** The region state the bridge renders: zeros and empty regions left out. */
  toState(): RegionState {
    const out: RegionState = {};
    for (const r of this.rows) {
      const attrs: Record<string, number> = {};
      for (const { key } of ATTRIBUTES) if (r.values[key] !== 0) attrs[key] = r.values[key];
      if (Object.keys(attrs).length > 0) out[r.region] = attrs;
    }
    return out;
  }

  isEmpty(): boolean {
    return Object.keys(this.toState()).length === 0;
  }
}

/** A short description of a state ("sky: warmth +20, global: contrast +15"). */
export function summarize(state: RegionState, maxLength = 80): string {
  const parts: string[] = [];
  for (const [region, attrs] of Object.entries(state)) {
    const edits = ATTRIBUTES.filter(({ key }) => typeof attrs[key] === 'number' && attrs[key] !== 0).map(
      ({ key, label }) => `${label.toLowerCase()} ${attrs[key] > 0 ? '+' : ''}${Math.round(attrs[key] * 100)}`,
    );
    if (edits.length) parts.push(`${region === GLOBAL ? 'image' : region}: ${edits.join(', ')}`);
  }
  const text = parts.join('; ') || 'no change';
  return text.length > maxLength ? text.slice(0, maxLength - 1) + '…' : text;
}
