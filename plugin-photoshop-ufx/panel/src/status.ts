// What the connection to the bridge is, in words, with the exact fix.

export type Connection =
  | { state: 'connecting' }
  | { state: 'connected'; bridge: string; renderer: string }
  | { state: 'not_running' }
  | { state: 'unpaired'; reason?: string }
  | { state: 'refused'; message: string }
  | { state: 'version'; message: string };

export interface StatusText {
  level: 'ok' | 'busy' | 'warn' | 'error';
  title: string;
  /** What to do, when something is needed. */
  fix?: string;
}

export function describe(c: Connection): StatusText {
  switch (c.state) {
    case 'connecting':
      return { level: 'busy', title: 'Connecting to the bridge…' };
    case 'connected':
      return { level: 'ok', title: `Connected (bridge ${c.bridge}, ${c.renderer})` };
    case 'not_running':
      return {
        level: 'error',
        title: 'Bridge not running',
        fix: 'Start it in a terminal with `pertouch bridge` and keep it open (the README shows how to start it with your computer). The panel reconnects by itself.',
      };
    case 'unpaired':
      return {
        level: 'warn',
        title: c.reason ?? 'Not paired with the bridge',
        fix: 'Run `pertouch bridge pair` in a terminal and type the 8-character code here.',
      };
    case 'refused':
      return { level: 'error', title: 'The bridge refused this panel', fix: c.message };
    case 'version':
      return { level: 'error', title: 'Panel and bridge versions differ', fix: c.message };
  }
}

/** Milliseconds before reconnect attempt `n` (0, 1, ...): 0.5 s doubling to 5 s. */
export function backoff(n: number): number {
  return Math.min(5000, 500 * 2 ** Math.max(0, n));
}
