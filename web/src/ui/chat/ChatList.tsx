import { computed, signal, useSignal } from '@preact/signals';
import type { Chat } from '../../api/types';
import { MAX_PINNED, arrange } from '../../chat/prefs';
import { fmtTime, t } from '../../i18n';
import * as S from '../../state';
import { chatTitle, preview } from './util';

const arranged = computed(() => arrange(S.chatList.value, S.pinnedChatIds.value));
const showArchive = signal(false);

export function ChatList() {
  const { main, archived } = arranged.value;
  const list = showArchive.value ? archived : main;
  const archivedUnread = archived.reduce((n, c) => n + (c.unread_count || 0), 0);
  if (!main.length && !archived.length)
    return S.searchQuery.value.trim() ? (
      <p class="muted small search-status" data-testid="chat-list">{t('noChatsFound')}</p>
    ) : (
      <p class="empty" data-testid="chat-list">{t('noChats')}</p>
    );
  return (
    <ul class="chats" data-testid="chat-list" role="listbox" aria-label={t('search')}>
      {showArchive.value ? (
        <li class="chat archive-row" data-testid="archive-back" role="option" aria-selected={false} tabIndex={0} onClick={() => (showArchive.value = false)} onKeyDown={(e) => e.key === 'Enter' && (showArchive.value = false)}>
          <span class="muted">‹ {t('back')}</span>
          <strong>{t('archived')}</strong>
        </li>
      ) : (
        archived.length > 0 && (
          <li class="chat archive-row" data-testid="archive-open" role="option" aria-selected={false} tabIndex={0} onClick={() => (showArchive.value = true)} onKeyDown={(e) => e.key === 'Enter' && (showArchive.value = true)}>
            <span aria-hidden="true">🗄</span>
            <strong>{t('archived')}</strong>
            <span class="muted small">{archived.length}</span>
            {archivedUnread > 0 && <span class="badge muted-badge">{archivedUnread}</span>}
          </li>
        )
      )}
      {list.map((c) => (
        <ChatItem key={c.id} c={c} />
      ))}
    </ul>
  );
}

function ChatItem({ c }: { c: Chat }) {
  const menu = useSignal(false);
  const peer = c.peer_user_id ? S.users.value.get(c.peer_user_id) : null;
  const active = S.currentChatId.value === c.id;
  const pinned = S.pinnedChatIds.value.includes(c.id);
  const archived = !pinned && !!c.archived;
  const canPin = pinned || S.pinnedChatIds.value.length < MAX_PINNED;
  const draft = !active && c.draft?.text ? c.draft.text : '';
  const mentions = c.unread_mentions_count ?? 0;
  return (
    <li
      class={`chat ${active ? 'active' : ''} ${pinned ? 'pinned-chat' : ''}`}
      data-testid="chat-item"
      data-chat-id={c.id}
      data-pinned={pinned ? '1' : undefined}
      data-archived={archived ? '1' : undefined}
      role="option"
      aria-selected={active}
      tabIndex={0}
      onClick={() => void S.openChat(c.id)}
      onKeyDown={(e) => e.key === 'Enter' && e.target === e.currentTarget && void S.openChat(c.id)}
      onContextMenu={(e) => {
        e.preventDefault();
        menu.value = !menu.value;
      }}
    >
      <div class="avatar" aria-hidden="true">
        {chatTitle(c).slice(0, 1).toUpperCase()}
        {peer?.online && c.peer_user_id !== S.me.value?.id && <span class="dot" data-testid="online-dot" title={t('online')} />}
      </div>
      <div class="chat-body">
        <div class="chat-top">
          <bdi class="title">{chatTitle(c)}</bdi>
          <span class="row">
            {pinned && <span class="muted small" data-testid="chat-pinned-icon" aria-label={t('pinChat')}>📌</span>}
            {c.last_message && <time class="muted">{fmtTime(c.last_message.date)}</time>}
          </span>
        </div>
        <div class="chat-bottom">
          <span class="preview muted" dir="auto">
            {draft ? (
              <span data-testid="chat-draft">
                <span class="draft-label">{t('draft')}: </span>
                {draft}
              </span>
            ) : (
              <>
                {c.kind === 'group' && c.last_message?.sender_id ? `${S.userName(c.last_message.sender_id)}: ` : ''}
                {preview(c.last_message)}
              </>
            )}
          </span>
          {mentions > 0 && (
            <span class="badge mention-badge" data-testid="chat-mention" title={t('mentioned')} aria-label={t('mentioned')}>
              @
            </span>
          )}
          {c.unread_count > 0 && (
            <span class="badge" data-testid="chat-unread" aria-label={`${c.unread_count}`}>
              {c.unread_count}
            </span>
          )}
          <button
            class="icon chat-more"
            data-testid="chat-menu-button"
            aria-label={t('chatActions')}
            aria-expanded={menu.value}
            onClick={(e) => {
              e.stopPropagation();
              menu.value = !menu.value;
            }}
          >
            ⋮
          </button>
        </div>
        {menu.value && (
          <div class="menu" role="menu" onClick={(e) => e.stopPropagation()}>
            <button role="menuitem" data-testid="chat-pin-toggle" disabled={!canPin} onClick={() => ((menu.value = false), void S.pinChat(c.id, !pinned))}>
              {pinned ? t('unpinChat') : t('pinChat')}
            </button>
            <button role="menuitem" data-testid="chat-archive-toggle" onClick={() => ((menu.value = false), void S.archiveChat(c.id, !archived))}>
              {archived ? t('unarchiveChat') : t('archiveChat')}
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
