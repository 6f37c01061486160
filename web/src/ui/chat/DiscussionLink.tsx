import { useSignal } from '@preact/signals';
import type { Chat } from '../../api/types';
import { t } from '../../i18n';
import * as S from '../../state';
import { errText } from '../errors';

/**
 * A channel's discussion group (for those who may change its info): link one of the groups
 * the user runs (linkDiscussionGroup), or unlink it. New posts then get comment threads.
 */
export function DiscussionLink({ chat }: { chat: Chat }) {
  const error = useSignal('');
  const busy = useSignal(false);
  const choice = useSignal<number | null>(null);
  const linked = chat.linked_chat_id ?? null;
  const groups = [...S.chats.value.values()].filter((c) => c.kind === 'group' && (c.role === 'owner' || c.role === 'admin'));
  const picked = choice.value ?? groups[0]?.id ?? null;
  const run = async (groupId: number | null) => {
    busy.value = true;
    error.value = '';
    try {
      await S.linkDiscussionGroup(chat.id, groupId);
      choice.value = null;
    } catch (e) {
      error.value = errText(e);
    } finally {
      busy.value = false;
    }
  };
  const linkedTitle = linked ? S.chats.value.get(linked)?.title ?? `#${linked}` : '';
  return (
    <section class="discussion" data-testid="discussion-section">
      <h3>{t('discussionGroup')}</h3>
      {linked ? (
        <div class="row">
          <bdi data-testid="discussion-linked" data-chat-id={linked}>
            {linkedTitle}
          </bdi>
          <button class="danger" data-testid="discussion-unlink" disabled={busy.value} onClick={() => void run(null)}>
            {t('unlinkGroup')}
          </button>
        </div>
      ) : groups.length ? (
        <div class="row">
          <select data-testid="discussion-select" aria-label={t('discussionGroup')} value={picked ?? ''} onChange={(e) => (choice.value = Number((e.target as HTMLSelectElement).value))}>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.title}
              </option>
            ))}
          </select>
          <button data-testid="discussion-link" disabled={busy.value || picked == null} onClick={() => picked != null && void run(picked)}>
            {t('linkGroup')}
          </button>
        </div>
      ) : (
        <p class="muted small">{t('noGroupsToLink')}</p>
      )}
      <p class="muted small">{t('discussionHint')}</p>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </section>
  );
}
