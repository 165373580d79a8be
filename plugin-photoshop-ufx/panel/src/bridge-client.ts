// The connection to `pertouch bridge`: authentication (token or pairing code),
// reconnecting, and jobs (send bands with flow control, follow progress, pull
// results). Knows nothing of Photoshop; the socket comes from a factory so that
// the same code runs in UXP, in a browser and in tests.

import {
  BandHeader,
  BandKind,
  BRIDGE_URL,
  bandMessage,
  Close,
  decodeHeader,
  JobStart,
  Limits,
  parseServerMessage,
  PROTO,
  RegionState,
  ServerMessage,
  Understood,
} from './protocol.js';
import { backoff, Connection } from './status.js';

/** The part of a WebSocket the client uses (UXP's, a browser's, or a test's). */
export interface SocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface TokenStore {
  get(): Promise<string | null>;
  set(token: string): Promise<void>;
  clear(): Promise<void>;
}

/** UXP closes a socket whose send buffer overflows: stay below this. */
export const HIGH_WATER = 8 << 20;

export class JobFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export interface ApplyResult {
  kind: 'apply';
  bands: number;
  rowsPerBand: number;
  /** The samples of result band `band` and where they go. */
  pull(band: number): Promise<{ header: BandHeader; payload: Uint8Array }>;
  /** Frees the result in the bridge. */
  close(): void;
}
export type JobResult =
  | { kind: 'preview'; after: Uint8Array; before: Uint8Array }
  | {
      kind: 'agent';
      state: RegionState;
      understood: Understood[];
      recalled?: { instruction: string; similarity: number; tags: string[] };
    }
  | ApplyResult;

export interface Upload {
  rowsPerBand: number;
  /** Sends one band, after waiting for the socket's buffer to drain. */
  send(header: Omit<BandHeader, 'job'>, payload: Uint8Array): Promise<void>;
}

export interface JobEvents {
  onQueued?(ahead: number): void;
  onProgress?(stage: string, value: number): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  // Rejections are observed by whoever awaits; never unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface JobRecord {
  id: number;
  events: JobEvents;
  accepted: Deferred<number>;
  finished: Deferred<JobResult>;
  previews: Uint8Array[];
  agent?: Extract<JobResult, { kind: 'agent' }>;
  pulls: Map<number, Deferred<{ header: BandHeader; payload: Uint8Array }>>;
}

/** Waits until `ws` has at most `limit` bytes queued. */
export async function drain(ws: { readonly bufferedAmount: number }, limit = HIGH_WATER, sleep = tick): Promise<void> {
  while (ws.bufferedAmount > limit) await sleep(4);
}
function tick(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class BridgeClient {
  status: Connection = { state: 'connecting' };
  limits?: Limits;
  regions: string[] = [];
  private ws?: SocketLike;
  private jobs = new Map<number, JobRecord>();
  private nextJob = 1;
  private attempt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private lastError?: { code: string; message: string };
  private stopped = false;

  constructor(
    private readonly factory: SocketFactory,
    private readonly tokens: TokenStore,
    private readonly onStatus: (c: Connection) => void,
    private readonly client: { name: string; app: string; version: string },
    private readonly url = BRIDGE_URL,
  ) {}

  private setStatus(c: Connection): void {
    this.status = c;
    this.onStatus(c);
  }

  /** Connects with the stored token (or checks the bridge runs, when unpaired). */
  async start(): Promise<void> {
    this.stopped = false;
    const token = await this.tokens.get();
    this.open(token ? { token } : { probe: true });
  }

  /** Pairs with a code from `pertouch bridge pair`. */
  pair(code: string): void {
    this.open({ code: code.trim() });
  }

  /** Stops reconnecting and closes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'panel closed');
  }

  isConnected(): boolean {
    return this.status.state === 'connected';
  }

  private open(how: { token?: string; code?: string; probe?: boolean }): void {
    clearTimeout(this.timer);
    const old = this.ws;
    if (old) {
      old.onclose = old.onmessage = old.onerror = old.onopen = null;
      old.close(1000, 'reconnecting');
      this.failAll(new JobFailed('disconnected', 'the connection to the bridge was replaced'));
    }
    if (!how.probe) this.setStatus({ state: 'connecting' });
    this.lastError = undefined;
    let opened = false;
    let ws: SocketLike;
    try {
      ws = this.factory(this.url);
    } catch {
      this.setStatus({ state: 'not_running' });
      this.retry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      if (how.probe) {
        ws.onclose = null;
        ws.close(1000, 'probe');
        this.ws = undefined;
        this.attempt = 0;
        this.setStatus({ state: 'unpaired' });
        return;
      }
      const hello = how.code
        ? { type: 'pair', proto: PROTO, code: how.code, client: this.client.name }
        : {
            type: 'hello',
            proto: PROTO,
            token: how.token,
            client: this.client.name,
            host: { app: this.client.app, version: this.client.version },
          };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (this.ws === ws) this.ws = undefined;
      void this.onClose(ev.code, opened, how);
    };
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = backoff(this.attempt++);
    this.timer = setTimeout(() => void this.start(), wait);
  }

  private async onClose(code: number, opened: boolean, how: { code?: string; probe?: boolean }): Promise<void> {
    this.failAll(new JobFailed('disconnected', 'the connection to the bridge was lost'));
    const err = this.lastError;
    if (this.stopped) return;
    if (code === Close.Forbidden && err?.code === 'bad_token') {
      await this.tokens.clear();
      this.setStatus({ state: 'unpaired', reason: 'The bridge no longer accepts this panel (its token changed)' });
    } else if (code === Close.Forbidden && err?.code === 'bad_code') {
      this.setStatus({ state: 'unpaired', reason: 'That code is wrong, expired or used' });
    } else if (code === Close.Locked) {
      this.setStatus({ state: 'unpaired', reason: err?.message ?? 'Too many wrong codes: wait a minute' });
    } else if (code === Close.Forbidden) {
      this.setStatus({ state: 'refused', message: err?.message ?? 'forbidden' });
    } else if (code === Close.ProtoMismatch) {
      this.setStatus({ state: 'version', message: err?.message ?? 'protocol versions differ' });
    } else if (how.code && !opened) {
      this.setStatus({ state: 'not_running' });
    } else {
      // Not running, stopped, or restarting: keep trying.
      this.setStatus({ state: 'not_running' });
      this.retry();
    }
  }

  private failAll(e: Error): void {
    for (const j of this.jobs.values()) {
      j.accepted.reject(e);
      j.finished.reject(e);
      for (const p of j.pulls.values()) p.reject(e);
    }
    this.jobs.clear();
  }

  private onMessage(data: unknown): void {
    if (typeof data === 'string') {
      let m: ServerMessage;
      try {
        m = parseServerMessage(data);
      } catch {
        return;
      }
      this.onControl(m);
    } else if (data instanceof ArrayBuffer) {
      this.onBand(new Uint8Array(data));
    } else if (ArrayBuffer.isView(data)) {
      this.onBand(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }

  private onControl(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome':
        this.attempt = 0;
        this.limits = m.limits;
        this.regions = m.regions;
        this.setStatus({ state: 'connected', bridge: m.bridge, renderer: m.renderer });
        return;
      case 'paired':
        void this.tokens.set(m.token);
        return;
      case 'error':
        this.lastError = { code: m.code, message: m.message };
        return;
      case 'pair.code':
        return;
    }
    const j = this.jobs.get(m.job);
    if (!j) return;
    switch (m.type) {
      case 'job.queued':
        j.events.onQueued?.(m.ahead);
        break;
      case 'job.accepted':
        j.accepted.resolve(m.rows_per_band);
        break;
      case 'progress':
        j.events.onProgress?.(m.stage, m.value);
        break;
      case 'agent.state':
        j.agent = { kind: 'agent', state: m.state, understood: m.understood, recalled: m.recalled };
        break;
      case 'job.done':
        if (j.agent) j.finished.resolve(j.agent);
        else if (j.previews.length === 2) j.finished.resolve({ kind: 'preview', after: j.previews[0], before: j.previews[1] });
        this.jobs.delete(j.id);
        break;
      case 'result.ready':
        j.finished.resolve(this.applyResult(j, m.bands, m.rows_per_band));
        break;
      case 'job.cancelled':
        this.finish(j, new JobCancelled());
        break;
      case 'job.failed':
        this.finish(j, new JobFailed(m.code, m.message));
        break;
    }
  }

  private finish(j: JobRecord, e: Error): void {
    j.accepted.reject(e);
    j.finished.reject(e);
    for (const p of j.pulls.values()) p.reject(e);
    this.jobs.delete(j.id);
  }

  private onBand(msg: Uint8Array): void {
    let band;
    try {
      band = decodeHeader(msg);
    } catch {
      return;
    }
    const j = this.jobs.get(band.header.job);
    if (!j) return;
    if (band.header.kind === BandKind.Preview) {
      j.previews[band.header.band] = band.payload;
    } else if (band.header.kind === BandKind.Result) {
      const p = j.pulls.get(band.header.band);
      j.pulls.delete(band.header.band);
      p?.resolve(band);
    }
  }

  private applyResult(j: JobRecord, bands: number, rowsPerBand: number): ApplyResult {
    return {
      kind: 'apply',
      bands,
      rowsPerBand,
      pull: (band: number) => {
        const d = deferred<{ header: BandHeader; payload: Uint8Array }>();
        if (!this.jobs.has(j.id) || !this.ws) {
          d.reject(new JobFailed('disconnected', 'the connection to the bridge was lost'));
          return d.promise;
        }
        j.pulls.set(band, d);
        this.send({ type: 'result.get', job: j.id, band });
        return d.promise;
      },
      close: () => {
        if (this.jobs.has(j.id)) this.send({ type: 'job.close', job: j.id });
        this.jobs.delete(j.id);
      },
    };
  }

  private send(m: object): void {
    if (!this.ws) throw new JobFailed('disconnected', 'not connected to the bridge');
    this.ws.send(JSON.stringify(m));
  }

  /**
   * Runs a job: `job.start`, wait to be admitted, `upload` the bands, then the
   * result. `cancel` asks the bridge to stop (the promise then rejects with
   * JobCancelled).
   */
  job(
    start: Omit<JobStart, 'type' | 'job'>,
    upload: (u: Upload) => Promise<void>,
    events: JobEvents = {},
  ): { id: number; result: Promise<JobResult>; cancel(): void } {
    const id = this.nextJob++;
    const rec: JobRecord = {
      id,
      events,
      accepted: deferred(),
      finished: deferred(),
      previews: [],
      pulls: new Map(),
    };
    this.jobs.set(id, rec);
    const cancel = () => {
      if (this.jobs.has(id) && this.ws) this.send({ type: 'cancel', job: id });
    };
    const result = (async () => {
      this.send({ type: 'job.start', job: id, ...start });
      const rowsPerBand = await rec.accepted.promise;
      const ws = this.ws;
      try {
        await upload({
          rowsPerBand,
          send: async (h, payload) => {
            if (!this.jobs.has(id) || !ws || this.ws !== ws) throw new JobCancelled();
            await drain(ws);
            ws.send(bandMessage({ ...h, job: id }, payload));
          },
        });
      } catch (e) {
        // Reading the document failed or was stopped: the bridge lets the job go.
        cancel();
        throw e;
      }
      this.send({ type: 'job.source_end', job: id });
      return rec.finished.promise;
    })();
    result.catch(() => undefined);
    return { id, result, cancel };
  }
}
