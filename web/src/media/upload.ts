import { hashBlob } from './sha256';
import type { FileInfo, Upload } from './types';

/** What an upload needs from the server (injected: the tests use a fake). */
export interface UploadTransport {
  startUpload(size: number, sha256: string, name: string): Promise<Upload>;
  putPart(uploadId: string, part: number, data: Blob, signal: AbortSignal): Promise<void>;
  finishUpload(uploadId: string): Promise<FileInfo>;
}

export interface UploadOptions {
  parallel?: number;
  attempts?: number; // rounds of startUpload → missing parts → finish
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
  onPhase?: (phase: 'hashing' | 'uploading' | 'finishing') => void;
  sha256?: string;
  retryDelayMs?: number;
}

/** The parts still to send, in order: all of 0 … parts-1 that `received` lacks. */
export function missingParts(u: Pick<Upload, 'parts' | 'received'>): number[] {
  const have = new Set(u.received);
  const out: number[] = [];
  for (let i = 0; i < u.parts; i++) if (!have.has(i)) out.push(i);
  return out;
}

/** The byte range [start, end) of one part. */
export function partRange(u: Pick<Upload, 'size' | 'part_size'>, part: number): [number, number] {
  const start = part * u.part_size;
  return [start, Math.min(u.size, start + u.part_size)];
}

/** Run `work` over `items` with at most `limit` in flight; the first failure stops the rest. */
export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failed: unknown = null;
  const worker = async () => {
    while (queue.length && failed === null) {
      const item = queue.shift()!;
      try {
        await work(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== null) throw failed;
}

function aborted(signal?: AbortSignal) {
  if (signal?.aborted) throw new DOMException('upload cancelled', 'AbortError');
}

/**
 * Upload a blob: hash it, startUpload, PUT the parts the server lacks (up to `parallel` at once),
 * finishUpload. A failed round is resumed by calling startUpload again (same size and SHA-256),
 * which lists the parts that already arrived.
 */
export async function uploadBlob(t: UploadTransport, blob: Blob, name: string, opts: UploadOptions = {}): Promise<FileInfo> {
  const parallel = opts.parallel ?? 4;
  const attempts = opts.attempts ?? 4;
  const ctl = new AbortController();
  opts.signal?.addEventListener('abort', () => ctl.abort());
  opts.onPhase?.('hashing');
  const sha = opts.sha256 ?? (await hashBlob(blob, undefined, opts.signal));
  let lastError: unknown = null;
  for (let round = 0; round < attempts; round++) {
    aborted(opts.signal);
    try {
      const up = await t.startUpload(blob.size, sha, name);
      if (up.file) return up.file;
      const todo = missingParts(up);
      let sent = blob.size - todo.reduce((n, p) => n + (partRange(up, p)[1] - partRange(up, p)[0]), 0);
      opts.onPhase?.('uploading');
      opts.onProgress?.(sent, blob.size);
      await pool(todo, parallel, async (p) => {
        aborted(opts.signal);
        const [a, b] = partRange(up, p);
        await t.putPart(up.upload_id, p, blob.slice(a, b), ctl.signal);
        sent += b - a;
        opts.onProgress?.(sent, blob.size);
      });
      aborted(opts.signal);
      opts.onPhase?.('finishing');
      return await t.finishUpload(up.upload_id);
    } catch (e) {
      if ((e as { name?: string })?.name === 'AbortError' || opts.signal?.aborted) throw e;
      lastError = e;
      if (opts.retryDelayMs !== 0) await new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 500) * (round + 1)));
    }
  }
  throw lastError;
}
