import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../../api/types';
import { t } from '../../i18n';
import { findById } from '../conversation/preview';

/**
 * The floating "↓" of a conversation: shown when scrolled away from the bottom or when
 * unread messages are waiting. The first press goes to the first unread message (as it was
 * when the chat was opened), the next to the latest (loading the newest messages first when
 * the list shows an older window of the history: `detached`). The badge counts messages that
 * arrived below the view.
 */
export function JumpButton(props: {
  container: () => HTMLElement | null;
  msgs: Message[];
  firstUnreadId: number | null;
  mine: number | undefined;
  detached?: boolean;
  onJump: (id: number) => void;
  onLatest?: () => Promise<void>;
}) {
  const { msgs } = props;
  const away = useSignal(false);
  const seenMax = useRef(0);
  const unreadPending = useSignal(props.firstUnreadId != null);
  const lastId = msgs[msgs.length - 1]?.id ?? 0;
  useEffect(() => {
    const el = props.container();
    if (!el) return;
    const on = () => {
      const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
      away.value = !bottom;
      if (bottom) seenMax.current = Math.max(seenMax.current, lastId);
    };
    on();
    el.addEventListener('scroll', on, { passive: true });
    return () => el.removeEventListener('scroll', on);
  }, [lastId]);
  if (!seenMax.current) seenMax.current = props.firstUnreadId != null ? props.firstUnreadId - 1 : lastId;
  // from the end back (the list is sorted by id): no walk through a long history per render
  let below = 0;
  if (away.value)
    for (let i = msgs.length - 1; i >= 0 && msgs[i].id > seenMax.current; i--) if (msgs[i].sender_id !== props.mine && !msgs[i].service) below++;
  const goUnread = unreadPending.value && props.firstUnreadId != null && findById(msgs, props.firstUnreadId) != null;
  if (!away.value && !goUnread && !props.detached) return null;
  const toLatest = async () => {
    if (props.detached && props.onLatest) await props.onLatest();
    const el = props.container();
    if (el) el.scrollTop = el.scrollHeight;
    seenMax.current = lastId;
  };
  return (
    <button
      class="jump"
      data-testid={goUnread ? 'jump-unread' : 'jump-latest'}
      aria-label={goUnread ? t('jumpUnread') : t('jumpLatest')}
      title={goUnread ? t('jumpUnread') : t('jumpLatest')}
      onClick={() => {
        if (goUnread) {
          unreadPending.value = false;
          props.onJump(props.firstUnreadId!);
        } else void toLatest();
      }}
    >
      {goUnread ? '⇡' : '↓'}
      {below > 0 && (
        <span class="badge" data-testid="jump-count">
          {below}
        </span>
      )}
    </button>
  );
}
