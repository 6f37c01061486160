import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { ChatPreview, Message } from '../../api/types';
import { fmtNumber, fmtTime, t } from '../../i18n';
import * as S from '../../state';
import { jumpRequest, publicPreview } from '../nav';
import { chatTitle, preview } from './util';

/** How long the query must rest before the server is asked. */
export const SEARCH_DEBOUNCE_MS = 300;

/**
 * Below the chats the sidebar's search box filters: public groups and channels
 * (searchPublicChats) and messages of all the user's chats (searchMessages), asked for once
 * typing pauses. A public chat opens as a preview to join; a message opens its chat at it.
 */
export function GlobalSearch() {
  const q = S.searchQuery.value.trim();
  const publicChats = useSignal<ChatPreview[]>([]);
  const messages = useSignal<Message[]>([]);
  const done = useSignal(''); // the query the results are for
  useEffect(() => {
    if (!q) {
      publicChats.value = [];
      messages.value = [];
      done.value = '';
      return;
    }
    let current = true;
    const timer = setTimeout(async () => {
      const [chats, found] = await Promise.allSettled([
        S.call<ChatPreview[]>('searchPublicChats', { query: q, limit: 10 }),
        S.call<Message[]>('searchMessages', { query: q, limit: 30 }),
      ]);
      if (!current) return;
      publicChats.value = chats.status === 'fulfilled' ? chats.value : [];
      messages.value = found.status === 'fulfilled' ? found.value : [];
      done.value = q;
      if (found.status === 'fulfilled') void S.ensureUsers(found.value.map((m) => m.sender_id));
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [q]);
  if (!q) return null;
  // chats one is in are in the list above already
  const mine = S.chats.value;
  const others = publicChats.value.filter((p) => !p.is_member && !mine.has(p.chat_id));
  const searching = done.value !== q;
  const openPublic = (p: ChatPreview) => {
    if (S.currentChatId.value != null) void S.openChat(null);
    publicPreview.value = p;
  };
  const openMessage = async (m: Message) => {
    publicPreview.value = null;
    if (!mine.has(m.chat_id)) await S.refreshChat(m.chat_id);
    jumpRequest.value = { chatId: m.chat_id, messageId: m.id };
    await S.openChat(m.chat_id);
  };
  return (
    <div class="global-search" data-testid="global-search" aria-busy={searching}>
      {searching && <p class="muted small search-status" role="status">{t('searching')}</p>}
      {others.length > 0 && (
        <section aria-label={t('publicChats')}>
          <h3 class="search-head">{t('publicChats')}</h3>
          <ul class="search-results">
            {others.map((p) => (
              <li key={p.chat_id}>
                <button class="search-result" data-testid="public-result" data-chat-id={p.chat_id} onClick={() => openPublic(p)}>
                  <span class="avatar small-avatar" aria-hidden="true">{p.title.slice(0, 1).toUpperCase()}</span>
                  <span class="result-body">
                    <bdi class="title">{p.title}</bdi>
                    <span class="muted small">
                      {p.username ? `@${p.username} · ` : ''}
                      {t(p.kind === 'channel' ? 'subscribers' : 'members', { n: fmtNumber(p.member_count) })}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {messages.value.length > 0 && (
        <section aria-label={t('messagesFound')}>
          <h3 class="search-head">{t('messagesFound')}</h3>
          <ul class="search-results">
            {messages.value.map((m) => {
              const chat = mine.get(m.chat_id);
              return (
                <li key={`${m.chat_id}:${m.id}`}>
                  <button class="search-result" data-testid="message-result" data-chat-id={m.chat_id} data-message-id={m.id} onClick={() => void openMessage(m)}>
                    <span class="result-body">
                      <span class="chat-top">
                        <bdi class="title">{chat ? chatTitle(chat) : `#${m.chat_id}`}</bdi>
                        <time class="muted small">{fmtTime(m.date)}</time>
                      </span>
                      <span class="preview muted small" dir="auto">
                        {m.sender_id && chat?.kind !== 'private' ? `${S.userName(m.sender_id)}: ` : ''}
                        {preview(m)}
                      </span>
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      {!searching && !others.length && !messages.value.length && <p class="muted small search-status" data-testid="search-empty">{t('nothingFound')}</p>}
    </div>
  );
}
