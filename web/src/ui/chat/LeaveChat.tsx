import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Chat } from '../../api/types';
import { t } from '../../i18n';
import * as S from '../../state';
import { errText } from '../errors';

/**
 * The foot of a group's or channel's info panel: Leave (leaveChat), or for its owner Delete
 * for everyone (deleteChat), each asked again before it is done. Done, the chat leaves the list.
 */
export function LeaveChat({ chat }: { chat: Chat }) {
  const asking = useSignal(false);
  const error = useSignal('');
  const busy = useSignal(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const owner = chat.role === 'owner';
  const channel = chat.kind === 'channel';
  useEffect(() => {
    if (asking.value) cancel.current?.focus();
  }, [asking.value]);
  const label = owner ? t(channel ? 'deleteChannel' : 'deleteGroup') : t(channel ? 'leaveChannel' : 'leaveGroup');
  const confirm = async () => {
    busy.value = true;
    error.value = '';
    try {
      await (owner ? S.deleteChat(chat.id) : S.leaveChat(chat.id));
    } catch (e) {
      error.value = errText(e);
      busy.value = false;
    }
  };
  return (
    <section class="leave-chat">
      {!asking.value ? (
        <button class="danger" data-testid={owner ? 'chat-delete' : 'chat-leave'} onClick={() => (asking.value = true)}>
          {label}
        </button>
      ) : (
        <div class="confirm card" role="alertdialog" aria-label={label} data-testid="confirm-box">
          <p dir="auto">{t(owner ? 'deleteConfirm' : 'leaveConfirm', { title: chat.title })}</p>
          <div class="row">
            <button ref={cancel} data-testid="confirm-cancel" onClick={() => (asking.value = false)}>
              {t('cancel')}
            </button>
            <button class="danger" data-testid="confirm-ok" disabled={busy.value} onClick={() => void confirm()}>
              {label}
            </button>
          </div>
        </div>
      )}
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </section>
  );
}
