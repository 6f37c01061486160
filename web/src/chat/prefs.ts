/**
 * Client-side chat pins and archive. The server has no pin/archive for chats (only pinned
 * messages), so they are kept per account in localStorage (`heliograph.chatprefs.<account>`).
 */
export interface ChatPrefs {
  /** pinned chat ids, most recently pinned first */
  pinned: number[];
  archived: number[];
}

export const EMPTY_PREFS: ChatPrefs = { pinned: [], archived: [] };
export const MAX_PINNED = 10;

export function prefsKey(accountId: number): string {
  return `heliograph.chatprefs.${accountId}`;
}

export function loadPrefs(storage: Pick<Storage, 'getItem'> | undefined, accountId: number): ChatPrefs {
  try {
    const raw = storage?.getItem(prefsKey(accountId));
    if (!raw) return EMPTY_PREFS;
    const p = JSON.parse(raw) as Partial<ChatPrefs>;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : []);
    return { pinned: ids(p.pinned), archived: ids(p.archived) };
  } catch {
    return EMPTY_PREFS;
  }
}

export function savePrefs(storage: Pick<Storage, 'setItem'> | undefined, accountId: number, prefs: ChatPrefs): void {
  try {
    storage?.setItem(prefsKey(accountId), JSON.stringify(prefs));
  } catch {
    /* quota or private mode */
  }
}

/** Pin or unpin; pinning an archived chat takes it out of the archive. */
export function togglePin(p: ChatPrefs, id: number): ChatPrefs {
  if (p.pinned.includes(id)) return { ...p, pinned: p.pinned.filter((x) => x !== id) };
  return { pinned: [id, ...p.pinned].slice(0, MAX_PINNED), archived: p.archived.filter((x) => x !== id) };
}

/** Archive or unarchive; archiving unpins. */
export function toggleArchive(p: ChatPrefs, id: number): ChatPrefs {
  if (p.archived.includes(id)) return { ...p, archived: p.archived.filter((x) => x !== id) };
  return { pinned: p.pinned.filter((x) => x !== id), archived: [...p.archived, id] };
}

/** Forget chats that are gone (left, deleted). */
export function prune(p: ChatPrefs, existing: Set<number>): ChatPrefs {
  const pinned = p.pinned.filter((x) => existing.has(x));
  const archived = p.archived.filter((x) => existing.has(x));
  return pinned.length === p.pinned.length && archived.length === p.archived.length ? p : { pinned, archived };
}

/**
 * Split a chat list (already sorted by activity) into the main list, pinned chats first in
 * pin order, and the archive.
 */
export function arrange<T extends { id: number }>(sorted: T[], p: ChatPrefs): { main: T[]; archived: T[] } {
  const archivedSet = new Set(p.archived);
  const pinRank = new Map(p.pinned.map((id, i) => [id, i]));
  const pinned: T[] = [];
  const rest: T[] = [];
  const archived: T[] = [];
  for (const c of sorted) {
    if (archivedSet.has(c.id)) archived.push(c);
    else if (pinRank.has(c.id)) pinned.push(c);
    else rest.push(c);
  }
  pinned.sort((a, b) => pinRank.get(a.id)! - pinRank.get(b.id)!);
  return { main: [...pinned, ...rest], archived };
}
