import { describe, expect, it } from 'vitest';
import { EMPTY_PREFS, arrange, loadPrefs, prune, prefsKey, savePrefs, toggleArchive, togglePin } from '../src/chat/prefs';

class Mem {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

const chats = [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]; // sorted by activity

describe('client-side chat pins and archive', () => {
  it('puts pinned chats on top in pin order and archived ones apart', () => {
    let p = togglePin(EMPTY_PREFS, 3);
    p = togglePin(p, 4); // pinned later: first
    p = toggleArchive(p, 2);
    const { main, archived } = arrange(chats, p);
    expect(main.map((c) => c.id)).toEqual([4, 3, 1]);
    expect(archived.map((c) => c.id)).toEqual([2]);
  });

  it('archiving unpins, pinning unarchives, toggling twice undoes', () => {
    let p = togglePin(EMPTY_PREFS, 1);
    p = toggleArchive(p, 1);
    expect(p).toEqual({ pinned: [], archived: [1] });
    p = togglePin(p, 1);
    expect(p).toEqual({ pinned: [1], archived: [] });
    expect(togglePin(p, 1)).toEqual({ pinned: [], archived: [] });
  });

  it('is kept per account and survives bad storage', () => {
    const s = new Mem();
    savePrefs(s, 7, { pinned: [1], archived: [2] });
    expect(loadPrefs(s, 7)).toEqual({ pinned: [1], archived: [2] });
    expect(loadPrefs(s, 8)).toEqual(EMPTY_PREFS);
    s.setItem(prefsKey(9), '{not json');
    expect(loadPrefs(s, 9)).toEqual(EMPTY_PREFS);
    s.setItem(prefsKey(10), JSON.stringify({ pinned: [1, 'x', 2.5], archived: null }));
    expect(loadPrefs(s, 10)).toEqual({ pinned: [1], archived: [] });
  });

  it('prunes chats that are gone, returning the same object when nothing changed', () => {
    const p = { pinned: [1, 5], archived: [6] };
    expect(prune(p, new Set([1]))).toEqual({ pinned: [1], archived: [] });
    const q = { pinned: [1], archived: [] };
    expect(prune(q, new Set([1, 2]))).toBe(q);
  });
});
