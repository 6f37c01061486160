import { signal, useSignal, type Signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';
import { parseMarkdown } from '../../markdown';
import { fmtDuration, fmtSize } from '../../media/files';
import { addFiles, cancel, pending, sendNow, sendPending, sendSticker } from '../../media/send';
import type { Sticker } from '../../media/types';
import { webmToOgg } from '../../media/ogg';
import { waveformOf } from '../../media/waveform';
import * as S from '../../state';
import { lazy } from './lazy';
import { StickerImg, viewing } from './MediaView';

const StickerPanel = lazy(() => import('../stickers/StickerPanel'));
const Viewer = lazy(() => import('./Viewer'));
const panelOpen = signal(false);
const dragging = signal(false);

/** Overlays of the shell: the photo viewer. */
export function MediaOverlays() {
  return viewing.value ? <Viewer /> : null;
}

/** Files waiting to be sent: thumbnails, progress bars with cancel, a caption and Send. */
export function AttachTray({ chatId }: { chatId: number }) {
  const items = pending.value.get(chatId) ?? [];
  const caption = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);
  const trayItems = items.filter((p) => p.kind !== 'voice' && p.kind !== 'sticker');
  if (!trayItems.length) return dragging.value ? <div class="drop-hint" data-testid="media-drop-hint">{t('dropFiles')}</div> : null;
  const send = async () => {
    busy.value = true;
    error.value = '';
    try {
      const { text, entities } = parseMarkdown(caption.value.trim());
      await sendPending(chatId, text, entities);
      caption.value = '';
    } catch (e) {
      error.value = String((e as Error)?.message ?? e);
    } finally {
      busy.value = false;
    }
  };
  return (
    <div class="tray" data-testid="media-tray">
      <ul>
        {trayItems.map((p) => (
          <li key={p.key} data-testid="media-pending" data-status={p.status}>
            {p.preview ? <img src={p.preview} alt="" /> : <span class="doc-icon">📎</span>}
            <div class="tray-body">
              <bdi class="small">{p.name}</bdi>
              <progress max={p.file.size || 1} value={p.sent} data-testid="media-upload-progress" />
              <span class="muted small">{p.status === 'error' ? p.error : `${fmtSize(p.sent)} / ${fmtSize(p.file.size)}`}</span>
            </div>
            <button class="icon" data-testid="media-cancel" aria-label={t('cancel')} onClick={() => cancel(p)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div class="row">
        <input
          data-testid="media-caption"
          placeholder={t('caption')}
          aria-label={t('caption')}
          dir="auto"
          value={caption.value}
          onInput={(e) => (caption.value = (e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === 'Enter' && void send()}
        />
        <button class="primary" data-testid="media-send" disabled={busy.value} onClick={() => void send()}>
          {t('send')}
        </button>
      </div>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </div>
  );
}

const SINGLE_EMOJI = /^\p{Extended_Pictographic}(\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*$/u;

/** The composer's media buttons: attach, stickers, voice; and paste / drop of files. */
export function ComposerTools({ chatId, text }: { chatId: number; text: Signal<string> }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      addFiles(chatId, files);
    };
    const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      dragging.value = true;
    };
    const onLeave = (e: DragEvent) => {
      if (!e.relatedTarget) dragging.value = false;
    };
    const onDrop = (e: DragEvent) => {
      dragging.value = false;
      const files = [...(e.dataTransfer?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      addFiles(chatId, files);
    };
    window.addEventListener('paste', onPaste);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('paste', onPaste);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, [chatId]);
  const emoji = text.value.trim();
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          const el = e.target as HTMLInputElement;
          if (el.files?.length) addFiles(chatId, [...el.files]);
          el.value = '';
        }}
      />
      <button class="icon" data-testid="attach-button" aria-label={t('attach')} title={t('attach')} onClick={() => input.current?.click()}>
        📎
      </button>
      <button class="icon" data-testid="sticker-button" aria-label={t('stickers')} title={t('stickers')} aria-expanded={panelOpen.value} onClick={() => (panelOpen.value = !panelOpen.value)}>
        🙂
      </button>
      <VoiceButton chatId={chatId} />
      {panelOpen.value && (
        <div class="sticker-popover">
          <StickerPanel chatId={chatId} onClose={() => (panelOpen.value = false)} />
        </div>
      )}
      {!panelOpen.value && SINGLE_EMOJI.test(emoji) && <Suggestions chatId={chatId} emoji={emoji} onSent={() => (text.value = '')} />}
    </>
  );
}

function Suggestions({ chatId, emoji, onSent }: { chatId: number; emoji: string; onSent: () => void }) {
  const list = useSignal<Sticker[]>([]);
  useEffect(() => {
    let live = true;
    S.call<Sticker[]>('getStickerSuggestions', { emoji, limit: 20 })
      .then((r) => live && (list.value = r))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [emoji]);
  if (!list.value.length) return null;
  return (
    <div class="suggestions" data-testid="sticker-suggestions">
      {list.value.map((s) => (
        <button key={s.file_id} class="sticker-cell" data-testid="sticker-suggestion" onClick={() => void sendSticker(chatId, s.file_id).then(onSent)}>
          <StickerImg sticker={s} size={64} />
        </button>
      ))}
    </div>
  );
}

const OPUS = 'audio/ogg;codecs=opus';
const WEBM_OPUS = 'audio/webm;codecs=opus';

function VoiceButton({ chatId }: { chatId: number }) {
  const rec = useRef<MediaRecorder | null>(null);
  const started = useSignal(0);
  const now = useSignal(0);
  const error = useSignal('');
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return null;
  const start = async () => {
    error.value = '';
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const mime = [OPUS, WEBM_OPUS, 'audio/webm'].find((m) => MediaRecorder.isTypeSupported(m)) ?? '';
      const r = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
      const chunks: Blob[] = [];
      let discard = false;
      r.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      r.onstop = async () => {
        stream.getTracks().forEach((tr) => tr.stop());
        const took = Date.now() - started.value;
        started.value = 0;
        rec.current = null;
        if (discard || took < 500) return;
        const type = r.mimeType || mime || 'audio/webm';
        let blob = new Blob(chunks, { type });
        let ogg = type.startsWith('audio/ogg');
        if (!ogg && type.startsWith('audio/webm')) {
          // Chromium records Opus only in WebM; a voice note is Ogg/Opus: rewrap the packets
          const rewrapped = await webmToOgg(blob).catch(() => null);
          if (rewrapped) [blob, ogg] = [rewrapped, true];
        }
        const file = new File([blob], ogg ? 'voice.ogg' : 'voice.webm', { type: blob.type });
        try {
          if (ogg) await sendNow(chatId, file, 'voice', { waveform: (await waveformOf(blob)) ?? undefined });
          else await sendNow(chatId, file, 'document');
        } catch (e) {
          error.value = String((e as Error)?.message ?? e);
        }
      };
      (r as MediaRecorder & { discard?: () => void }).discard = () => {
        discard = true;
        r.stop();
      };
      r.start();
      rec.current = r;
      started.value = Date.now();
      const tick = setInterval(() => (started.value ? (now.value = Date.now()) : clearInterval(tick)), 250);
    } catch (e) {
      error.value = String((e as Error)?.message ?? e);
    }
  };
  if (started.value)
    return (
      <span class="recording" data-testid="voice-recording">
        <span class="rec-dot" aria-hidden="true" /> {fmtDuration((now.value - started.value) / 1000)}
        <button class="icon" data-testid="voice-cancel" aria-label={t('cancel')} onClick={() => (rec.current as MediaRecorder & { discard?: () => void })?.discard?.()}>
          ×
        </button>
        <button class="icon" data-testid="voice-stop" aria-label={t('send')} onClick={() => rec.current?.stop()}>
          ■
        </button>
      </span>
    );
  return (
    <button class="icon" data-testid="voice-button" aria-label={t('recordVoice')} title={error.value || t('recordVoice')} onClick={() => void start()}>
      🎤
    </button>
  );
}
