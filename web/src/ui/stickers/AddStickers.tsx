import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../../api/types';
import { t } from '../../i18n';
import type { StickerSet } from '../../media/types';
import * as S from '../../state';
import { StickerImg } from '../media/MediaView';

/** The page of a pack's link, /addstickers/<short_name>: the pack and an Install button. */
export default function AddStickers({ name, onBack }: { name: string; onBack: () => void }) {
  const set = useSignal<StickerSet | null>(null);
  const error = useSignal('');
  const busy = useSignal(false);
  useEffect(() => {
    S.call<StickerSet>('getStickerSet', { short_name: name })
      .then((s) => (set.value = s))
      .catch((e) => (error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error')));
  }, [name]);
  const install = async () => {
    busy.value = true;
    try {
      await S.call(set.value?.installed ? 'uninstallStickerSet' : 'installStickerSet', { short_name: name });
      set.value = { ...set.value!, installed: !set.value!.installed };
    } catch (e) {
      error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
    } finally {
      busy.value = false;
    }
  };
  const s = set.value;
  return (
    <main class="auth">
      <div class="card pack-page">
        {s ? (
          <>
            <h1 data-testid="sticker-pack-title">
              <bdi>{s.title}</bdi>
            </h1>
            <p class="muted small">{t('stickerCount', { n: s.stickers.length })}</p>
            <div class="sticker-grid">
              {s.stickers.map((x) => (
                <span key={x.sticker.file_id} class="sticker-cell" data-testid="sticker-pack-sticker" title={x.emoji.join(' ')}>
                  <StickerImg sticker={x.sticker} size={72} />
                </span>
              ))}
            </div>
            <button
              class={s.installed ? '' : 'primary'}
              data-testid="sticker-install"
              data-installed={s.installed ? '1' : '0'}
              disabled={busy.value}
              onClick={() => void install()}
            >
              {s.installed ? t('uninstall') : t('install')}
            </button>
          </>
        ) : (
          !error.value && <p>{t('loading')}</p>
        )}
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <button class="link" data-testid="sticker-pack-back" onClick={onBack}>
          {t('back')}
        </button>
      </div>
    </main>
  );
}
