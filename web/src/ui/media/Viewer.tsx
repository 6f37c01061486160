import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';
import type { MediaMessage } from '../../media/types';
import * as S from '../../state';
import { useReturnFocus, useWindowKeys } from '../focus';
import { bestSize, useFileUrl, viewing } from './MediaView';

/** The full-screen photo viewer: Esc closes, arrow keys move between the chat's photos. */
export default function Viewer() {
  const v = viewing.value;
  const photos = v ? ((S.histories.value.get(v.chatId) ?? []) as MediaMessage[]).filter((m) => m.media?.photo) : [];
  const i = v ? photos.findIndex((m) => m.id === v.messageId) : -1;
  const cur = i >= 0 ? photos[i] : null;
  const go = (d: number) => {
    const n = photos[i + d];
    if (n && v) viewing.value = { chatId: v.chatId, messageId: n.id };
  };
  useWindowKeys((e) => {
    if (e.key === 'Escape') viewing.value = null;
    else if (e.key === 'ArrowLeft') go(document.documentElement.dir === 'rtl' ? 1 : -1);
    else if (e.key === 'ArrowRight') go(document.documentElement.dir === 'rtl' ? -1 : 1);
  });
  const box = useRef<HTMLDivElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  useReturnFocus(box);
  const photo = cur?.media?.photo;
  useEffect(() => {
    close.current?.focus();
  }, [!!photo]);
  const url = useFileUrl(photo ? bestSize(photo, 1280)?.file_id : null);
  if (!v || !photo) return null;
  return (
    <div ref={box} class="viewer" data-testid="media-viewer" role="dialog" aria-modal="true" aria-label={t('photo')} onClick={(e) => e.target === e.currentTarget && (viewing.value = null)}>
      {url ? <img src={url} alt={t('photo')} data-testid="media-viewer-image" /> : <p>{t('loading')}</p>}
      <button ref={close} class="icon close" data-testid="media-viewer-close" aria-label={t('close')} onClick={() => (viewing.value = null)}>
        ×
      </button>
      {i > 0 && (
        <button class="icon prev" aria-label={t('previous')} onClick={() => go(-1)}>
          ‹
        </button>
      )}
      {i < photos.length - 1 && (
        <button class="icon next" aria-label={t('next')} onClick={() => go(1)}>
          ›
        </button>
      )}
      <span class="count small" data-testid="media-viewer-count">
        {i + 1} / {photos.length}
      </span>
    </div>
  );
}
