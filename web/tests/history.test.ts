import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Chat, Message } from '../src/api/types';
import * as S from '../src/state';

// A server's history of one chat, answering getHistory as the real one does.
let stored: Message[] = [];
const calls: Record<string, unknown>[] = [];

function msg(id: number, extra: Partial<Message> = {}): Message {
  return { id, chat_id: 1, sender_id: 7, date: 1_700_000_000 + id, text: `m${id}`, ...extra };
}

function getHistory(p: { offset_id?: number; direction?: string; limit?: number; around_id?: number }): Message[] {
  const limit = p.limit ?? 50;
  const all = [...stored].sort((a, b) => a.id - b.id);
  if (p.around_id != null) {
    const older = all.filter((m) => m.id <= p.around_id!).reverse().slice(0, limit);
    const newer = all.filter((m) => m.id > p.around_id!).slice(0, limit);
    const half = Math.ceil(limit / 2);
    const takeNewer = Math.min(newer.length, limit - Math.min(older.length, half));
    const takeOlder = Math.min(older.length, limit - takeNewer);
    return [...older.slice(0, takeOlder).reverse(), ...newer.slice(0, takeNewer)];
  }
  if (p.direction === 'newer') return all.filter((m) => m.id > (p.offset_id ?? 0)).slice(0, limit);
  const before = all.filter((m) => m.id < (p.offset_id ?? Infinity));
  return before.slice(Math.max(0, before.length - limit));
}

function chat(extra: Partial<Chat> = {}): Chat {
  return {
    id: 1,
    kind: 'group',
    title: 'Club',
    peer_user_id: null,
    unread_count: 0,
    read_inbox_max_id: 0,
    read_outbox_max_id: 0,
    last_message: stored[stored.length - 1] ?? null,
    last_activity: 0,
    role: 'member',
    ...extra,
  };
}

function ids(): number[] {
  return (S.histories.value.get(1) ?? []).map((m) => m.id);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

beforeEach(() => {
  stored = range(1, 200).map((id) => msg(id));
  calls.length = 0;
  S.histories.value = new Map();
  S.historyDetached.value = new Set();
  S.chats.value = new Map([[1, chat()]]);
  vi.stubGlobal('fetch', async (url: string, init: { body: string }) => {
    const method = url.split('/').pop()!;
    const params = JSON.parse(init.body);
    calls.push({ method, ...params });
    const result = method === 'getHistory' ? getHistory(params) : method === 'getUsers' ? [] : method === 'getChat' ? chat() : {};
    return new Response(JSON.stringify({ ok: true, result }), { status: 200 });
  });
});

afterEach(() => vi.unstubAllGlobals());

describe('history around a message', () => {
  it('loads a window, keeps live messages aside, and joins the live end without gaps', async () => {
    await S.loadHistory(1, true);
    expect(ids()).toEqual(range(151, 200));
    await S.loadAround(1, 50);
    expect(calls.filter((c) => c.method === 'getHistory').at(-1)).toMatchObject({ around_id: 50, limit: 50 });
    expect(ids()).toEqual(range(26, 75));
    expect(S.historyDetached.value.has(1)).toBe(true);

    // while detached: a new message waits, an edit replaces only what is loaded, and a
    // deletion is applied
    stored.push(msg(201));
    S.applyUpdate({ type: 'new_message', pts: 1, pts_count: 1, chat_id: 1, message: msg(201) });
    S.applyUpdate({ type: 'edit_message', pts: 2, pts_count: 1, chat_id: 1, message: msg(10, { text: 'edited far back' }) });
    S.applyUpdate({ type: 'edit_message', pts: 3, pts_count: 1, chat_id: 1, message: msg(60, { text: 'edited' }) });
    stored = stored.filter((m) => m.id !== 70);
    S.applyUpdate({ type: 'delete_messages', pts: 4, pts_count: 1, chat_id: 1, message_ids: [70] });
    expect(ids()).toEqual(range(26, 75).filter((id) => id !== 70));
    expect(S.histories.value.get(1)!.find((m) => m.id === 60)!.text).toBe('edited');

    // scrolling down: newer pages until a short one joins the live end
    for (let i = 0; i < 10 && S.historyDetached.value.has(1); i++) await S.loadNewer(1);
    expect(S.historyDetached.value.has(1)).toBe(false);
    expect(ids()).toEqual(range(26, 201).filter((id) => id !== 70));
    // older pages from the window's start, then the live end again
    await S.loadOlder(1);
    expect(ids()).toEqual(range(1, 201).filter((id) => id !== 70));
    stored.push(msg(202));
    S.applyUpdate({ type: 'new_message', pts: 5, pts_count: 1, chat_id: 1, message: msg(202) });
    expect(ids().slice(-3)).toEqual([200, 201, 202]);
  });

  it('a window that reaches the newest message is live at once', async () => {
    await S.loadAround(1, 190);
    expect(ids()).toEqual(range(151, 200));
    expect(S.historyDetached.value.has(1)).toBe(false);
  });

  it('going to the latest from a window loads the newest messages', async () => {
    await S.loadAround(1, 20);
    expect(S.historyDetached.value.has(1)).toBe(true);
    await S.loadLatest(1);
    expect(ids()).toEqual(range(151, 200));
    expect(S.historyDetached.value.has(1)).toBe(false);
  });
});

describe('chat updates', () => {
  it('applies linked_chat_id from chat_info without asking the server', () => {
    S.chats.value = new Map([[1, chat({ kind: 'channel' })]]);
    S.applyUpdate({ type: 'chat_info', pts: 1, pts_count: 1, chat_id: 1, box: 1, linked_chat_id: 9 });
    expect(S.chats.value.get(1)!.linked_chat_id).toBe(9);
    S.applyUpdate({ type: 'chat_info', pts: 2, pts_count: 1, chat_id: 1, box: 1, linked_chat_id: null });
    expect(S.chats.value.get(1)!.linked_chat_id).toBeNull();
    expect(calls.filter((c) => c.method === 'getChat')).toEqual([]);
  });

  it('updates the comment count of a post', async () => {
    stored = [msg(1, { discussion: { chat_id: 9, message_id: 4, comment_count: 0 } }), msg(2)];
    S.chats.value = new Map([[1, chat({ kind: 'channel' })]]);
    await S.loadHistory(1, true);
    S.applyUpdate({ type: 'comment_count', pts: 1, pts_count: 1, chat_id: 1, box: 1, message_id: 1, comment_count: 3 });
    expect(S.histories.value.get(1)![0].discussion!.comment_count).toBe(3);
    expect(S.histories.value.get(1)![1].discussion).toBeUndefined();
  });

  it('says why the user may not write', () => {
    const rights = { send_messages: true, send_media: true, send_stickers: true, send_links: true, send_polls: true, invite_users: true, pin_messages: false, change_info: false };
    expect(S.sendBlockedReason(chat({ my_rights: rights }))).toBeNull();
    const muted = { ...rights, send_messages: false };
    expect(S.sendBlockedReason(chat({ role: 'restricted', my_rights: muted }))).toBe('You are muted in this group');
    expect(S.sendBlockedReason(chat({ role: 'restricted', my_rights: muted, restricted_until: 1_900_000_000 }))).toMatch(/^You are muted in this group until /);
    expect(S.sendBlockedReason(chat({ my_rights: muted }))).toBe("You can't send messages here");
    // a chat cached before the server said: the role decides, as before
    expect(S.sendBlockedReason(chat({ kind: 'channel', role: 'member' }))).toBe("You can't send messages here");
    expect(S.sendBlockedReason(chat({ kind: 'channel', role: 'owner' }))).toBeNull();
  });
});
