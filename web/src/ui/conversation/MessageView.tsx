import { useComputed, type Signal } from '@preact/signals';
import { memo } from '../memo';
import type { Message } from '../../api/types';
import { fmtNumber, fmtTime, t } from '../../i18n';
import type { MediaMessage } from '../../media/types';
import * as S from '../../state';
import { LinkPreviewCard, MessageMedia } from '../media/MediaView';
import { preview } from './preview';
import { RichText } from './RichText';

export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🔥'];

/** What a conversation does for its messages: one object for the whole conversation, so a
 * row's props stay the same from one render to the next. */
export interface MessageActions {
  /** the message whose menu is open */
  menuFor: Signal<number | null>;
  /** the row jumped to (`m<id>`), highlighted */
  jumpKey: Signal<string | null>;
  jump: (id: number) => void;
  reply: (m: Message) => void;
  edit: (m: Message) => void;
  comments: (m: Message) => void;
  forward: (m: Message) => void;
}

export interface MessageRowProps {
  m: Message;
  album: Message[] | null;
  out: boolean;
  /** an outgoing message the other side has read */
  read: boolean;
  kind: string;
  /** may delete it for everyone (one's own, or an administrator) */
  canDeleteAll: boolean;
  reply: Message | null;
  actions: MessageActions;
}

function sameRow(a: MessageRowProps, b: MessageRowProps): boolean {
  if (a.m !== b.m || a.out !== b.out || a.read !== b.read || a.kind !== b.kind || a.canDeleteAll !== b.canDeleteAll || a.reply !== b.reply || a.actions !== b.actions)
    return false;
  if (a.album === b.album) return true;
  if (!a.album || !b.album || a.album.length !== b.album.length) return false;
  return a.album.every((x, i) => x === b.album![i]);
}

/**
 * One message of the list. Memoised: it renders again only when its message object (edits,
 * reactions, views come as new objects) or its own props change, or when its menu opens or
 * it is jumped to — not when older messages are loaded above it.
 */
export const MessageRow = memo(function MessageRow(props: MessageRowProps) {
  const { m, actions } = props;
  const menuOpen = useComputed(() => actions.menuFor.value === props.m.id).value;
  const highlighted = useComputed(() => actions.jumpKey.value === `m${props.m.id}`).value;
  return <MessageView {...props} menuOpen={menuOpen} highlighted={highlighted} onMenu={() => (actions.menuFor.value = actions.menuFor.peek() === m.id ? null : m.id)} />;
}, sameRow);

function MessageView(props: MessageRowProps & { menuOpen: boolean; highlighted: boolean; onMenu: () => void }) {
  const { m, out, kind, actions } = props;
  if (m.service) {
    return (
      <div class="service muted small" data-testid="message" data-message-id={m.id}>
        {preview(m)}
      </div>
    );
  }
  const read = props.read;
  const showSender = !out && kind === 'group';
  const act = (f: () => Promise<unknown>) => () => void f().catch(() => undefined);
  const fwd = m.forward_origin;
  const closeMenu = (f: (m: Message) => void) => () => {
    actions.menuFor.value = null;
    f(m);
  };
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
        {fwd && (
          <div class="forwarded small" data-testid="message-forwarded" dir="auto">
            {t('forwardedFrom', { name: fwd.sender_name || t('unknownSender') })}
          </div>
        )}
        {m.reply_to_message_id && (
          <button class="quote" onClick={() => actions.jump(m.reply_to_message_id!)}>
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
        {m.discussion && (
          <button class="comments-link" data-testid="comments-button" onClick={() => actions.comments(m)}>
            💬 {t('comments', { n: m.discussion.comment_count })}
          </button>
        )}
        <div class="meta muted small">
          {m.edit_date ? <span class="edited">{t('edited')}</span> : null}
          {m.views != null && kind === 'channel' && (
            <span data-testid="message-views" aria-label={t('views', { n: m.views })}>
              👁 {fmtNumber(m.views)}
            </span>
          )}
          <time>{fmtTime(m.date)}</time>
          {out && kind !== 'channel' && (
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
          <button role="menuitem" onClick={closeMenu(actions.reply)}>
            {t('reply')}
          </button>
          <button role="menuitem" data-testid="message-forward" onClick={closeMenu(actions.forward)}>
            {t('forward')}
          </button>
          {out && !fwd && (
            <button role="menuitem" onClick={closeMenu(actions.edit)}>
              {t('edit')}
            </button>
          )}
          <button role="menuitem" onClick={act(() => S.call('pinMessage', { chat_id: m.chat_id, message_id: m.id, pinned: !m.pinned }))}>
            {m.pinned ? t('unpin') : t('pin')}
          </button>
          <button role="menuitem" onClick={act(() => S.call('deleteMessages', { chat_id: m.chat_id, message_ids: [m.id], for_everyone: false }))}>
            {t('deleteForMe')}
          </button>
          {props.canDeleteAll && (
            <button role="menuitem" class="danger" onClick={act(() => S.call('deleteMessages', { chat_id: m.chat_id, message_ids: [m.id], for_everyone: true }))}>
              {t('deleteForAll')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
