/**
 * The chat list's arrangement: pinned chats first, in the server's pin order, and the archive
 * apart. Both are kept on the server per account (pinChat, archiveChat) so every device shows
 * the same; an earlier version kept them in localStorage, read once here to move them over.
 */
export interface LegacyPrefs {
  /** pinned chat ids, first shown first */
  pinned: number[];
  archived: number[];
}

export const MAX_PINNED = 10;

export function legacyKey(accountId: number): string {
  return `heliograph.chatprefs.${accountId}`;
}

/** Pins and archive an earlier version kept in this browser; null when there are none. */
export function loadLegacy(storage: Pick<Storage, 'getItem'> | undefined, accountId: number): LegacyPrefs | null {
  try {
    const raw = storage?.getItem(legacyKey(accountId));
    if (!raw) return null;
    const p = JSON.parse(raw) as Partial<LegacyPrefs>;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : []);
    return { pinned: ids(p.pinned), archived: ids(p.archived) };
  } catch {
    return null;
  }
}

/**
 * Split a chat list (already sorted by activity) into the main list, pinned chats first in
 * pin order, and the archive.
 */
export function arrange<T extends { id: number; archived?: boolean }>(sorted: T[], pinned: number[]): { main: T[]; archived: T[] } {
  const pinRank = new Map(pinned.map((id, i) => [id, i]));
  const top: T[] = [];
  const rest: T[] = [];
  const archived: T[] = [];
  for (const c of sorted) {
    if (pinRank.has(c.id)) top.push(c);
    else if (c.archived) archived.push(c);
    else rest.push(c);
  }
  top.sort((a, b) => pinRank.get(a.id)! - pinRank.get(b.id)!);
  return { main: [...top, ...rest], archived };
}
