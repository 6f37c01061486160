import { ApiError, SESSION_ENDING, errorFrom, type Difference, type LiveEvent, type State, type Update } from '../api/types';
import { Sequencer } from './sequencer';

/**
 * The live connection (port of heliograph/sdk/live.py): one WebSocket at a time, kept open
 * across drops. It authenticates, waits for `ready`, catches up with getDifference (paged, with
 * the too-long reset) for the common box and every followed large-chat box, then applies pushed
 * updates by the gap rules, running getDifference when a gap lasts longer than `gapTimeout`.
 * After a drop it reconnects with capped, jittered exponential backoff and catches up again.
 * Close code 4001/4003 (or an auth refusal) ends it for good.
 */

export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev?: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev?: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;
export type ConnState = 'connecting' | 'online' | 'offline';

export interface ReadyFrame {
  type: 'ready';
  user_id: number;
  session_id: number;
  state: State;
}

export interface LiveOptions {
  url: string;
  token: string;
  socket: SocketFactory;
  onUpdate: (u: Update) => void;
  onEvent?: (e: LiveEvent) => void;
  onStatus?: (s: ConnState) => void;
  onEnded?: (e: ApiError) => void;
  /** Called once authenticated, before catching up; `first` on the very first connection. */
  onReady?: (ready: ReadyFrame, first: boolean) => void | Promise<void>;
  gapTimeout?: number;
  reconnectDelay?: number;
  maxReconnectDelay?: number;
  differenceLimit?: number;
  requestTimeout?: number;
  handshakeTimeout?: number;
  random?: () => number;
}

export const CLOSE_SESSION_ENDED = 4001;
export const CLOSE_BAD_AUTH = 4003;
const COMMON = 0; // key of the common box among the gap watchers (chat ids start at 1)

export class NotConnected extends Error {}
export class SessionEnded extends ApiError {}

export function backoffDelay(attempt: number, base: number, cap: number, random = Math.random): number {
  return Math.min(cap, base * 2 ** Math.min(attempt, 30)) * (0.5 + 0.5 * random());
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Conn {
  ws: SocketLike;
  authed: boolean;
  ready: Promise<ReadyFrame>;
  closed: Promise<{ code: number }>;
  authError: ApiError | null;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class LiveConnection {
  common: Sequencer | null = null;
  readonly boxes = new Map<number, Sequencer>();
  connected = false;
  status: ConnState = 'connecting';
  userId: number | null = null;
  private early: Update[] = [];
  private conn: Conn | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private gapTasks = new Map<number, Promise<void>>();
  private closing = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly o: Required<Omit<LiveOptions, 'onEvent' | 'onStatus' | 'onEnded' | 'onReady'>> & LiveOptions;

  constructor(opts: LiveOptions) {
    this.o = {
      gapTimeout: 500,
      reconnectDelay: 250,
      maxReconnectDelay: 15000,
      differenceLimit: 100,
      requestTimeout: 30000,
      handshakeTimeout: 15000,
      random: Math.random,
      ...opts,
    };
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    this.conn?.ws.close(1000, 'bye');
    await this.loop;
  }

  /** Reconnect now instead of waiting out the backoff (the browser came back online). */
  kick(): void {
    this.wake?.();
  }

  /** Drop the socket (it reconnects and catches up): for a dead connection. */
  drop(): void {
    this.conn?.ws.close(4000, 'drop');
  }

  /** An RPC over the socket; NotConnected when there is no authenticated socket. */
  call<T = unknown>(method: string, params: object = {}): Promise<T> {
    return this.rpc(method, params) as Promise<T>;
  }

  get authenticated(): boolean {
    return !!this.conn?.authed;
  }

  /** Start following a large chat's own box (from a loaded Chat's `pts`). */
  follow(chatId: number, pts: number): void {
    if (this.boxes.has(chatId)) return;
    this.boxes.set(chatId, new Sequencer(pts));
    if (this.connected && !this.gapTasks.has(chatId)) {
      this.track(chatId, this.catchUp(chatId).catch(() => undefined));
    }
  }

  // --- the loop ---------------------------------------------------------------------------

  private setStatus(s: ConnState) {
    if (this.status !== s) {
      this.status = s;
      this.o.onStatus?.(s);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      this.setStatus('connecting');
      try {
        await this.connectOnce();
        failures = 0;
      } catch (e) {
        if (e instanceof SessionEnded) {
          this.setStatus('offline');
          this.o.onEnded?.(e);
          return;
        }
        failures += 1;
      }
      if (this.closing) break;
      this.setStatus(failures > 0 ? 'offline' : 'connecting');
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, backoffDelay(failures, this.o.reconnectDelay, this.o.maxReconnectDelay, this.o.random));
        const self = this;
        function done() {
          clearTimeout(t);
          self.wake = null;
          resolve();
        }
        this.wake = done;
      });
    }
    this.setStatus('offline');
  }

  private open(): Conn {
    const ws = this.o.socket(this.o.url);
    const ready = deferred<ReadyFrame>();
    const closed = deferred<{ code: number }>();
    const conn: Conn = { ws, authed: false, ready: ready.promise, closed: closed.promise, authError: null };
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.o.token }));
    ws.onmessage = (ev) => {
      let frame: unknown;
      try {
        frame = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        return;
      }
      for (const item of Array.isArray(frame) ? frame : [frame]) {
        if (item && typeof item === 'object') this.dispatch(conn, item as Record<string, unknown>, ready.resolve);
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      conn.authed = false;
      if (this.conn === conn) {
        this.connected = false;
        this.failPending();
      }
      ready.reject(new NotConnected('closed during the handshake'));
      closed.resolve({ code: ev?.code ?? 1006 });
    };
    return conn;
  }

  private async connectOnce(): Promise<void> {
    const conn = this.open();
    this.conn = conn;
    let failure: unknown = null;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new NotConnected('no ready frame in time')), this.o.handshakeTimeout);
      });
      let hello: ReadyFrame;
      try {
        hello = await Promise.race([conn.ready, timeout]);
      } finally {
        clearTimeout(timer);
      }
      conn.authed = true;
      this.userId = hello.user_id;
      const first = this.common === null;
      if (first) this.common = new Sequencer(hello.state.pts);
      const early = this.early;
      this.early = [];
      for (const u of early) this.push(u);
      await this.o.onReady?.(hello, first);
      await this.catchUp(null);
      for (const box of [...this.boxes.keys()]) await this.catchUp(box);
      if (this.conn !== conn || !conn.authed) throw new NotConnected('closed while catching up');
      this.connected = true;
      this.setStatus('online');
      for (const box of [null, ...this.boxes.keys()]) this.watchGap(box);
    } catch (e) {
      failure = e;
      conn.ws.close(4000, 'failed');
    }
    const { code } = await conn.closed;
    if (this.conn === conn) this.conn = null;
    this.connected = false;
    if (code === CLOSE_SESSION_ENDED) throw new SessionEnded('SESSION_REVOKED', 'this session was ended');
    const refusal = conn.authError;
    if (code === CLOSE_BAD_AUTH || (refusal && SESSION_ENDING.has(refusal.code))) {
      throw new SessionEnded(refusal?.code ?? 'SESSION_REVOKED', refusal?.message ?? 'the server refused this session');
    }
    if (failure) throw failure;
  }

  // --- frames -----------------------------------------------------------------------------

  private dispatch(conn: Conn, frame: Record<string, unknown>, onReady: (r: ReadyFrame) => void) {
    const kind = frame.type;
    if (kind === 'update') {
      this.push(frame.update as Update);
    } else if (kind === 'event') {
      this.o.onEvent?.(frame.event as LiveEvent);
    } else if (kind === 'ready') {
      onReady(frame as unknown as ReadyFrame);
    } else if (kind === 'error') {
      conn.authError = errorFrom(frame.error);
    } else if (kind === undefined && typeof frame.id === 'number') {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if ('error' in frame) p.reject(errorFrom(frame.error));
      else p.resolve(frame.result);
    }
  }

  private push(update: Update): void {
    if (!update || typeof update.pts !== 'number') return;
    const box = update.box ?? null;
    let seq: Sequencer;
    if (box === null) {
      if (!this.common) {
        this.early.push(update);
        return;
      }
      seq = this.common;
    } else {
      seq = this.boxes.get(box) ?? this.followFrom(box, update.pts - (update.pts_count ?? 1));
    }
    for (const u of seq.push({ ...update, pts_count: update.pts_count ?? 1 })) this.deliver(u);
    this.watchGap(box);
  }

  private followFrom(box: number, pts: number): Sequencer {
    const s = new Sequencer(pts);
    this.boxes.set(box, s);
    return s;
  }

  private deliver(update: Update): void {
    if ((update.box ?? null) === null && update.chat_id != null) {
      const chatId = update.chat_id;
      if (update.type === 'chat_membership' && (update.role === 'left' || update.role === 'banned')) {
        this.boxes.delete(chatId);
      } else if ((update.type === 'chat_membership' || update.type === 'chat_became_large') && update.box_pts != null) {
        if (!this.boxes.has(chatId)) {
          this.followFrom(chatId, update.box_pts);
          if (this.connected && !this.gapTasks.has(chatId)) {
            this.track(chatId, this.catchUp(chatId).catch(() => undefined));
          }
        }
      }
    }
    this.o.onUpdate(update);
  }

  // --- catching up ------------------------------------------------------------------------

  private seq(box: number | null): Sequencer | null {
    return box === null ? this.common : (this.boxes.get(box) ?? null);
  }

  private track(box: number, task: Promise<void>) {
    this.gapTasks.set(box, task);
    void task.finally(() => {
      if (this.gapTasks.get(box) === task) this.gapTasks.delete(box);
    });
  }

  private watchGap(box: number | null): void {
    const key = box ?? COMMON;
    const seq = this.seq(box);
    if (seq && seq.hasGap && !this.gapTasks.has(key)) this.track(key, this.fillGap(box));
  }

  private async fillGap(box: number | null): Promise<void> {
    for (;;) {
      const seq = this.seq(box);
      if (!seq || !seq.hasGap) return;
      await sleep(this.o.gapTimeout);
      if (!seq.hasGap || !this.connected) return; // filled, or a reconnect will catch up
      try {
        await this.catchUp(box);
      } catch {
        return;
      }
    }
  }

  /** getDifference (getChannelDifference for a large chat), paged, until at the head. */
  catchUp(box: number | null): Promise<void> {
    const run = this.lock.then(() => this.catchUpLocked(box));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async catchUpLocked(box: number | null): Promise<void> {
    for (;;) {
      const seq = this.seq(box);
      if (!seq) return;
      let answer: Difference;
      try {
        answer = await this.difference(box, seq.pts);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'PTS_INVALID') {
          this.tooLong(box, await this.head(box));
          return;
        }
        if (box === null || !(e instanceof ApiError) || SESSION_ENDING.has(e.code)) throw e;
        this.boxes.delete(box); // no longer a member, or no longer large
        return;
      }
      if (answer.too_long) {
        this.tooLong(box, answer.state.pts);
        continue;
      }
      const before = seq.pts;
      for (const raw of answer.updates) {
        const u: Update = { ...raw, pts_count: raw.pts_count ?? 1 };
        if (box !== null) u.box = box;
        for (const applied of seq.applyDifference(u)) this.deliver(applied);
      }
      if (!answer.more || seq.pts === before) return;
    }
  }

  private difference(box: number | null, pts: number): Promise<Difference> {
    const limit = this.o.differenceLimit;
    if (box === null) return this.rpc('getDifference', { pts, limit }) as Promise<Difference>;
    return this.rpc('getChannelDifference', { chat_id: box, pts, limit }) as Promise<Difference>;
  }

  private async head(box: number | null): Promise<number> {
    if (box === null) return ((await this.rpc('getState', {})) as State).pts;
    return Number(((await this.rpc('getChat', { chat_id: box })) as { pts?: number }).pts ?? 0);
  }

  private tooLong(box: number | null, pts: number): void {
    this.seq(box)?.reset(pts);
    this.o.onUpdate({ type: 'too_long', pts, pts_count: 0, chat_id: box, box });
  }

  // --- calls ------------------------------------------------------------------------------

  private rpc(method: string, params: object): Promise<unknown> {
    const conn = this.conn;
    if (!conn || !conn.authed) return Promise.reject(new NotConnected('not connected'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NotConnected(`no answer to ${method} in time`));
      }, this.o.requestTimeout);
      this.pending.set(id, { resolve, reject, timer });
      try {
        conn.ws.send(JSON.stringify({ id, method, params }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new NotConnected(String(e)));
      }
    });
  }

  private failPending(): void {
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NotConnected('the connection dropped'));
    }
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
