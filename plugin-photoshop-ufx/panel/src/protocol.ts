// The bridge's wire protocol, version 1 (plugin-photoshop-ufx/PROTOCOL.md): JSON
// control messages and binary bands with a 32-byte little-endian header. Mirrors
// the bridge's src/protocol/; both are tested against fixtures/protocol.json.

/** The protocol version this panel speaks. */
export const PROTO = 1;
/** The bridge's port: the manifest's network domains name exactly this port. */
export const BRIDGE_PORT = 47863;
/** Where the panel connects (127.0.0.1, not localhost: localhost may resolve to ::1 first). */
export const BRIDGE_URL = `ws://127.0.0.1:${BRIDGE_PORT}/`;
/** Header length of a binary band. */
export const HEADER_LEN = 32;
/** Largest band payload the bridge takes. */
export const MAX_BAND_BYTES = 4 << 20;

export const BandKind = { Source: 1, Selection: 2, Result: 3, Preview: 4 } as const;
export type BandKind = (typeof BandKind)[keyof typeof BandKind];

/** WebSocket close codes the bridge uses. */
export const Close = {
  Protocol: 4400,
  Unauthenticated: 4401,
  Forbidden: 4403,
  ProtoMismatch: 4426,
  Locked: 4429,
  TooBig: 1009,
  GoingAway: 1001,
} as const;

export interface BandHeader {
  kind: BandKind;
  job: number;
  band: number;
  y0: number;
  rows: number;
  width: number;
  components: number;
  bits: number;
}

const MAGIC = [0x50, 0x54, 0x50, 0x58]; // "PTPX"

/** The 32 header bytes of `h`. */
export function encodeHeader(h: BandHeader): Uint8Array {
  const out = new Uint8Array(HEADER_LEN);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint16(4, 1, true);
  v.setUint16(6, h.kind, true);
  v.setUint32(8, h.job, true);
  v.setUint32(12, h.band, true);
  v.setUint32(16, h.y0, true);
  v.setUint32(20, h.rows, true);
  v.setUint32(24, h.width, true);
  out[28] = h.components;
  out[29] = h.bits;
  return out;
}

/** A band message: header then payload, in one buffer. */
export function bandMessage(h: BandHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_LEN + payload.byteLength);
  out.set(encodeHeader(h), 0);
  out.set(payload, HEADER_LEN);
  return out;
}

/** Reads a band's header; throws with the reason when it is not one. */
export function decodeHeader(msg: Uint8Array): { header: BandHeader; payload: Uint8Array } {
  if (msg.byteLength < HEADER_LEN) throw new Error(`a band is at least ${HEADER_LEN} bytes, got ${msg.byteLength}`);
  for (let i = 0; i < 4; i++) if (msg[i] !== MAGIC[i]) throw new Error('not a PerTouch band (magic)');
  const v = new DataView(msg.buffer, msg.byteOffset, HEADER_LEN);
  const version = v.getUint16(4, true);
  if (version !== 1) throw new Error(`band format ${version}; this panel reads 1`);
  const kind = v.getUint16(6, true);
  if (kind < 1 || kind > 4) throw new Error(`unknown band kind ${kind}`);
  if (v.getUint16(30, true) !== 0) throw new Error('reserved header bytes are not zero');
  const header: BandHeader = {
    kind: kind as BandKind,
    job: v.getUint32(8, true),
    band: v.getUint32(12, true),
    y0: v.getUint32(16, true),
    rows: v.getUint32(20, true),
    width: v.getUint32(24, true),
    components: msg[28],
    bits: msg[29],
  };
  return { header, payload: msg.subarray(HEADER_LEN) };
}

// ---- control messages ----

export type Op = 'preview' | 'apply' | 'agent';

/** A region state: region -> attribute -> change in [-1, 1]. */
export type RegionState = Record<string, Record<string, number>>;

export interface JobStart {
  type: 'job.start';
  job: number;
  op: Op;
  width: number;
  height: number;
  components: number;
  depth: 8 | 16;
  profile: string;
  selection: boolean;
  state?: RegionState;
  instruction?: string;
  mix?: number;
  recall?: boolean;
  remember?: boolean;
}

export type ClientMessage =
  | { type: 'hello'; proto: number; token: string; client: string; host: { app: string; version: string } }
  | { type: 'pair'; proto: number; code: string; client: string }
  | JobStart
  | { type: 'job.source_end'; job: number }
  | { type: 'result.get'; job: number; band: number }
  | { type: 'cancel'; job: number }
  | { type: 'job.close'; job: number };

export interface Understood {
  region: string;
  attribute: string;
  amount: number;
}

export interface Limits {
  max_message: number;
  max_band_bytes: number;
  max_pixels: number;
  max_preview_pixels: number;
}

export type ServerMessage =
  | { type: 'welcome'; proto: number; bridge: string; renderer: string; limits: Limits; regions: string[] }
  | { type: 'paired'; token: string }
  | { type: 'pair.code'; code: string; expires_in: number }
  | { type: 'job.queued'; job: number; ahead: number }
  | { type: 'job.accepted'; job: number; rows_per_band: number }
  | { type: 'progress'; job: number; stage: string; value: number }
  | {
      type: 'agent.state';
      job: number;
      state: RegionState;
      understood: Understood[];
      recalled?: { instruction: string; similarity: number; tags: string[] };
    }
  | { type: 'result.ready'; job: number; bands: number; rows_per_band: number }
  | { type: 'job.done'; job: number }
  | { type: 'job.cancelled'; job: number }
  | { type: 'job.failed'; job: number; code: string; message: string }
  | { type: 'error'; code: string; message: string };

const SERVER_TYPES = new Set([
  'welcome', 'paired', 'pair.code', 'job.queued', 'job.accepted', 'progress', 'agent.state',
  'result.ready', 'job.done', 'job.cancelled', 'job.failed', 'error',
]);

/** Parses a text frame from the bridge; throws when it is not a known message. */
export function parseServerMessage(text: string): ServerMessage {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || !('type' in v)) throw new Error('not a bridge message');
  const t = (v as { type: unknown }).type;
  if (typeof t !== 'string' || !SERVER_TYPES.has(t)) throw new Error(`unknown bridge message type ${String(t)}`);
  return v as ServerMessage;
}
