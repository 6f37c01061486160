import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { Chat, User } from '../api/types';
import { t } from '../i18n';
import * as S from '../state';
import { AccountSettings } from './account/AccountSettings';
import { Auth } from './Auth';
import { ChatList as ChatListView } from './chat/ChatList';
import { GlobalSearch } from './chat/GlobalSearch';
import { PublicChat } from './chat/PublicChat';
import { Conversation } from './conversation/Conversation';
import { errText } from './errors';
import { JoinPage } from './JoinPage';
import { LanguageSelect } from './LanguageSelect';
import { MediaOverlays } from './media/Composer';
import { lazy } from './media/lazy';
import { Modal } from './Modal';
import { navigate, publicPreview, route } from './nav';

export { navigate, route } from './nav';

const AddStickers = lazy(() => import('./stickers/AddStickers'));

export function App() {
  const joinCode = route.value.match(/^\/join\/([A-Za-z0-9_-]+)/)?.[1];
  if (!S.session.value) return <Auth />;
  if (joinCode) return <JoinPage code={joinCode} />;
  const packName = route.value.match(/^\/addstickers\/([A-Za-z0-9_]+)/)?.[1];
  if (packName) return <AddStickers name={packName} onBack={() => navigate('/')} />;
  return <Shell />;
}

// --- shell ------------------------------------------------------------------------------------

const dialog = signal<null | 'settings' | 'new-chat' | 'new-group'>(null);
const closeDialog = () => (dialog.value = null);

function Shell() {
  useEffect(() => S.connect(), []);
  useEffect(() => {
    const n = S.totalUnread.value;
    document.title = n ? `(${n}) ${t('appName')}` : t('appName');
  });
  const current = S.currentChatId.value;
  const previewing = publicPreview.value;
  // opening a chat ends the preview of a public one
  useEffect(() => {
    if (current != null) publicPreview.value = null;
  }, [current]);
  return (
    <div class={`shell ${current || previewing ? 'has-chat' : ''}`}>
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
        <div class="side-list">
          <ChatListView />
          <GlobalSearch />
        </div>
      </aside>
      <section class="main">
        {current ? <Conversation chatId={current} key={current} /> : previewing ? <PublicChat p={previewing} key={previewing.chat_id} /> : <p class="empty">{t('pickChat')}</p>}
      </section>
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

function Settings() {
  return (
    <Modal title={t('settings')} onClose={closeDialog}>
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
    <Modal title={t('newChat')} onClose={closeDialog}>
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
    <Modal title={t('newGroup')} onClose={closeDialog}>
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
