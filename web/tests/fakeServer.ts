import type { SocketLike } from '../src/sync/live';
import type { Update } from '../src/api/types';

/** An in-memory stand-in for the gateway's WebSocket: auth/ready, RPC, pushes, drops. */
export class FakeServer {
  common: Update[] = [];
  channels = new Map<number, Update[]>();
  sockets: FakeSocket[] = [];
  calls: { method: string; params: Record<string, unknown> }[] = [];
  tooLongAfter = 1000;
  pageLimit = 100;
  refuse = false;

  get pts() {
    return this.common.length ? this.common[this.common.length - 1].pts : 0;
  }

  /** Append to the common box (or a channel box) and return the update. */
  add(type: string, extra: Partial<Update> = {}, box?: number): Update {
    const log = box === undefined ? this.common : this.channels.get(box) ?? this.channels.set(box, []).get(box)!;
    const last = log.length ? log[log.length - 1].pts : 0;
    const count = extra.pts_count ?? 1;
    const u: Update = { type, pts: last + count, pts_count: count, ...extra };
    if (box !== undefined) u.box = box;
    log.push(u);
    return u;
  }

  push(u: Update) {
    for (const s of this.sockets) if (s.open) s.deliver({ type: 'update', update: u });
  }

  dropAll(code = 1006) {
    for (const s of [...this.sockets]) s.serverClose(code);
  }

  factory = (url: string): SocketLike => {
    const s = new FakeSocket(this, url);
    this.sockets.push(s);
    return s;
  };

  handle(s: FakeSocket, frame: Record<string, unknown>) {
    if (frame.type === 'auth') {
      if (this.refuse) {
        s.deliver({ type: 'error', error: { code: 'AUTH_REQUIRED', message: 'bad token' } });
        s.serverClose(4003);
        return;
      }
      s.deliver({ type: 'ready', user_id: 1, session_id: 1, state: { pts: this.pts, date: 0 } });
      return;
    }
    const { id, method } = frame as { id: number; method: string };
    const params = (frame.params ?? {}) as Record<string, number>;
    this.calls.push({ method, params });
    let result: unknown;
    if (method === 'getDifference' || method === 'getChannelDifference') {
      const log = method === 'getDifference' ? this.common : this.channels.get(params.chat_id) ?? [];
      const head = log.length ? log[log.length - 1].pts : 0;
      if (head - params.pts > this.tooLongAfter) {
        result = { updates: [], state: { pts: head, date: 0 }, more: false, too_long: true };
      } else {
        const newer = log.filter((u) => u.pts > params.pts);
        const limit = Math.min(params.limit ?? 100, this.pageLimit);
        const page = newer.slice(0, limit);
        const statePts = page.length ? page[page.length - 1].pts : head;
        result = { updates: page, state: { pts: statePts, date: 0 }, more: newer.length > limit, too_long: false };
      }
    } else if (method === 'getState') {
      result = { pts: this.pts, date: 0 };
    } else {
      result = { ok: true };
    }
    s.deliver({ id, result });
  }
}

export class FakeSocket implements SocketLike {
  onopen: ((ev?: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev?: unknown) => void) | null = null;
  open = false;
  closed = false;

  constructor(private server: FakeServer, readonly url: string) {
    setTimeout(() => {
      if (this.closed) return;
      this.open = true;
      this.onopen?.();
    }, 0);
  }

  send(data: string) {
    if (!this.open) throw new Error('not open');
    const frame = JSON.parse(data);
    setTimeout(() => this.open && this.server.handle(this, frame), 0);
  }

  deliver(frame: unknown) {
    setTimeout(() => this.open && this.onmessage?.({ data: JSON.stringify(frame) }), 0);
  }

  serverClose(code: number) {
    if (this.closed) return;
    this.closed = true;
    setTimeout(() => {
      this.open = false;
      this.server.sockets = this.server.sockets.filter((s) => s !== this);
      this.onclose?.({ code });
    }, 1);
  }

  close(code = 1000) {
    this.serverClose(code);
  }
}
