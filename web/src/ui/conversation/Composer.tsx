import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../../api/types';
import { insertAt } from '../../chat/emoji';
import { t } from '../../i18n';
import { parseMarkdown } from '../../markdown';
import * as S from '../../state';
import { EmojiButton } from '../chat/EmojiPicker';
import { drafts } from '../chat/util';
import { errText } from '../errors';
import { AttachTray, ComposerTools } from '../media/Composer';
import { preview } from './preview';

/** The message box of a conversation: text with markdown, emoji, attachments, a reply or an
 * edit in progress, the draft kept on the server. `blocked`: why the user may not write here
 * (muted, or nobody may): the box is disabled and says so. */
export function Composer(props: { chatId: number; replyTo: { value: Message | null }; editing: { value: Message | null }; blocked?: string | null }) {
  const { chatId, replyTo, editing, blocked } = props;
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
  if (blocked)
    return (
      <div class="composer blocked">
        <p class="muted small" data-testid="composer-blocked" role="status">
          {blocked}
        </p>
        <div class="row">
          <textarea data-testid="composer-input" aria-label={t('message')} placeholder={blocked} dir="auto" rows={1} disabled value={text.value} />
          <button class="primary send" data-testid="composer-send" aria-label={t('send')} disabled>
            ➤
          </button>
        </div>
      </div>
    );
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
              const last = [...(S.histories.value.get(chatId) ?? [])].reverse().find((m) => m.sender_id === S.me.value?.id && !m.service && !m.forward_origin && m.text);
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
