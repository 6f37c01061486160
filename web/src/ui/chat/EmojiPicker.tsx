import { useSignal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { EMOJI, loadRecent, pushRecent, saveRecent, searchEmoji } from '../../chat/emoji';
import { t } from '../../i18n';
import { useReturnFocus, useWindowKeys } from '../focus';

/** A button that opens a compact grid of common emoji by category, with search and recents. */
export function EmojiButton({ onPick }: { onPick: (emoji: string) => void }) {
  const open = useSignal(false);
  return (
    <span class="emoji-wrap">
      <button class="icon" type="button" data-testid="emoji-button" aria-label={t('emoji')} title={t('emoji')} aria-expanded={open.value} onClick={() => (open.value = !open.value)}>
        😊
      </button>
      {open.value && <EmojiPicker onPick={onPick} onClose={() => (open.value = false)} />}
    </span>
  );
}

export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const query = useSignal('');
  const cat = useSignal(EMOJI[0].id);
  const recent = useSignal<string[]>(loadRecent());
  const box = useRef<HTMLDivElement>(null);
  useReturnFocus(box);
  useWindowKeys((e) => e.key === 'Escape' && onClose());
  useLayoutEffect(() => {
    box.current?.querySelector('input')?.focus();
    const onDown = (e: MouseEvent) => {
      const el = box.current;
      if (el && !el.contains(e.target as Node) && !(e.target as HTMLElement).closest?.('[data-testid="emoji-button"]')) onClose();
    };
    window.addEventListener('mousedown', onDown);
    return () => {
      window.removeEventListener('mousedown', onDown);
    };
  }, []);
  const pick = (e: string) => {
    recent.value = pushRecent(recent.value, e);
    saveRecent(recent.value);
    onPick(e);
  };
  const q = query.value.trim();
  const items = q ? searchEmoji(q).map((x) => x.e) : cat.value === 'recent' ? recent.value : (EMOJI.find((c) => c.id === cat.value)?.items ?? []).map((x) => x.e);
  return (
    <div class="emoji-picker" ref={box} role="dialog" aria-label={t('emoji')} data-testid="emoji-picker">
      <input type="search" data-testid="emoji-search" placeholder={t('emojiSearch')} aria-label={t('emojiSearch')} value={query.value} onInput={(e) => (query.value = (e.target as HTMLInputElement).value)} />
      {!q && (
        <div class="emoji-tabs" role="tablist">
          {recent.value.length > 0 && (
            <button role="tab" aria-selected={cat.value === 'recent'} title={t('recent')} onClick={() => (cat.value = 'recent')}>
              🕘
            </button>
          )}
          {EMOJI.map((c) => (
            <button key={c.id} role="tab" data-testid={`emoji-tab-${c.id}`} aria-selected={cat.value === c.id} onClick={() => (cat.value = c.id)}>
              {c.icon}
            </button>
          ))}
        </div>
      )}
      <div class="emoji-grid">
        {items.map((e) => (
          <button key={e} type="button" data-testid="emoji-item" onClick={() => pick(e)}>
            {e}
          </button>
        ))}
      </div>
    </div>
  );
}
