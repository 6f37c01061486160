import { signal } from '@preact/signals';
import type { ChatPreview } from '../api/types';

/** The page's path (the join and sticker-pack pages have their own). */
export const route = signal(typeof location !== 'undefined' ? location.pathname : '/');
export function navigate(path: string) {
  history.pushState(null, '', path);
  route.value = path;
}
if (typeof window !== 'undefined') window.addEventListener('popstate', () => (route.value = location.pathname));

/** A message the conversation of its chat scrolls to once open (a search result). */
export const jumpRequest = signal<{ chatId: number; messageId: number } | null>(null);

/** A public group or channel shown in the main pane before joining it (from search). */
export const publicPreview = signal<ChatPreview | null>(null);
