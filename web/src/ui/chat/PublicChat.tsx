import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, type Chat, type ChatPreview, type Message } from '../../api/types';
import { fmtTime, t } from '../../i18n';
import * as S from '../../state';
import { RichText } from '../conversation/RichText';
import { errText } from '../errors';
import { publicPreview } from '../nav';
import { ChatPreviewCard } from './ChatPreviewCard';

/**
 * A public group or channel found by search, before joining: its latest messages
 * (getPublicHistory) under the card of the invite page, with Join (joinChat by its name).
 */
export function PublicChat({ p }: { p: ChatPreview }) {
  const msgs = useSignal<Message[]>([]);
  const error = useSignal('');
  useEffect(() => {
    msgs.value = [];
    error.value = '';
    S.call<Message[]>('getPublicHistory', { chat_id: p.chat_id, limit: 20 })
      .then((m) => {
        msgs.value = m;
        void S.ensureUsers(m.map((x) => x.sender_id));
      })
      .catch(() => (msgs.value = []));
  }, [p.chat_id]);
  const open = async (chatId: number) => {
    publicPreview.value = null;
    if (!S.chats.value.has(chatId)) await S.refreshChat(chatId);
    await S.openChat(chatId);
  };
  const join = async () => {
    error.value = '';
    try {
      const chat = await S.call<Chat>('joinChat', p.username ? { username: p.username } : {});
      S.putChat(chat);
      await open(chat.id);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'USER_ALREADY_PARTICIPANT') await open(p.chat_id);
      else error.value = errText(e);
    }
  };
  return (
    <div class="conversation public-preview" data-testid="public-preview">
      <header class="bar conv-head">
        <button class="icon back" data-testid="public-preview-close" aria-label={t('back')} onClick={() => (publicPreview.value = null)}>
          ‹
        </button>
        <div class="conv-title">
          <bdi>{p.title}</bdi>
          <div class="muted small">{t('preview')}</div>
        </div>
      </header>
      <div class="messages preview-messages" role="log" aria-label={p.title}>
        {msgs.value.map((m) => (
          <div class="msg in" key={m.id} data-testid="preview-message">
            <div class="bubble">
              {p.kind === 'group' && m.sender_id && <div class="sender">{S.userName(m.sender_id)}</div>}
              <div class="text" dir="auto">
                <RichText text={m.text} entities={m.entities} />
              </div>
              <div class="meta muted small">
                <time>{fmtTime(m.date)}</time>
              </div>
            </div>
          </div>
        ))}
      </div>
      <div class="card preview-card">
        <ChatPreviewCard p={p} error={error.value} onJoin={() => void join()} onOpen={() => void open(p.chat_id)} />
      </div>
    </div>
  );
}
