import { useSignal } from '@preact/signals';
import type { Chat, Message } from '../../api/types';
import { t } from '../../i18n';
import * as S from '../../state';
import { chatTitle } from '../chat/util';
import { errText } from '../errors';
import { Modal } from '../Modal';

/** Chats a message can be forwarded to: private chats and groups, channels one posts in. */
function targets(query: string): Chat[] {
  const q = query.trim().toLowerCase();
  return [...S.chats.value.values()]
    .filter((c) => c.kind !== 'channel' || c.role === 'owner' || c.role === 'admin')
    .filter((c) => !q || chatTitle(c).toLowerCase().includes(q) || (c.username ?? '').toLowerCase().includes(q))
    .sort((a, b) => b.last_activity - a.last_activity || b.id - a.id);
}

/**
 * "Forward to…": a search box over the user's chats and the list of them; choosing one
 * forwards the message there (forwardMessages) and `onDone` gets that chat. Loaded on first use.
 */
export default function ForwardPicker(props: { message: Message; onClose: () => void; onDone: (chatId: number) => void }) {
  const query = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);
  const list = targets(query.value);
  const pick = async (c: Chat) => {
    if (busy.value) return;
    busy.value = true;
    error.value = '';
    try {
      await S.forwardMessages(props.message.chat_id, [props.message.id], c.id);
      props.onDone(c.id);
    } catch (e) {
      error.value = errText(e);
    } finally {
      busy.value = false;
    }
  };
  return (
    <Modal title={t('forwardTo')} onClose={props.onClose} testid="forward-picker">
      <input
        type="search"
        class="search"
        data-testid="forward-search"
        aria-label={t('search')}
        placeholder={t('search')}
        value={query.value}
        onInput={(e) => (query.value = (e.target as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && list.length) {
            e.preventDefault();
            void pick(list[0]);
          }
        }}
      />
      <ul class="picker-list" data-testid="forward-list" aria-label={t('forwardTo')}>
        {list.map((c) => (
          <li key={c.id}>
            <button class="picker-item" data-testid="forward-chat" data-chat-id={c.id} disabled={busy.value} onClick={() => void pick(c)}>
              <span class="avatar small-avatar" aria-hidden="true">
                {chatTitle(c).slice(0, 1).toUpperCase()}
              </span>
              <bdi>{chatTitle(c)}</bdi>
              <span class="muted small">{t(c.kind === 'channel' ? 'kindChannel' : c.kind === 'group' ? 'kindGroup' : 'kindPrivate')}</span>
            </button>
          </li>
        ))}
        {!list.length && <li class="muted small">{t('nothingFound')}</li>}
      </ul>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
      <div class="row">
        <button type="button" onClick={props.onClose}>
          {t('cancel')}
        </button>
      </div>
    </Modal>
  );
}
