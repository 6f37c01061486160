import type { Message } from '../../api/types';
import { mediaLabel } from '../media/MediaView';

/** One line for a message: quotes, the pinned bar, the composer's reply/edit context. */
export function preview(m: Message | null): string {
  if (!m) return '';
  if (m.service) return String((m.service as { type?: string }).type ?? '').replace(/_/g, ' ');
  return m.text || (m.media ? mediaLabel(m) : '');
}

/** The message with this id in a list sorted by id (binary search), or null. */
export function findById(msgs: Message[], id: number): Message | null {
  let lo = 0;
  let hi = msgs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = msgs[mid].id;
    if (x === id) return msgs[mid];
    if (x < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** The index of the first message with an id above `id` in a list sorted by id. */
export function firstAbove(msgs: Message[], id: number): number {
  let lo = 0;
  let hi = msgs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (msgs[mid].id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
