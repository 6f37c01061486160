import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, type Message } from '../../api/types';
import { fmtTime, t } from '../../i18n';
import { parseMarkdown } from '../../markdown';
import * as S from '../../state';
import { preview } from './util';

/**
 * The comments of a channel post: messages in the linked discussion group that reply to the
 * post's copy there (Message.discussion). Live: new comments arrive through the group's
 * history when it is loaded; this view re-reads them when one comes in.
 */
export function Thread({ post, onClose }: { post: Message; onClose: () => void }) {
  const d = post.discussion!;
  const comments = useSignal<Message[]>([]);
  const error = useSignal('');
  const text = useSignal('');
  const load = async () => {
    try {
      const out: Message[] = [];
      let offset = d.message_id;
      for (let i = 0; i < 5; i++) {
        const page = await S.call<Message[]>('getHistory', { chat_id: d.chat_id, offset_id: offset, direction: 'newer', limit: 100 });
        out.push(...page.filter((m) => m.reply_to_message_id === d.message_id));
        if (page.length < 100) break;
        offset = Math.max(...page.map((m) => m.id));
      }
      comments.value = out.sort((a, b) => a.id - b.id);
      void S.ensureUsers(out.map((m) => m.sender_id));
    } catch (e) {
      error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
    }
  };
  // re-read when the group's history (loaded by updates) grows
  const groupLen = S.histories.value.get(d.chat_id)?.length ?? 0;
  const groupLast = S.chats.value.get(d.chat_id)?.last_message?.id ?? 0;
  useEffect(() => void load(), [d.chat_id, d.message_id, groupLen, groupLast]);
  const send = async () => {
    const raw = text.value.trim();
    if (!raw) return;
    const { text: plain, entities } = parseMarkdown(raw);
    text.value = '';
    try {
      await S.sendMessage(d.chat_id, plain, entities, d.message_id);
      await load();
    } catch (e) {
      text.value = raw;
      error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
    }
  };
  return (
    <aside class="info-panel thread" data-testid="thread-panel" aria-label={t('comments', { n: comments.value.length })}>
      <header class="bar">
        <strong class="conv-title">{t('comments', { n: comments.value.length })}</strong>
        <button class="icon" data-testid="thread-close" aria-label={t('close')} onClick={onClose}>
          ×
        </button>
      </header>
      <div class="info-body">
        <blockquote class="quote" dir="auto">{preview(post)}</blockquote>
        {!comments.value.length && !error.value && <p class="muted small">{t('noComments')}</p>}
        <ul class="comments">
          {comments.value.map((m) => (
            <li key={m.id} data-testid="comment" data-message-id={m.id}>
              <strong class="sender">{S.userName(m.sender_id)}</strong> <span dir="auto">{m.text}</span> <time class="muted small">{fmtTime(m.date)}</time>
            </li>
          ))}
        </ul>
        {error.value && <p class="error small" role="alert">{error.value}</p>}
      </div>
      <div class="composer row">
        <input
          data-testid="comment-input"
          placeholder={t('leaveComment')}
          aria-label={t('leaveComment')}
          dir="auto"
          value={text.value}
          onInput={(e) => (text.value = (e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === 'Enter' && void send()}
        />
        <button class="primary" data-testid="comment-send" aria-label={t('send')} onClick={() => void send()}>
          ➤
        </button>
      </div>
    </aside>
  );
}
