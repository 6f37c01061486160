import { describe, expect, it } from 'vitest';
import { arrange, legacyKey, loadLegacy } from '../src/chat/prefs';

class Mem {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

// sorted by activity, as the chat list is
const chats = [{ id: 1 }, { id: 2, archived: true }, { id: 3 }, { id: 4 }];

describe('the chat list arrangement', () => {
  it('puts pinned chats on top in pin order and archived ones apart', () => {
    const { main, archived } = arrange(chats, [4, 3]);
    expect(main.map((c) => c.id)).toEqual([4, 3, 1]);
    expect(archived.map((c) => c.id)).toEqual([2]);
  });

  it('ignores pinned ids of chats not in the list', () => {
    expect(arrange(chats, [9, 1]).main.map((c) => c.id)).toEqual([1, 3, 4]);
  });

  it('reads the pins and archive an earlier version kept, and survives bad storage', () => {
    const s = new Mem();
    s.setItem(legacyKey(7), JSON.stringify({ pinned: [1], archived: [2] }));
    expect(loadLegacy(s, 7)).toEqual({ pinned: [1], archived: [2] });
    expect(loadLegacy(s, 8)).toBeNull();
    s.setItem(legacyKey(9), '{not json');
    expect(loadLegacy(s, 9)).toBeNull();
    s.setItem(legacyKey(10), JSON.stringify({ pinned: [1, 'x', 2.5], archived: null }));
    expect(loadLegacy(s, 10)).toEqual({ pinned: [1], archived: [] });
    expect(loadLegacy(undefined, 7)).toBeNull();
  });
});
