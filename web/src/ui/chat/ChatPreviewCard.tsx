import type { ChatPreview } from '../../api/types';
import { fmtNumber, t } from '../../i18n';

/** A group or channel seen from outside: title, description, size, and Join (or Open when
 * already in it). The invite page and the preview of a public chat found by search share it. */
export function ChatPreviewCard(props: { p: ChatPreview | null; error: string; onJoin: () => void; onOpen: () => void }) {
  const { p, error } = props;
  return (
    <>
      {p ? (
        <>
          <h1 data-testid="join-title">
            <bdi>{p.title}</bdi>
          </h1>
          {p.username && <p class="muted" dir="ltr">@{p.username}</p>}
          {p.about && <p dir="auto">{p.about}</p>}
          <p class="muted">{t(p.kind === 'channel' ? 'subscribers' : 'members', { n: fmtNumber(p.member_count) })}</p>
          {p.is_member ? (
            <button class="primary" data-testid="join-submit" onClick={props.onOpen}>
              {t('openChat')}
            </button>
          ) : (
            <button class="primary" data-testid="join-submit" onClick={props.onJoin}>
              {p.kind === 'channel' ? t('joinChannel') : t('join')}
            </button>
          )}
        </>
      ) : (
        !error && <p>{t('loading')}</p>
      )}
      {error && <p class="error" role="alert" data-testid="join-error">{error}</p>}
    </>
  );
}
