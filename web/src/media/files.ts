import { signal } from '@preact/signals';
import { ApiError, errorFrom } from '../api/types';
import * as S from '../state';
import type { FileInfo, Upload } from './types';
import { uploadBlob, type UploadOptions, type UploadTransport } from './upload';

function auth(): Record<string, string> {
  const tok = S.session.value?.token;
  return tok ? { Authorization: `Bearer ${tok}` } : {};
}

export const httpTransport: UploadTransport = {
  startUpload: (size, sha256, name) => S.call<Upload>('startUpload', { size, sha256, name: name.slice(0, 1024) }),
  finishUpload: (upload_id) => S.call<FileInfo>('finishUpload', { upload_id }),
  async putPart(id, part, data, signal) {
    const res = await fetch(`/api/upload/${encodeURIComponent(id)}/${part}`, {
      method: 'PUT',
      headers: { ...auth(), 'Content-Type': 'application/octet-stream' },
      body: data,
      signal,
    });
    if (!res.ok) {
      let body: { error?: unknown } = {};
      try {
        body = await res.json();
      } catch {
        /* not JSON */
      }
      throw errorFrom(body.error ?? { code: 'HTTP_' + res.status, message: res.statusText }, res.status);
    }
  },
};

export function upload(blob: Blob, name: string, opts: UploadOptions = {}): Promise<FileInfo> {
  return uploadBlob(httpTransport, blob, name, opts);
}

// --- downloads ------------------------------------------------------------------------------

const urls = new Map<string, Promise<string>>();
/** file id → fraction received (0..1) while downloading */
export const downloadProgress = signal<Map<string, number>>(new Map());

function setProgress(id: string, v: number | null) {
  const next = new Map(downloadProgress.value);
  if (v == null) next.delete(id);
  else next.set(id, v);
  downloadProgress.value = next;
}

/** A blob: URL of a file's bytes (fetched once per file id, with Authorization). */
export function fileUrl(fileId: string, track = false): Promise<string> {
  let p = urls.get(fileId);
  if (!p) {
    p = fetchBlob(fileId, track).then((b) => URL.createObjectURL(b));
    urls.set(fileId, p);
    p.catch(() => urls.delete(fileId));
  }
  return p;
}

export function cachedUrl(fileId: string): boolean {
  return urls.has(fileId);
}

async function fetchBlob(fileId: string, track: boolean): Promise<Blob> {
  const res = await fetch(`/api/files/${encodeURIComponent(fileId)}`, { headers: auth() });
  if (!res.ok) throw new ApiError('HTTP_' + res.status, res.statusText, res.status);
  const total = Number(res.headers.get('Content-Length') || 0);
  if (!track || !res.body || !total) return res.blob();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  setProgress(fileId, 0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
      setProgress(fileId, got / total);
    }
  } finally {
    setProgress(fileId, null);
  }
  return new Blob(chunks as BlobPart[], { type: res.headers.get('Content-Type') ?? '' });
}

export async function saveFile(fileId: string, name: string) {
  const url = await fileUrl(fileId, true);
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'file';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function fmtDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
