import type { Chat, Message } from '../../api/types';
import { DraftSaver } from '../../chat/drafts';
import { t } from '../../i18n';
import * as S from '../../state';

export function chatTitle(c: Chat): string {
  if (c.kind === 'private' && c.peer_user_id === S.me.value?.id) return t('savedMessages');
  return c.title;
}

export function preview(m: Message | null): string {
  if (!m) return '';
  if (m.service) return String((m.service as { type?: string }).type ?? '').replace(/_/g, ' ');
  return m.text || (m.media ? t('photo') : '');
}

/** The one draft saver: saveDraft after typing pauses; the list shows the draft at once. */
export const drafts = new DraftSaver((chatId, text) =>
  S.call('saveDraft', { chat_id: chatId, text }).then(() => S.patchChat(chatId, () => ({ draft: text ? { text } : null }))),
);

if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => void drafts.flushAll());
  document.addEventListener('visibilitychange', () => document.hidden && void drafts.flushAll());
}
