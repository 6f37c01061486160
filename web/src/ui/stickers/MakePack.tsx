import { useSignal } from '@preact/signals';
import { ApiError } from '../../api/types';
import { t } from '../../i18n';
import { upload } from '../../media/files';
import { toStickerImage } from '../../media/image';
import type { StickerSet } from '../../media/types';
import * as S from '../../state';

interface Item {
  file: File;
  preview: string;
  emoji: string;
}

/** Make a sticker pack from one's own PNG/WebP images (scaled to 512 px here). */
export default function MakePack({ onDone, onCancel }: { onDone: (s: StickerSet) => void; onCancel: () => void }) {
  const items = useSignal<Item[]>([]);
  const title = useSignal('');
  const name = useSignal('');
  const busy = useSignal('');
  const error = useSignal('');
  const created = useSignal<StickerSet | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    error.value = '';
    if (!items.value.length) return;
    try {
      const stickers = [];
      let n = 0;
      for (const it of items.value) {
        busy.value = `${++n} / ${items.value.length}`;
        const img = await toStickerImage(it.file);
        const info = await upload(img, it.file.name.replace(/\.\w+$/, '') + (img.type === 'image/png' ? '.png' : '.webp'));
        stickers.push({ file_id: info.id, emoji: [it.emoji.trim() || '🙂'] });
      }
      const set = await S.call<StickerSet>('createStickerSet', { title: title.value.trim(), short_name: name.value.trim(), stickers });
      created.value = set;
    } catch (err) {
      error.value = err instanceof ApiError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
    } finally {
      busy.value = '';
    }
  };

  if (created.value) {
    const link = `${location.origin}/addstickers/${created.value.short_name}`;
    return (
      <div class="sticker-panel" data-testid="sticker-make-done">
        <p>{t('packCreated')}</p>
        <a data-testid="sticker-pack-link" href={link} dir="ltr">
          {link}
        </a>
        <div class="row">
          <button onClick={() => navigator.clipboard?.writeText(link)}>{t('copy')}</button>
          <button class="primary" data-testid="sticker-make-close" onClick={() => onDone(created.value!)}>
            {t('close')}
          </button>
        </div>
      </div>
    );
  }

  return (
    <form class="sticker-panel make-pack" data-testid="sticker-make" onSubmit={create}>
      <label>
        {t('packTitle')}
        <input data-testid="sticker-make-title" required maxLength={64} value={title.value} onInput={(e) => (title.value = (e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t('packName')}
        <input
          data-testid="sticker-make-name"
          required
          pattern="[A-Za-z][A-Za-z0-9_]{0,63}"
          dir="ltr"
          value={name.value}
          onInput={(e) => (name.value = (e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        {t('packImages')}
        <input
          type="file"
          accept="image/png,image/webp"
          multiple
          data-testid="sticker-make-files"
          onChange={(e) => {
            const files = [...((e.target as HTMLInputElement).files ?? [])];
            items.value = [...items.value, ...files.map((file) => ({ file, preview: URL.createObjectURL(file), emoji: '🙂' }))].slice(0, 120);
          }}
        />
      </label>
      <ul class="make-items">
        {items.value.map((it, i) => (
          <li key={it.preview} data-testid="sticker-make-item">
            <img src={it.preview} alt="" />
            <input
              aria-label={t('emoji')}
              data-testid="sticker-make-emoji"
              value={it.emoji}
              maxLength={16}
              onInput={(e) => {
                const next = [...items.value];
                next[i] = { ...it, emoji: (e.target as HTMLInputElement).value };
                items.value = next;
              }}
            />
            <button type="button" class="icon" aria-label={t('cancel')} onClick={() => (items.value = items.value.filter((x) => x !== it))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
      <div class="row">
        <button type="button" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" class="primary" data-testid="sticker-make-submit" disabled={!!busy.value || !items.value.length}>
          {busy.value || t('create')}
        </button>
      </div>
    </form>
  );
}
