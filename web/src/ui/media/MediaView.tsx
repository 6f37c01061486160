import { signal, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../../api/types';
import { t } from '../../i18n';
import { downloadProgress, fileUrl, fmtDuration, fmtSize, saveFile } from '../../media/files';
import type { Document, LinkPreview, MediaMessage, Photo, PhotoSize, Sticker, Video, Voice } from '../../media/types';

/** The photo the full-screen viewer shows: chat and message id (the viewer is lazy). */
export const viewing = signal<{ chatId: number; messageId: number } | null>(null);

export function useFileUrl(fileId: string | null | undefined): string | null {
  const url = useSignal<string | null>(null);
  useEffect(() => {
    let live = true;
    url.value = null;
    if (fileId) fileUrl(fileId).then((u) => live && (url.value = u)).catch(() => undefined);
    return () => {
      live = false;
    };
  }, [fileId]);
  return url.value;
}

/** The smallest size at least `px` wide (else the biggest). */
export function bestSize(photo: Photo, px: number): PhotoSize | null {
  const sizes = [...(photo.sizes ?? [])].sort((a, b) => a.width - b.width);
  return sizes.find((s) => s.width >= px) ?? sizes[sizes.length - 1] ?? null;
}

function PhotoImg(props: { photo: Photo; px: number; class?: string; onClick?: () => void; testid?: string }) {
  const { photo } = props;
  const dpr = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
  const size = bestSize(photo, props.px * dpr);
  const url = useFileUrl(size?.file_id);
  const ratio = photo.width && photo.height ? `${photo.width} / ${photo.height}` : undefined;
  return (
    <button
      type="button"
      class={`photo ${props.class ?? ''}`}
      data-testid={props.testid ?? 'media-photo'}
      data-loaded={url ? '1' : undefined}
      style={{ aspectRatio: ratio }}
      aria-label={t('photo')}
      onClick={props.onClick}
    >
      {photo.inline_preview && !url && <img class="blur" src={`data:image/jpeg;base64,${photo.inline_preview}`} alt="" />}
      {url && <img src={url} alt={t('photo')} />}
    </button>
  );
}

function DocumentCard({ doc }: { doc: Document }) {
  const progress = downloadProgress.value.get(doc.file_id);
  const ext = (doc.name.split('.').pop() ?? '').slice(0, 4).toUpperCase() || 'FILE';
  return (
    <div class="doc" data-testid="media-document">
      <div class="doc-icon" aria-hidden="true">{ext}</div>
      <div class="doc-body">
        <bdi class="doc-name" data-testid="media-document-name">{doc.name || 'file'}</bdi>
        <span class="muted small">
          {fmtSize(doc.size)} · {doc.mime_type}
        </span>
        {progress != null && <progress max={1} value={progress} data-testid="media-download-progress" />}
      </div>
      <button class="icon" data-testid="media-download" aria-label={t('download')} title={t('download')} onClick={() => void saveFile(doc.file_id, doc.name)}>
        ⬇
      </button>
    </div>
  );
}

function VoiceNote({ voice }: { voice: Voice }) {
  const audio = useRef<HTMLAudioElement>(null);
  const playing = useSignal(false);
  const pos = useSignal(0);
  const src = useSignal<string | null>(null);
  const toggle = async () => {
    if (!src.value) src.value = await fileUrl(voice.file_id);
    await Promise.resolve();
    const a = audio.current;
    if (!a) return;
    if (a.paused) void a.play().catch(() => undefined);
    else a.pause();
  };
  const bars = voice.waveform?.length ? voice.waveform : new Array(40).fill(4);
  const dur = voice.duration || 0;
  return (
    <div class="voice" data-testid="media-voice">
      <button class="icon play" data-testid="media-voice-play" aria-label={playing.value ? t('pause') : t('play')} onClick={() => void toggle()}>
        {playing.value ? '❚❚' : '▶'}
      </button>
      <div class="wave" data-testid="media-voice-wave" aria-hidden="true">
        {bars.map((v, i) => (
          <span key={i} style={{ blockSize: `${Math.max(2, (v / 31) * 24)}px` }} class={dur && i / bars.length < pos.value / dur ? 'on' : ''} />
        ))}
      </div>
      <span class="muted small">{fmtDuration(playing.value || pos.value ? pos.value : dur)}</span>
      {src.value && (
        <audio
          ref={audio}
          src={src.value}
          autoPlay
          onPlay={() => (playing.value = true)}
          onPause={() => (playing.value = false)}
          onEnded={() => ((playing.value = false), (pos.value = 0))}
          onTimeUpdate={(e) => (pos.value = (e.target as HTMLAudioElement).currentTime)}
        />
      )}
    </div>
  );
}

function VideoView({ video }: { video: Video }) {
  const thumb = useFileUrl(video.thumbnail?.file_id);
  const src = useSignal<string | null>(null);
  const loading = useSignal(false);
  const ratio = video.width && video.height ? `${video.width} / ${video.height}` : '16 / 9';
  if (src.value) return <video class="video" data-testid="media-video" src={src.value} controls autoPlay playsInline style={{ aspectRatio: ratio }} />;
  return (
    <button
      class="video photo"
      data-testid="media-video"
      style={{ aspectRatio: ratio }}
      aria-label={t('play')}
      onClick={async () => {
        loading.value = true;
        src.value = await fileUrl(video.file_id, true).finally(() => (loading.value = false));
      }}
    >
      {thumb && <img src={thumb} alt="" />}
      <span class="play-badge">{loading.value ? '…' : '▶'}</span>
      <span class="dur small">{fmtDuration(video.duration)}</span>
    </button>
  );
}

export function StickerImg({ sticker, size = 160 }: { sticker: Sticker; size?: number }) {
  const url = useFileUrl(sticker.file_id);
  const style = { inlineSize: `${size}px`, blockSize: `${size}px` };
  if (!url) return <span class="sticker" style={style} aria-label={sticker.emoji}>{sticker.emoji}</span>;
  if (sticker.mime_type?.startsWith('video/') || sticker.format === 'video')
    return <video class="sticker" src={url} autoPlay loop muted playsInline style={style} aria-label={sticker.emoji} />;
  return <img class="sticker" src={url} alt={sticker.emoji} style={style} />;
}

export function LinkPreviewCard({ lp }: { lp: LinkPreview }) {
  if (!/^https?:\/\//i.test(lp.url)) return null;
  return (
    <a class="link-preview" data-testid="link-preview" href={lp.url} target="_blank" rel="noopener noreferrer">
      {lp.site_name && <strong class="small">{lp.site_name}</strong>}
      {lp.title && <span class="lp-title" dir="auto">{lp.title}</span>}
      {lp.description && <span class="small muted" dir="auto">{lp.description}</span>}
      {lp.photo && <LpPhoto photo={lp.photo} />}
    </a>
  );
}

function LpPhoto({ photo }: { photo: Photo }) {
  const url = useFileUrl(bestSize(photo, 320)?.file_id);
  return url ? <img class="lp-photo" src={url} alt="" /> : null;
}

/** The media of one message, or of an album (several messages sharing a grouped_id). */
export function MessageMedia({ m, album }: { m: Message; album?: Message[] | null }) {
  const mm = m as MediaMessage;
  const open = (id: number) => {
    void import('./Viewer');
    viewing.value = { chatId: m.chat_id, messageId: id };
  };
  if (album && album.length > 1) {
    return (
      <div class={`album n${Math.min(album.length, 4)}`} data-testid="media-album">
        {album.map((a) => {
          const md = (a as MediaMessage).media;
          if (md?.photo) return <PhotoImg key={a.id} photo={md.photo} px={160} onClick={() => open(a.id)} />;
          if (md?.video) return <VideoView key={a.id} video={md.video} />;
          return null;
        })}
      </div>
    );
  }
  const md = mm.media;
  return (
    <>
      {md?.photo && <PhotoImg photo={md.photo} px={320} onClick={() => open(m.id)} />}
      {md?.document && <DocumentCard doc={md.document} />}
      {md?.voice && <VoiceNote voice={md.voice} />}
      {md?.video && <VideoView video={md.video} />}
      {md?.sticker && (
        <div data-testid="media-sticker">
          <StickerImg sticker={md.sticker} />
        </div>
      )}
    </>
  );
}

/** Albums: for each grouped_id, the first message carries the others; the rest are hidden. */
export function groupAlbums(msgs: Message[]): { albums: Map<number, Message[]>; hidden: Set<number> } {
  const byGroup = new Map<number, Message[]>();
  for (const m of msgs) {
    const g = (m as MediaMessage).grouped_id;
    if (g) byGroup.set(g, [...(byGroup.get(g) ?? []), m]);
  }
  const albums = new Map<number, Message[]>();
  const hidden = new Set<number>();
  for (const list of byGroup.values()) {
    if (list.length < 2) continue;
    albums.set(list[0].id, list);
    for (const x of list.slice(1)) hidden.add(x.id);
  }
  return { albums, hidden };
}

/** The short label of a media message (chat list previews). */
export function mediaLabel(m: Message): string {
  const md = (m as MediaMessage).media;
  if (!md) return '';
  if (md.sticker) return `${md.sticker.emoji} ${t('sticker')}`;
  if (md.document) return `📎 ${md.document.name}`;
  if (md.voice) return `🎤 ${t('voiceMessage')}`;
  if (md.video) return `🎬 ${t('video')}`;
  return `🖼 ${t('photo')}`;
}
