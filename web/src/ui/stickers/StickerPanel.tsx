import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../../api/types';
import { t } from '../../i18n';
import { sendSticker } from '../../media/send';
import type { StickerSet, StickerSetInfo } from '../../media/types';
import * as S from '../../state';
import { StickerImg } from '../media/MediaView';
import { useWindowKeys } from '../focus';
import MakePack from './MakePack';

const sets = new Map<string, StickerSet>();

export async function loadSet(short_name: string, version?: number): Promise<StickerSet> {
  const have = sets.get(short_name);
  if (have && (version == null || have.version === version)) return have;
  const s = await S.call<StickerSet>('getStickerSet', { short_name });
  sets.set(short_name, s);
  return s;
}

/** The sticker panel: installed packs as tabs, search of packs, making a pack. */
export default function StickerPanel({ chatId, onClose }: { chatId: number; onClose: () => void }) {
  const installed = useSignal<StickerSetInfo[]>([]);
  const tab = useSignal<string | null>(null);
  const open = useSignal<StickerSet | null>(null);
  const query = useSignal('');
  const found = useSignal<StickerSetInfo[] | null>(null);
  const making = useSignal(false);
  const error = useSignal('');

  const reload = async () => {
    try {
      installed.value = await S.call<StickerSetInfo[]>('getInstalledStickerSets');
      if (!tab.value && installed.value[0]) tab.value = installed.value[0].short_name;
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : t('error');
    }
  };
  useEffect(() => {
    void reload();
  }, []);
  useEffect(() => {
    const name = tab.value;
    if (!name) return;
    const info = installed.value.find((s) => s.short_name === name);
    loadSet(name, info?.version).then((s) => tab.value === name && (open.value = s)).catch(() => undefined);
  }, [tab.value]);
  useEffect(() => {
    const q = query.value.trim();
    if (!q) {
      found.value = null;
      return;
    }
    const timer = setTimeout(() => {
      S.call<StickerSetInfo[]>('searchStickerSets', { query: q, limit: 20 })
        .then((r) => (found.value = r))
        .catch(() => undefined);
    }, 250);
    return () => clearTimeout(timer);
  }, [query.value]);
  useWindowKeys((e) => e.key === 'Escape' && !making.value && onClose());

  if (making.value)
    return (
      <MakePack
        onDone={(s) => {
          making.value = false;
          sets.set(s.short_name, s);
          tab.value = s.short_name;
          void reload();
        }}
        onCancel={() => (making.value = false)}
      />
    );

  const send = async (fileId: string) => {
    try {
      await sendSticker(chatId, fileId);
      onClose();
    } catch (e) {
      error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
    }
  };

  return (
    <div class="sticker-panel" data-testid="sticker-panel" role="dialog" aria-label={t('stickers')}>
      <div class="row">
        <input
          type="search"
          data-testid="sticker-search"
          placeholder={t('searchPacks')}
          aria-label={t('searchPacks')}
          value={query.value}
          onInput={(e) => (query.value = (e.target as HTMLInputElement).value)}
        />
        <button data-testid="sticker-make-button" onClick={() => (making.value = true)}>
          {t('makePack')}
        </button>
      </div>
      {found.value ? (
        <ul class="pack-results" data-testid="sticker-search-results">
          {found.value.length === 0 && <li class="muted">{t('nothingFound')}</li>}
          {found.value.map((s) => (
            <li key={s.id} data-testid="sticker-search-result">
              {s.cover && <StickerImg sticker={s.cover} size={40} />}
              <bdi>{s.title}</bdi>
              {s.installed ? (
                <button
                  onClick={() => {
                    query.value = '';
                    tab.value = s.short_name;
                  }}
                >
                  {t('open')}
                </button>
              ) : (
                <button
                  class="primary"
                  data-testid="sticker-search-install"
                  onClick={async () => {
                    await S.call('installStickerSet', { short_name: s.short_name }).catch(() => undefined);
                    query.value = '';
                    tab.value = s.short_name;
                    await reload();
                  }}
                >
                  {t('install')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <>
          <div class="pack-tabs" role="tablist">
            {installed.value.map((s) => (
              <button
                key={s.id}
                role="tab"
                data-testid="sticker-pack-tab"
                aria-selected={tab.value === s.short_name}
                title={s.title}
                onClick={() => (tab.value = s.short_name)}
              >
                {s.cover ? <StickerImg sticker={s.cover} size={32} /> : s.title.slice(0, 2)}
              </button>
            ))}
          </div>
          {installed.value.length === 0 && <p class="muted small">{t('noStickers')}</p>}
          {open.value && (
            <>
              <div class="row small muted">
                <bdi>{open.value.title}</bdi>
                <a data-testid="sticker-pack-link" href={`/addstickers/${open.value.short_name}`} dir="ltr">
                  {`${location.origin}/addstickers/${open.value.short_name}`}
                </a>
              </div>
              <div class="sticker-grid">
                {open.value.stickers.map((s) => (
                  <button key={s.sticker.file_id} class="sticker-cell" data-testid="sticker-item" title={s.emoji.join(' ')} onClick={() => void send(s.sticker.file_id)}>
                    <StickerImg sticker={s.sticker} size={72} />
                  </button>
                ))}
              </div>
            </>
          )}
        </>
      )}
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </div>
  );
}
