import { signal, useComputed, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError, type Chat, type ChatPreview, type InviteLink, type Message, type User } from '../api/types';
import { LANGS, LANG_NAMES, fmtDay, fmtNumber, fmtTime, lang, setLang, t, type Lang } from '../i18n';
import { parseMarkdown, segments } from '../markdown';
import * as S from '../state';
import { VirtualList, type Row } from './MessageList';
import { QrLogin } from './account/QrLogin';
import { AccountSettings } from './account/AccountSettings';
import { ChatList as ChatListView } from './chat/ChatList';
import { EmojiButton } from './chat/EmojiPicker';
import { InfoPanel } from './chat/InfoPanel';
import { JumpButton } from './chat/JumpButton';
import { Thread } from './chat/Thread';
import { drafts } from './chat/util';
import { insertAt } from '../chat/emoji';
import { AttachTray, ComposerTools, MediaOverlays } from './media/Composer';
import { LinkPreviewCard, MessageMedia, groupAlbums, mediaLabel } from './media/MediaView';
import type { MediaMessage } from '../media/types';
import { lazy } from './media/lazy';
import { useReturnFocus } from './focus';

const AddStickers = lazy(() => import('./stickers/AddStickers'));

export const route = signal(location.pathname);
export function navigate(path: string) {
  history.pushState(null, '', path);
  route.value = path;
}
window.addEventListener('popstate', () => (route.value = location.pathname));

function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
}

export function App() {
  const joinCode = route.value.match(/^\/join\/([A-Za-z0-9_-]+)/)?.[1];
  if (!S.session.value) return <Auth />;
  if (joinCode) return <JoinPage code={joinCode} />;
  const packName = route.value.match(/^\/addstickers\/([A-Za-z0-9_]+)/)?.[1];
  if (packName) return <AddStickers name={packName} onBack={() => navigate('/')} />;
  return <Shell />;
}

// --- auth -------------------------------------------------------------------------------------

function Auth() {
  const mode = useSignal<'in' | 'up' | 'qr'>('in');
  const error = useSignal('');
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const get = (k: string) => String(f.get(k) ?? '');
    busy.value = true;
    error.value = '';
    try {
      if (mode.value === 'in') await S.signIn(get('username'), get('password'));
      else await S.signUp(get('username'), get('password'), get('name'));
    } catch (err) {
      error.value = errText(err);
    } finally {
      busy.value = false;
    }
  };
  const p = mode.value === 'in' ? 'signin' : 'signup';
  if (mode.value === 'qr')
    return (
      <main class="auth">
        <QrLogin onBack={() => (mode.value = 'in')} />
      </main>
    );
  return (
    <main class="auth">
      <form onSubmit={submit} class="card" key={mode.value}>
        <h1>{t('appName')}</h1>
        <h2>{mode.value === 'in' ? t('signIn') : t('signUp')}</h2>
        <label>
          {t('username')}
          <input name="username" data-testid={`${p}-username`} autocomplete="username" required autoFocus />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" data-testid={`${p}-password`} autocomplete={mode.value === 'in' ? 'current-password' : 'new-password'} required />
        </label>
        {mode.value === 'up' && (
          <label>
            {t('displayName')}
            <input name="name" data-testid="signup-name" required maxLength={64} />
          </label>
        )}
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <button type="submit" class="primary" data-testid={`${p}-submit`} disabled={busy.value}>
          {mode.value === 'in' ? t('signIn') : t('signUp')}
        </button>
        <button type="button" class="link" data-testid="auth-switch" onClick={() => (mode.value = mode.value === 'in' ? 'up' : 'in')}>
          {mode.value === 'in' ? t('noAccount') : t('haveAccount')}
        </button>
        <button type="button" class="link" data-testid="qr-login-button" onClick={() => (mode.value = 'qr')}>
          {t('qrSignIn')}
        </button>
        <LanguageSelect />
      </form>
    </main>
  );
}

function LanguageSelect() {
  return (
    <label class="lang">
      {t('language')}
      <select data-testid="language-select" value={lang.value} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option value={l} key={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}

// --- shell ------------------------------------------------------------------------------------

const dialog = signal<null | 'settings' | 'new-chat' | 'new-group'>(null);

function Shell() {
  useEffect(() => S.connect(), []);
  useEffect(() => {
    const n = S.totalUnread.value;
    document.title = n ? `(${n}) ${t('appName')}` : t('appName');
  });
  const current = S.currentChatId.value;
  return (
    <div class={`shell ${current ? 'has-chat' : ''}`}>
      <ConnectionBanner />
      <aside class="sidebar">
        <header class="bar">
          <button class="icon" data-testid="settings-button" aria-label={t('settings')} title={t('settings')} onClick={() => (dialog.value = 'settings')}>
            ☰
          </button>
          <input
            class="search"
            type="search"
            data-testid="search-input"
            aria-label={t('search')}
            placeholder={t('search')}
            value={S.searchQuery.value}
            onInput={(e) => (S.searchQuery.value = (e.target as HTMLInputElement).value)}
          />
          <button class="icon" data-testid="new-chat-button" aria-label={t('newChat')} title={t('newChat')} onClick={() => (dialog.value = 'new-chat')}>
            ✎
          </button>
          <button class="icon" data-testid="new-group-button" aria-label={t('newGroup')} title={t('newGroup')} onClick={() => (dialog.value = 'new-group')}>
            +
          </button>
        </header>
        <ChatListView />
      </aside>
      <section class="main">{current ? <Conversation chatId={current} key={current} /> : <p class="empty">{t('pickChat')}</p>}</section>
      <MediaOverlays />
      {dialog.value === 'settings' && <Settings />}
      {dialog.value === 'new-chat' && <NewChat />}
      {dialog.value === 'new-group' && <NewGroup />}
    </div>
  );
}

function ConnectionBanner() {
  const st = S.connState.value;
  return (
    <div class={`banner ${st}`} data-testid="connection-banner" data-state={st} role="status" aria-live="polite">
      {st === 'online' ? t('online') : st === 'connecting' ? t('connecting') : t('offline')}
    </div>
  );
}

function Modal(props: { title: string; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useReturnFocus(ref);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && (dialog.value = null);
    window.addEventListener('keydown', onKey);
    ref.current?.querySelector<HTMLElement>('input,select,button')?.focus();
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && (dialog.value = null)}>
      <div class="card modal" role="dialog" aria-modal="true" aria-label={props.title} ref={ref}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

function Settings() {
  return (
    <Modal title={t('settings')}>
      <AccountSettings language={<LanguageSelect />} />
      <div class="row">
        <button onClick={() => (dialog.value = null)}>{t('close')}</button>
        <button class="danger" onClick={() => void S.signOut()}>
          {t('signOut')}
        </button>
      </div>
    </Modal>
  );
}

function NewChat() {
  const error = useSignal('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const name = String(new FormData(e.target as HTMLFormElement).get('username') ?? '').trim().replace(/^@/, '');
    if (!name) return;
    try {
      const user = await S.call<User>('resolveUsername', { username: name });
      const chat = await S.call<Chat>('getPrivateChat', { user_id: user.id });
      S.users.value = new Map(S.users.value).set(user.id, user);
      S.putChat(chat);
      dialog.value = null;
      await S.openChat(chat.id);
    } catch (err) {
      error.value = errText(err);
    }
  };
  return (
    <Modal title={t('newChat')}>
      <form onSubmit={submit}>
        <input name="username" data-testid="new-chat-username" placeholder={t('newChatHint')} aria-label={t('username')} required />
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <div class="row">
          <button type="button" onClick={() => (dialog.value = null)}>
            {t('cancel')}
          </button>
          <button type="submit" class="primary" data-testid="new-chat-submit">
            {t('open')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function NewGroup() {
  const error = useSignal('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const title = String(f.get('title') ?? '').trim();
    const kind = String(f.get('kind'));
    const names = String(f.get('members') ?? '')
      .split(',')
      .map((s) => s.trim().replace(/^@/, ''))
      .filter(Boolean);
    try {
      const ids = await Promise.all(names.map((n) => S.call<User>('resolveUsername', { username: n }).then((u) => u.id)));
      let chat: Chat;
      if (kind === 'channel') {
        chat = await S.call<Chat>('createChannel', { title });
        if (ids.length) await S.call('addChatMembers', { chat_id: chat.id, user_ids: ids }).catch(() => undefined);
      } else chat = await S.call<Chat>('createGroup', { title, user_ids: ids });
      S.putChat(chat);
      dialog.value = null;
      await S.openChat(chat.id);
    } catch (err) {
      error.value = errText(err);
    }
  };
  return (
    <Modal title={t('newGroup')}>
      <form onSubmit={submit}>
        <label>
          {t('groupTitle')}
          <input name="title" data-testid="group-title-input" required maxLength={256} />
        </label>
        <label>
          {t('groupMembers')}
          <input name="members" data-testid="group-members-input" />
        </label>
        <select name="kind" data-testid="group-kind" aria-label={t('kindGroup')}>
          <option value="group">{t('kindGroup')}</option>
          <option value="channel">{t('kindChannel')}</option>
        </select>
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <div class="row">
          <button type="button" onClick={() => (dialog.value = null)}>
            {t('cancel')}
          </button>
          <button type="submit" class="primary" data-testid="group-create-submit">
            {t('create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

// --- chat list --------------------------------------------------------------------------------

function chatTitle(c: Chat): string {
  if (c.kind === 'private' && c.peer_user_id === S.me.value?.id) return t('savedMessages');
  return c.title;
}

function preview(m: Message | null): string {
  if (!m) return '';
  if (m.service) return String((m.service as { type?: string }).type ?? '').replace(/_/g, ' ');
  return m.text || (m.media ? mediaLabel(m) : '');
}

// --- conversation -----------------------------------------------------------------------------

const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🔥'];

function Conversation({ chatId }: { chatId: number }) {
  const chat = S.chats.value.get(chatId);
  const msgs = S.histories.value.get(chatId) ?? [];
  const replyTo = useSignal<Message | null>(null);
  const editing = useSignal<Message | null>(null);
  const menuFor = useSignal<number | null>(null);
  const jumpKey = useSignal<string | null>(null);
  const invite = useSignal<string | null>(null);
  const typingNames = useComputed(() => [...(S.typing.value.get(chatId)?.keys() ?? [])].map((id) => S.userName(id)));
  const readAtOpen = useRef(chat && chat.unread_count > 0 ? chat.read_inbox_max_id : null);
  const panel = useSignal<null | 'info' | Message>(null);
  const wrap = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onVis = () => !document.hidden && S.markRead(chatId);
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, [chatId]);

  if (!chat) return null;
  const mine = S.me.value?.id;
  const isChannel = chat.kind === 'channel';
  const canPost = !isChannel || chat.role === 'owner' || chat.role === 'admin';
  const peer = chat.peer_user_id ? S.users.value.get(chat.peer_user_id) : null;
  const byId = new Map(msgs.map((m) => [m.id, m]));
  const firstUnreadId = readAtOpen.current != null ? msgs.find((m) => m.id > readAtOpen.current! && m.sender_id !== mine && !m.service)?.id ?? null : null;

  const jump = async (id: number) => {
    for (let i = 0; i < 20 && !(S.histories.value.get(chatId) ?? []).some((m) => m.id === id); i++) {
      if (!(await S.loadOlder(chatId))) break;
    }
    jumpKey.value = null;
    queueMicrotask(() => (jumpKey.value = `m${id}`));
  };

  const rows: Row[] = [];
  let lastDay = '';
  const grouped = groupAlbums(msgs);
  for (const m of msgs) {
    if (grouped.hidden.has(m.id)) continue;
    const day = new Date(m.date * 1000).toDateString();
    if (day !== lastDay) {
      lastDay = day;
      rows.push({ key: `d${m.id}`, render: () => <div class="day" role="separator"><span>{fmtDay(m.date)}</span></div> });
    }
    if (m.id === firstUnreadId)
      rows.push({ key: 'unread', render: () => <div class="unread-sep" data-testid="unread-separator" role="separator"><span>{t('unreadMessages')}</span></div> });
    const out = m.sender_id === mine && !isChannel ? true : isChannel ? canPost : false;
    rows.push({
      key: `m${m.id}`,
      render: () => (
        <MessageView
          m={m}
          album={grouped.albums.get(m.id) ?? null}
          out={out}
          chat={chat}
          reply={m.reply_to_message_id ? byId.get(m.reply_to_message_id) ?? null : null}
          highlighted={jumpKey.value === `m${m.id}`}
          menuOpen={menuFor.value === m.id}
          onMenu={() => (menuFor.value = menuFor.value === m.id ? null : m.id)}
          onJump={jump}
          onReply={() => {
            replyTo.value = m;
            menuFor.value = null;
          }}
          onEdit={() => {
            editing.value = m;
            menuFor.value = null;
          }}
          onComments={m.discussion ? () => (panel.value = m) : undefined}
        />
      ),
    });
  }

  const pinnedId = chat.pinned_message_ids?.[chat.pinned_message_ids.length - 1];
  const pinned = pinnedId ? byId.get(pinnedId) : null;
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
        <VirtualList class="messages" rows={rows} scrollToKey={jumpKey.value} onNearTop={() => void S.loadOlder(chatId)} />
        <JumpButton container={() => wrap.current?.querySelector('.messages') ?? null} msgs={msgs} firstUnreadId={firstUnreadId} mine={mine} onJump={(id) => void jump(id)} />
      </div>
      {panel.value === 'info' && <InfoPanel chat={chat} onClose={() => (panel.value = null)} />}
      {panel.value && panel.value !== 'info' && <Thread post={panel.value} onClose={() => (panel.value = null)} />}
      {typingNames.value.length > 0 && (
        <div class="typing muted small" data-testid="typing-indicator" aria-live="polite">
          {t('someoneTyping', { name: typingNames.value.join(', ') })}
        </div>
      )}
      {canPost && <Composer chatId={chatId} replyTo={replyTo} editing={editing} />}
    </div>
  );
}

function MessageView(props: {
  m: Message;
  album?: Message[] | null;
  out: boolean;
  chat: Chat;
  reply: Message | null;
  highlighted: boolean;
  menuOpen: boolean;
  onMenu: () => void;
  onJump: (id: number) => void;
  onReply: () => void;
  onEdit: () => void;
  onComments?: () => void;
}) {
  const { m, out, chat } = props;
  if (m.service) {
    return (
      <div class="service muted small" data-testid="message" data-message-id={m.id}>
        {preview(m)}
      </div>
    );
  }
  const read = out && chat.read_outbox_max_id >= m.id;
  const showSender = !out && chat.kind === 'group';
  const act = (f: () => Promise<unknown>) => () => void f().catch(() => undefined);
  return (
    <div
      class={`msg ${out ? 'out' : 'in'} ${props.highlighted ? 'hl' : ''}`}
      data-testid="message"
      data-message-id={m.id}
      data-out={out ? '1' : undefined}
      tabIndex={0}
      onKeyDown={(e) => e.key === 'Enter' && e.target === e.currentTarget && props.onMenu()}
      onContextMenu={(e) => {
        e.preventDefault();
        props.onMenu();
      }}
    >
      <div class="bubble">
        {showSender && <div class="sender">{S.userName(m.sender_id)}</div>}
        {m.reply_to_message_id && (
          <button class="quote" onClick={() => props.onJump(m.reply_to_message_id!)}>
            <strong>{props.reply ? S.userName(props.reply.sender_id) : t('reply')}</strong>
            <span dir="auto">{props.reply ? preview(props.reply) : '…'}</span>
          </button>
        )}
        {m.media ? <MessageMedia m={m} album={props.album} /> : null}
        {(m.text || !m.media) && (
          <div class="text" data-testid="message-text" dir="auto">
            <RichText text={m.text} entities={m.entities} />
          </div>
        )}
        {(m as MediaMessage).link_preview && <LinkPreviewCard lp={(m as MediaMessage).link_preview!} />}
        {m.reactions && m.reactions.length > 0 && (
          <div class="reactions">
            {m.reactions.map((r) => (
              <button key={r.emoji} class="reaction" onClick={act(() => S.call('setReaction', { chat_id: m.chat_id, message_id: m.id, emoji: r.emoji }))}>
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
        {m.discussion && props.onComments && (
          <button class="comments-link" data-testid="comments-button" onClick={props.onComments}>
            💬 {t('comments', { n: m.discussion.comment_count })}
          </button>
        )}
        <div class="meta muted small">
          {m.edit_date ? <span class="edited">{t('edited')}</span> : null}
          {m.views != null && chat.kind === 'channel' && (
            <span data-testid="message-views" aria-label={t('views', { n: m.views })}>
              👁 {fmtNumber(m.views)}
            </span>
          )}
          <time>{fmtTime(m.date)}</time>
          {out && chat.kind !== 'channel' && (
            <span class={`status ${read ? 'read' : ''}`} data-testid="message-status" data-status={read ? 'read' : 'sent'} aria-label={read ? t('read') : t('sent')}>
              {read ? '✓✓' : '✓'}
            </span>
          )}
        </div>
        <button class="more" aria-label={t('react')} aria-expanded={props.menuOpen} onClick={props.onMenu}>
          ⋯
        </button>
      </div>
      {props.menuOpen && (
        <div class="menu" role="menu">
          <div class="row">
            {REACTIONS.map((e) => (
              <button key={e} role="menuitem" aria-label={`${t('react')} ${e}`} onClick={act(() => S.call('setReaction', { chat_id: m.chat_id, message_id: m.id, emoji: e }))}>
                {e}
              </button>
            ))}
          </div>
          <button role="menuitem" onClick={props.onReply}>
            {t('reply')}
          </button>
          {out && (
            <button role="menuitem" onClick={props.onEdit}>
              {t('edit')}
            </button>
          )}
          <button role="menuitem" onClick={act(() => S.call('pinMessage', { chat_id: m.chat_id, message_id: m.id, pinned: !m.pinned }))}>
            {m.pinned ? t('unpin') : t('pin')}
          </button>
          <button role="menuitem" onClick={act(() => S.call('deleteMessages', { chat_id: m.chat_id, message_ids: [m.id], for_everyone: false }))}>
            {t('deleteForMe')}
          </button>
          {(out || chat.role === 'owner' || chat.role === 'admin') && (
            <button role="menuitem" class="danger" onClick={act(() => S.call('deleteMessages', { chat_id: m.chat_id, message_ids: [m.id], for_everyone: true }))}>
              {t('deleteForAll')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function RichText({ text, entities }: { text: string; entities?: Message['entities'] }) {
  return (
    <bdi>
      {segments(text, entities ?? []).map((s, i) => {
        let node: ComponentChildren = s.text;
        for (const e of [...s.entities].reverse()) {
          if (e.type === 'bold') node = <strong>{node}</strong>;
          else if (e.type === 'italic') node = <em>{node}</em>;
          else if (e.type === 'underline') node = <u>{node}</u>;
          else if (e.type === 'strikethrough') node = <s>{node}</s>;
          else if (e.type === 'code') node = <code>{node}</code>;
          else if (e.type === 'pre') node = <pre>{node}</pre>;
          else if (e.type === 'spoiler') node = <span class="spoiler">{node}</span>;
          else if (e.type === 'mention' || e.type === 'text_mention') node = <span class="mention" data-testid="mention">{node}</span>;
          else if ((e.type === 'text_link' && e.url) || e.type === 'url') {
            const href = e.url ?? s.text;
            if (/^https?:\/\//i.test(href)) node = <a href={href} target="_blank" rel="noopener noreferrer">{node}</a>;
          }
        }
        return <span key={i}>{node}</span>;
      })}
    </bdi>
  );
}

function Composer(props: { chatId: number; replyTo: { value: Message | null }; editing: { value: Message | null } }) {
  const { chatId, replyTo, editing } = props;
  const text = useSignal(S.chats.peek().get(chatId)?.draft?.text ?? '');
  const serverDraft = S.chats.value.get(chatId)?.draft?.text ?? '';
  useEffect(() => {
    // a draft saved on another device shows here unless this one is being typed in
    drafts.known(chatId, serverDraft);
    if (serverDraft !== text.value && !editing.value && document.activeElement !== area.current && !drafts.isPending(chatId)) text.value = serverDraft;
  }, [serverDraft]);
  useEffect(() => () => void drafts.flush(chatId), [chatId]);
  const error = useSignal('');
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing.value) {
      text.value = editing.value.text;
      area.current?.focus();
    }
  }, [editing.value]);
  useEffect(() => {
    if (replyTo.value) area.current?.focus();
  }, [replyTo.value]);

  const send = async () => {
    const raw = text.value;
    if (!raw.trim()) return;
    S.askNotificationPermission();
    const { text: plain, entities } = parseMarkdown(raw.trim());
    text.value = '';
    error.value = '';
    S.userStoppedTyping(chatId);
    try {
      if (editing.value) {
        await S.call('editMessage', { chat_id: chatId, message_id: editing.value.id, text: plain, entities });
        editing.value = null;
      } else {
        const reply = replyTo.value?.id;
        replyTo.value = null;
        drafts.sent(chatId);
        await S.sendMessage(chatId, plain, entities, reply);
      }
    } catch (e) {
      text.value = raw;
      error.value = errText(e);
    }
  };

  const insertEmoji = (em: string) => {
    const el = area.current;
    const r = insertAt(text.value, el?.selectionStart ?? text.value.length, el?.selectionEnd ?? text.value.length, em);
    text.value = r.value;
    if (!editing.value) drafts.change(chatId, r.value);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(r.caret, r.caret);
    });
  };

  const ctx = editing.value ?? replyTo.value;
  return (
    <div class="composer">
      {ctx && (
        <div class="context small">
          <span>
            {editing.value ? t('editing') : t('replyingTo')}: <bdi>{preview(ctx)}</bdi>
          </span>
          <button
            aria-label={t('cancel')}
            onClick={() => {
              if (editing.value) text.value = '';
              editing.value = null;
              replyTo.value = null;
            }}
          >
            ×
          </button>
        </div>
      )}
      {error.value && <p class="error small" role="alert">{error.value}</p>}
      <AttachTray chatId={chatId} />
      <div class="row">
        <ComposerTools chatId={chatId} text={text} />
        <EmojiButton onPick={insertEmoji} />
        <textarea
          ref={area}
          data-testid="composer-input"
          aria-label={t('message')}
          placeholder={t('message')}
          dir="auto"
          rows={1}
          value={text.value}
          onInput={(e) => {
            text.value = (e.target as HTMLTextAreaElement).value;
            if (text.value) S.userIsTyping(chatId);
            if (!editing.value) drafts.change(chatId, text.value);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            } else if (e.key === 'ArrowUp' && !text.value && !editing.value && !e.isComposing) {
              // Up in an empty composer edits your last message
              const last = [...(S.histories.value.get(chatId) ?? [])].reverse().find((m) => m.sender_id === S.me.value?.id && !m.service && m.text);
              if (last) {
                e.preventDefault();
                editing.value = last;
              }
            } else if (e.key === 'Escape') {
              if (editing.value) text.value = '';
              editing.value = null;
              replyTo.value = null;
            }
          }}
        />
        <button class="primary send" data-testid="composer-send" aria-label={t('send')} onClick={() => void send()}>
          ➤
        </button>
      </div>
    </div>
  );
}

// --- join page --------------------------------------------------------------------------------

function JoinPage({ code }: { code: string }) {
  const prev = useSignal<ChatPreview | null>(null);
  const error = useSignal('');
  useEffect(() => {
    S.call<ChatPreview>('previewInvite', { code })
      .then((p) => (prev.value = p))
      .catch((e) => (error.value = errText(e)));
  }, [code]);
  const go = async (chatId: number) => {
    navigate('/');
    S.connect();
    await S.refreshChat(chatId);
    await S.openChat(chatId);
  };
  const join = async () => {
    try {
      const chat = await S.call<Chat>('joinChat', { invite_code: code });
      S.putChat(chat);
      await go(chat.id);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'USER_ALREADY_PARTICIPANT' && prev.value) await go(prev.value.chat_id);
      else error.value = errText(e);
    }
  };
  const p = prev.value;
  return (
    <main class="auth">
      <div class="card">
        {p ? (
          <>
            <h1 data-testid="join-title">
              <bdi>{p.title}</bdi>
            </h1>
            {p.about && <p dir="auto">{p.about}</p>}
            <p class="muted">{t(p.kind === 'channel' ? 'subscribers' : 'members', { n: fmtNumber(p.member_count) })}</p>
            {p.is_member ? (
              <button class="primary" data-testid="join-submit" onClick={() => void go(p.chat_id)}>
                {t('openChat')}
              </button>
            ) : (
              <button class="primary" data-testid="join-submit" onClick={() => void join()}>
                {p.kind === 'channel' ? t('joinChannel') : t('join')}
              </button>
            )}
          </>
        ) : (
          !error.value && <p>{t('loading')}</p>
        )}
        {error.value && <p class="error" role="alert" data-testid="join-error">{error.value}</p>}
        <button class="link" onClick={() => navigate('/')}>
          {t('back')}
        </button>
      </div>
    </main>
  );
}
