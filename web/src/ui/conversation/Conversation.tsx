import { useComputed, useSignal } from '@preact/signals';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { InviteLink, Message } from '../../api/types';
import { fmtDay, fmtNumber, fmtTime, t } from '../../i18n';
import * as S from '../../state';
import { InfoPanel } from '../chat/InfoPanel';
import { JumpButton } from '../chat/JumpButton';
import { Thread } from '../chat/Thread';
import { chatTitle } from '../chat/util';
import { errText } from '../errors';
import { groupAlbums } from '../media/MediaView';
import { lazy } from '../media/lazy';
import { VirtualList, type Row } from '../MessageList';
import { jumpRequest } from '../nav';
import { Composer } from './Composer';
import { MessageRow, type MessageActions } from './MessageView';
import { findById, firstAbove, preview } from './preview';

const ForwardPicker = lazy(() => import('./ForwardPicker'));

// A message's calendar day, worked out once per message object (toDateString is not cheap,
// and the rows are listed again for every page of older messages).
const days = new WeakMap<Message, string>();
function dayOf(m: Message): string {
  let d = days.get(m);
  if (d === undefined) {
    d = new Date(m.date * 1000).toDateString();
    days.set(m, d);
  }
  return d;
}

/** An open chat: its header, the (windowed) message list, side panels and the composer. */
export function Conversation({ chatId }: { chatId: number }) {
  const chat = S.chats.value.get(chatId);
  const msgs = S.histories.value.get(chatId) ?? [];
  const replyTo = useSignal<Message | null>(null);
  const editing = useSignal<Message | null>(null);
  const menuFor = useSignal<number | null>(null);
  const jumpKey = useSignal<string | null>(null);
  const invite = useSignal<string | null>(null);
  const forwarding = useSignal<Message | null>(null);
  const typingNames = useComputed(() => [...(S.typing.value.get(chatId)?.keys() ?? [])].map((id) => S.userName(id)));
  const readAtOpen = useRef(chat && chat.unread_count > 0 ? chat.read_inbox_max_id : null);
  const panel = useSignal<null | 'info' | Message>(null);
  const wrap = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onVis = () => !document.hidden && S.markRead(chatId);
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, [chatId]);

  const jump = async (id: number) => {
    // not loaded: load the messages around it (the history then continues from there)
    if (!findById(S.histories.value.get(chatId) ?? [], id)) await S.loadAround(chatId, id).catch(() => undefined);
    jumpKey.value = null;
    queueMicrotask(() => (jumpKey.value = `m${id}`));
  };

  // a restriction with an end: read the chat again when it ends, so the composer comes back
  const until = chat?.restricted_until ?? 0;
  useEffect(() => {
    if (!until) return;
    const wait = Math.min(until * 1000 - Date.now() + 1000, 2 ** 31 - 1);
    const timer = setTimeout(() => void S.refreshChat(chatId), Math.max(wait, 0));
    return () => clearTimeout(timer);
  }, [chatId, until]);

  // one object for every row: the same from render to render, so rows stay memoised
  const actions = useMemo<MessageActions>(
    () => ({
      menuFor,
      jumpKey,
      jump: (id) => void jump(id),
      reply: (m) => (replyTo.value = m),
      edit: (m) => (editing.value = m),
      comments: (m) => (panel.value = m),
      forward: (m) => (forwarding.value = m),
    }),
    [chatId],
  );

  // a search result asked for a message of this chat: go to it once the history is there
  const req = jumpRequest.value;
  const loaded = msgs.length > 0;
  useEffect(() => {
    if (req && req.chatId === chatId && loaded) {
      jumpRequest.value = null;
      void jump(req.messageId);
    }
  }, [req, loaded]);

  // the rows' descriptors, kept per message object and day: listing them again after a page
  // of older messages allocates nothing for the messages already there
  const cache = useMemo(() => ({ msg: new WeakMap<Message, Row>(), day: new Map<number, Row>(), unread: null as Row | null }), [chatId]);
  const view = useRef<(m: Message) => ComponentChildren>(() => null);

  if (!chat) return null;
  const mine = S.me.value?.id;
  const isChannel = chat.kind === 'channel';
  const blocked = S.sendBlockedReason(chat);
  const canPost = !isChannel || chat.role === 'owner' || chat.role === 'admin';
  const detached = S.historyDetached.value.has(chatId);
  const isAdmin = chat.role === 'owner' || chat.role === 'admin';
  const peer = chat.peer_user_id ? S.users.value.get(chat.peer_user_id) : null;
  let firstUnreadId: number | null = null;
  if (readAtOpen.current != null) {
    for (let i = firstAbove(msgs, readAtOpen.current); i < msgs.length; i++) {
      const m = msgs[i];
      if (m.sender_id !== mine && !m.service) {
        firstUnreadId = m.id;
        break;
      }
    }
  }

  const grouped = groupAlbums(msgs);
  view.current = (m: Message) => {
    const out = m.sender_id === mine && !isChannel ? true : isChannel ? canPost : false;
    return (
      <MessageRow
        m={m}
        album={grouped.albums.get(m.id) ?? null}
        out={out}
        read={out && chat.read_outbox_max_id >= m.id}
        kind={chat.kind}
        canDeleteAll={out || isAdmin}
        reply={m.reply_to_message_id ? findById(msgs, m.reply_to_message_id) : null}
        actions={actions}
      />
    );
  };
  const rows: Row[] = [];
  let lastDay = '';
  for (const m of msgs) {
    if (grouped.hidden.has(m.id)) continue;
    const day = dayOf(m);
    if (day !== lastDay) {
      lastDay = day;
      let sep = cache.day.get(m.id);
      if (!sep) {
        const date = m.date;
        sep = { key: `d${m.id}`, render: () => <div class="day" role="separator"><span>{fmtDay(date)}</span></div> };
        cache.day.set(m.id, sep);
      }
      rows.push(sep);
    }
    if (m.id === firstUnreadId)
      rows.push((cache.unread ??= { key: 'unread', render: () => <div class="unread-sep" data-testid="unread-separator" role="separator"><span>{t('unreadMessages')}</span></div> }));
    let row = cache.msg.get(m);
    if (!row) {
      row = { key: `m${m.id}`, render: () => view.current(m) };
      cache.msg.set(m, row);
    }
    rows.push(row);
  }

  const pinnedId = chat.pinned_message_ids?.[chat.pinned_message_ids.length - 1];
  const pinned = pinnedId ? findById(msgs, pinnedId) : null;
  const subtitle = chat.kind === 'private'
    ? typingNames.value.length ? t('typing') : peer?.online ? t('online') : peer?.last_seen ? t('lastSeen', { time: fmtTime(peer.last_seen) }) : ''
    : t(isChannel ? 'subscribers' : 'members', { n: fmtNumber(chat.member_count ?? 0) });

  const makeInvite = async () => {
    try {
      const link = await S.call<InviteLink>('createInviteLink', { chat_id: chatId });
      const url = `${location.origin}/join/${link.code}`;
      invite.value = url;
      navigator.clipboard?.writeText(url).catch(() => undefined);
    } catch (e) {
      invite.value = errText(e);
    }
  };

  return (
    <div class="conversation">
      <header class="bar conv-head">
        <button class="icon back" data-testid="conversation-back" aria-label={t('back')} onClick={() => void S.openChat(null)}>
          ‹
        </button>
        <div class="conv-title">
          <bdi data-testid="conversation-title">{chatTitle(chat)}</bdi>
          <div class="muted small">{subtitle}</div>
        </div>
        {chat.kind !== 'private' && (
          <button class="icon" data-testid="chat-info-button" aria-label={t('chatInfo')} title={t('chatInfo')} aria-expanded={panel.value === 'info'} onClick={() => (panel.value = panel.value === 'info' ? null : 'info')}>
            ℹ
          </button>
        )}
        {chat.kind !== 'private' && (
          <button class="icon" data-testid="invite-link-button" aria-label={t('inviteLink')} title={t('inviteLink')} onClick={makeInvite}>
            🔗
          </button>
        )}
      </header>
      {invite.value && (
        <div class="invite" role="status">
          <span data-testid="invite-link" dir="ltr">
            {invite.value}
          </span>
          <button onClick={() => navigator.clipboard?.writeText(invite.value!)}>{t('copy')}</button>
          <button aria-label={t('close')} onClick={() => (invite.value = null)}>
            ×
          </button>
        </div>
      )}
      {pinnedId && (
        <button class="pinned" data-testid="pinned-bar" onClick={() => void jump(pinnedId)}>
          <strong>{t('pinned')}</strong> <span dir="auto">{pinned ? preview(pinned) : `#${pinnedId}`}</span>
        </button>
      )}
      <div class="messages-wrap" ref={wrap}>
        <VirtualList
          class="messages"
          rows={rows}
          scrollToKey={jumpKey.value}
          follow={!detached}
          onNearTop={() => void S.loadOlder(chatId)}
          onNearBottom={detached ? () => void S.loadNewer(chatId) : undefined}
        />
        <JumpButton
          container={() => wrap.current?.querySelector('.messages') ?? null}
          msgs={msgs}
          firstUnreadId={firstUnreadId}
          mine={mine}
          detached={detached}
          onJump={(id) => void jump(id)}
          onLatest={() => S.loadLatest(chatId)}
        />
      </div>
      {panel.value === 'info' && <InfoPanel chat={chat} onClose={() => (panel.value = null)} />}
      {panel.value && panel.value !== 'info' && <Thread post={panel.value} onClose={() => (panel.value = null)} />}
      {typingNames.value.length > 0 && (
        <div class="typing muted small" data-testid="typing-indicator" aria-live="polite">
          {t('someoneTyping', { name: typingNames.value.join(', ') })}
        </div>
      )}
      {(!isChannel || !blocked) && <Composer chatId={chatId} replyTo={replyTo} editing={editing} blocked={blocked} />}
      {forwarding.value && (
        <ForwardPicker
          message={forwarding.value}
          onClose={() => (forwarding.value = null)}
          onDone={(target) => {
            forwarding.value = null;
            if (target !== chatId) void S.openChat(target);
          }}
        />
      )}
    </div>
  );
}
