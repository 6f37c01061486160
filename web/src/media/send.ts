import { signal } from '@preact/signals';
import type { Message } from '../api/types';
import * as S from '../state';
import { upload } from './files';
import type { FileInfo } from './types';

export type Kind = 'photo' | 'video' | 'document' | 'voice' | 'sticker';

export interface Pending {
  key: number;
  chatId: number;
  file: Blob;
  name: string;
  kind: Kind;
  sent: number;
  status: 'uploading' | 'done' | 'error';
  error?: string;
  ctl: AbortController;
  info: Promise<FileInfo>;
  preview?: string;
  waveform?: number[];
}

const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const VIDEO_TYPES = new Set(['video/mp4', 'video/webm', 'video/quicktime']);

export function kindOf(file: { type: string }): Kind {
  if (PHOTO_TYPES.has(file.type)) return 'photo';
  if (VIDEO_TYPES.has(file.type)) return 'video';
  return 'document';
}

/** Group the items of one send: 2–10 photos/videos in a row make an album; the rest go alone. */
export function planSend<T extends { kind: Kind }>(items: T[]): T[][] {
  const visual = items.filter((i) => i.kind === 'photo' || i.kind === 'video');
  const rest = items.filter((i) => !(i.kind === 'photo' || i.kind === 'video'));
  const groups: T[][] = [];
  for (let i = 0; i < visual.length; i += 10) groups.push(visual.slice(i, i + 10));
  for (const r of rest) groups.push([r]);
  return groups;
}

/** chat id → its files waiting to be sent */
export const pending = signal<Map<number, Pending[]>>(new Map());
let nextKey = 1;

function setPending(chatId: number, f: (list: Pending[]) => Pending[]) {
  const next = new Map(pending.value);
  next.set(chatId, f(next.get(chatId) ?? []));
  pending.value = next;
}

function patch(p: Pending, change: Partial<Pending>) {
  setPending(p.chatId, (list) => list.map((x) => (x.key === p.key ? Object.assign(x, change) && { ...x } : x)));
}

/** Start uploading files for a chat (they wait in the tray until sent or cancelled). */
export function addFiles(chatId: number, files: Iterable<File | Blob>, kind?: Kind, extra: Partial<Pending> = {}) {
  const added: Pending[] = [];
  for (const file of files) {
    const name = (file as File).name || (file.type.startsWith('image/') ? 'image.' + (file.type.split('/')[1] || 'png') : 'file');
    const ctl = new AbortController();
    const k = kind ?? kindOf(file);
    const p: Pending = {
      key: nextKey++,
      chatId,
      file,
      name,
      kind: k,
      sent: 0,
      status: 'uploading',
      ctl,
      info: Promise.resolve(null as unknown as FileInfo),
      preview: k === 'photo' && typeof URL !== 'undefined' ? URL.createObjectURL(file) : undefined,
      ...extra,
    };
    p.info = upload(file, name, { signal: ctl.signal, onProgress: (sent) => patch(p, { sent }) });
    p.info.then(
      () => patch(p, { status: 'done', sent: file.size }),
      (e) => !ctl.signal.aborted && patch(p, { status: 'error', error: String((e as Error)?.message ?? e) }),
    );
    added.push(p);
  }
  setPending(chatId, (list) => [...list, ...added]);
  return added;
}

export function cancel(p: Pending) {
  p.ctl.abort();
  if (p.preview) URL.revokeObjectURL(p.preview);
  setPending(p.chatId, (list) => list.filter((x) => x.key !== p.key));
}

export function clear(chatId: number) {
  for (const p of pending.value.get(chatId) ?? []) cancel(p);
}

function inputOf(p: Pending, info: FileInfo) {
  const media: Record<string, unknown> = { type: p.kind, file_id: info.id };
  if (p.waveform?.length) media.waveform = p.waveform;
  return media;
}

/** Send everything waiting for a chat, with an optional caption on the first message. */
export async function sendPending(chatId: number, caption = '', entities: unknown[] = []): Promise<void> {
  const items = pending.value.get(chatId) ?? [];
  if (!items.length) return;
  const infos = await Promise.all(items.map((p) => p.info));
  const byKey = new Map(items.map((p, i) => [p.key, infos[i]]));
  let first = true;
  for (const group of planSend(items)) {
    const cap = first ? caption : '';
    const ents = first && entities.length ? entities : undefined;
    first = false;
    let messages: Message[];
    if (group.length === 1) {
      const p = group[0];
      const res = await S.call<{ message: Message }>('sendMedia', {
        chat_id: chatId,
        media: inputOf(p, byKey.get(p.key)!),
        caption: cap,
        caption_entities: ents,
        random_id: S.randomId(),
      });
      messages = [res.message];
    } else {
      const res = await S.call<{ message: Message }[]>('sendAlbum', {
        chat_id: chatId,
        items: group.map((p, i) => ({ media: inputOf(p, byKey.get(p.key)!), caption: i === 0 ? cap : '', caption_entities: i === 0 ? ents : undefined })),
        random_id: S.randomId(),
      });
      messages = res.map((r) => r.message);
    }
    S.mergeMessages(chatId, messages, true);
    for (const p of group) {
      if (p.preview) URL.revokeObjectURL(p.preview);
      setPending(chatId, (list) => list.filter((x) => x.key !== p.key));
    }
  }
}

/** Upload one blob and send it straight away (voice notes, stickers from the panel). */
export async function sendNow(chatId: number, file: Blob, kind: Kind, extra: Partial<Pending> = {}) {
  const [p] = addFiles(chatId, [file], kind, extra);
  await p.info;
  const info = await p.info;
  const res = await S.call<{ message: Message }>('sendMedia', { chat_id: chatId, media: inputOf(p, info), random_id: S.randomId() });
  S.mergeMessages(chatId, [res.message], true);
  setPending(chatId, (list) => list.filter((x) => x.key !== p.key));
}

export async function sendSticker(chatId: number, fileId: string) {
  const res = await S.call<{ message: Message }>('sendMedia', { chat_id: chatId, media: { type: 'sticker', file_id: fileId }, random_id: S.randomId() });
  S.mergeMessages(chatId, [res.message], true);
}
