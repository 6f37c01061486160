import { afterEach, describe, expect, it } from 'vitest';
import { LiveConnection, backoffDelay } from '../src/sync/live';
import type { Update } from '../src/api/types';
import { FakeServer } from './fakeServer';

const live: LiveConnection[] = [];

function connect(server: FakeServer, extra: Partial<ConstructorParameters<typeof LiveConnection>[0]> = {}) {
  const applied: Update[] = [];
  const ended: string[] = [];
  const conn = new LiveConnection({
    url: 'ws://test/api/ws',
    token: 't',
    socket: server.factory,
    onUpdate: (u) => applied.push(u),
    onEnded: (e) => ended.push(e.code),
    gapTimeout: 20,
    reconnectDelay: 5,
    maxReconnectDelay: 20,
    ...extra,
  });
  live.push(conn);
  conn.start();
  return { conn, applied, ended };
}

async function until(cond: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const ids = (us: Update[]) => us.filter((u) => u.type !== 'too_long').map((u) => u.pts);

afterEach(async () => {
  await Promise.all(live.splice(0).map((c) => c.close()));
});

describe('LiveConnection', () => {
  it('applies live updates in order and ignores duplicates', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    const a = server.add('new_message');
    const b = server.add('new_message');
    server.push(a);
    server.push(a);
    server.push(b);
    server.push(a);
    server.push(b);
    await until(() => applied.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(ids(applied)).toEqual([1, 2]);
    expect(conn.common?.pts).toBe(2);
  });

  it('fills a gap with getDifference and applies nothing twice', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    const u1 = server.add('new_message');
    server.add('new_message'); // pts 2: never pushed
    const u3 = server.add('new_message');
    server.push(u1);
    server.push(u3); // ahead: waits
    await until(() => applied.length >= 3);
    await new Promise((r) => setTimeout(r, 60));
    expect(ids(applied)).toEqual([1, 2, 3]);
    expect(server.calls.some((c) => c.method === 'getDifference' && c.params.pts === 1)).toBe(true);
    server.push(u3); // late duplicate
    await new Promise((r) => setTimeout(r, 30));
    expect(ids(applied)).toEqual([1, 2, 3]);
  });

  it('does not ask for a difference when the missing update arrives in time', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server, { gapTimeout: 200 });
    await until(() => conn.connected);
    server.calls = [];
    const u1 = server.add('new_message');
    const u2 = server.add('new_message');
    server.push(u2);
    server.push(u1);
    await until(() => applied.length >= 2);
    expect(ids(applied)).toEqual([1, 2]);
    await new Promise((r) => setTimeout(r, 250));
    expect(server.calls.filter((c) => c.method === 'getDifference')).toEqual([]);
  });

  it('handles multi-count updates (pts_count > 1)', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    const del = server.add('delete_messages', { pts_count: 3, message_ids: [1, 2, 3] });
    server.push(del);
    await until(() => applied.length >= 1);
    expect(conn.common?.pts).toBe(3);
  });

  it('pages through getDifference while `more`', async () => {
    const server = new FakeServer();
    server.pageLimit = 2;
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    for (let i = 0; i < 7; i++) server.add('new_message');
    const last = server.add('new_message');
    server.push(last);
    await until(() => applied.length >= 8);
    expect(ids(applied)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('reports too_long and continues from the server state', async () => {
    const server = new FakeServer();
    server.tooLongAfter = 5;
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    for (let i = 0; i < 20; i++) server.add('new_message');
    const after = server.add('new_message');
    server.push(after);
    await until(() => applied.some((u) => u.type === 'too_long'));
    const tl = applied.find((u) => u.type === 'too_long')!;
    expect(tl.pts).toBe(21);
    expect(conn.common?.pts).toBe(21);
    expect(ids(applied)).toEqual([]); // nothing replayed: the app reloads instead
    const next = server.add('new_message');
    server.push(next);
    await until(() => ids(applied).length === 1);
    expect(ids(applied)).toEqual([22]);
  });

  it('catches up after a reconnect before applying live updates', async () => {
    const server = new FakeServer();
    server.add('new_message'); // before we connect: not ours to replay
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    expect(conn.common?.pts).toBe(1);
    const u2 = server.add('new_message');
    server.push(u2);
    await until(() => applied.length === 1);
    server.dropAll();
    await until(() => !conn.connected);
    server.add('new_message'); // 3 and 4 happen while we are away
    server.add('edit_message');
    await until(() => conn.connected);
    await until(() => applied.length >= 3);
    expect(ids(applied)).toEqual([2, 3, 4]);
    expect(server.calls.filter((c) => c.method === 'getDifference').at(-1)?.params.pts).toBe(2);
    const u5 = server.add('new_message');
    server.push(u5);
    await until(() => applied.length >= 4);
    expect(ids(applied)).toEqual([2, 3, 4, 5]);
    expect(applied.map((u) => u.type)).toEqual(['new_message', 'new_message', 'edit_message', 'new_message']);
  });

  it('follows large-chat boxes separately and fills their gaps with getChannelDifference', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    conn.follow(50, 0);
    const c1 = server.add('new_message', { chat_id: 50 }, 50);
    server.add('new_message', { chat_id: 50 }, 50);
    const c3 = server.add('new_message', { chat_id: 50 }, 50);
    const common = server.add('new_message', { chat_id: 7 });
    server.push(c1);
    server.push(common);
    server.push(c3);
    await until(() => applied.length >= 4);
    expect(applied.filter((u) => u.box === 50).map((u) => u.pts)).toEqual([1, 2, 3]);
    expect(applied.filter((u) => !u.box).map((u) => u.pts)).toEqual([1]);
    expect(server.calls.some((c) => c.method === 'getChannelDifference' && c.params.chat_id === 50)).toBe(true);
  });

  it('starts following a box on chat_membership with box_pts, and catches it up after reconnect', async () => {
    const server = new FakeServer();
    const { conn, applied } = connect(server);
    await until(() => conn.connected);
    server.add('new_message', { chat_id: 9 }, 9); // box 9 pts 1, before we joined
    const joined = server.add('chat_membership', { chat_id: 9, role: 'member', box_pts: 1 });
    server.push(joined);
    await until(() => conn.boxes.has(9));
    server.dropAll();
    await until(() => !conn.connected);
    server.add('new_message', { chat_id: 9 }, 9);
    await until(() => conn.connected);
    await until(() => applied.some((u) => u.box === 9));
    expect(applied.filter((u) => u.box === 9).map((u) => u.pts)).toEqual([2]);
  });

  it('ends for good when the server refuses the session', async () => {
    const server = new FakeServer();
    server.refuse = true;
    const { conn, ended } = connect(server);
    await until(() => ended.length === 1);
    expect(ended).toEqual(['AUTH_REQUIRED']);
    expect(conn.status).toBe('offline');
  });

  it('backs off exponentially with a cap and jitter', () => {
    expect(backoffDelay(0, 250, 15000, () => 1)).toBe(250);
    expect(backoffDelay(3, 250, 15000, () => 1)).toBe(2000);
    expect(backoffDelay(20, 250, 15000, () => 1)).toBe(15000);
    expect(backoffDelay(3, 250, 15000, () => 0)).toBe(1000);
  });
});
