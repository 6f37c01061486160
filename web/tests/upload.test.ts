import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/media/sha256';
import { missingParts, partRange, pool, uploadBlob, type UploadTransport } from '../src/media/upload';
import type { FileInfo, Upload } from '../src/media/types';

/** A fake server: keeps parts per upload, can fail chosen PUTs, checks the hash at finish. */
class FakeTransport implements UploadTransport {
  parts = new Map<number, Uint8Array>();
  starts = 0;
  puts: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failOnce = new Set<number>();
  constructor(
    private partSize: number,
    private size: number,
    private sha: string,
  ) {}
  async startUpload(size: number, sha256: string): Promise<Upload> {
    this.starts++;
    expect(size).toBe(this.size);
    expect(sha256).toBe(this.sha);
    const parts = Math.ceil(size / this.partSize);
    return { upload_id: 'up1', size, part_size: this.partSize, parts, received: [...this.parts.keys()].sort((a, b) => a - b) };
  }
  async putPart(_id: string, part: number, data: Blob): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 1));
      this.puts.push(part);
      if (this.failOnce.delete(part)) throw new Error('network down');
      this.parts.set(part, new Uint8Array(await data.arrayBuffer()));
    } finally {
      this.inFlight--;
    }
  }
  async finishUpload(): Promise<FileInfo> {
    const n = Math.ceil(this.size / this.partSize);
    const all = new Uint8Array(this.size);
    for (let i = 0; i < n; i++) {
      const p = this.parts.get(i);
      if (!p) throw new Error('UPLOAD_INCOMPLETE');
      all.set(p, i * this.partSize);
    }
    expect(sha256Hex(all)).toBe(this.sha);
    return { id: 'file-1', size: this.size, name: 'x', mime_type: 'application/octet-stream' };
  }
}

const data = new Uint8Array(10_500).map((_, i) => (i * 7) & 0xff);
const blob = new Blob([data]);
const sha = sha256Hex(data);

describe('upload planning', () => {
  it('lists the missing parts and their ranges', () => {
    expect(missingParts({ parts: 5, received: [0, 2, 4] })).toEqual([1, 3]);
    expect(missingParts({ parts: 3, received: [] })).toEqual([0, 1, 2]);
    expect(partRange({ size: 10_500, part_size: 1000 }, 10)).toEqual([10_000, 10_500]);
    expect(partRange({ size: 10_500, part_size: 1000 }, 0)).toEqual([0, 1000]);
  });
  it('pool keeps at most the limit in flight', async () => {
    let now = 0;
    let max = 0;
    await pool([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, async () => {
      now++;
      max = Math.max(max, now);
      await new Promise((r) => setTimeout(r, 2));
      now--;
    });
    expect(max).toBe(4);
  });
});

describe('uploadBlob', () => {
  it('sends every part, at most 4 at once, and finishes', async () => {
    const t = new FakeTransport(1000, data.length, sha);
    const progress: number[] = [];
    const info = await uploadBlob(t, blob, 'x', { onProgress: (s) => progress.push(s), retryDelayMs: 0 });
    expect(info.id).toBe('file-1');
    expect([...t.puts].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(t.maxInFlight).toBeLessThanOrEqual(4);
    expect(t.maxInFlight).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBe(data.length);
  });
  it('resumes after a failed part by starting again, sending only what is missing', async () => {
    const t = new FakeTransport(1000, data.length, sha);
    t.failOnce.add(7);
    const info = await uploadBlob(t, blob, 'x', { retryDelayMs: 0, parallel: 1 });
    expect(info.id).toBe('file-1');
    expect(t.starts).toBe(2);
    // first round stops at the failure (one in flight); the second sends from 7 on only
    expect(t.puts).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10]);
  });
  it('skips parts the server already has (resume of an earlier session)', async () => {
    const t = new FakeTransport(1000, data.length, sha);
    for (const p of [0, 1, 2, 5]) t.parts.set(p, data.slice(p * 1000, p * 1000 + 1000));
    await uploadBlob(t, blob, 'x', { retryDelayMs: 0 });
    expect([...t.puts].sort((a, b) => a - b)).toEqual([3, 4, 6, 7, 8, 9, 10]);
  });
  it('gives up after the attempts and stops on cancel', async () => {
    const t = new FakeTransport(1000, data.length, sha);
    t.putPart = async () => {
      throw new Error('down');
    };
    await expect(uploadBlob(t, blob, 'x', { retryDelayMs: 0, attempts: 2 })).rejects.toThrow('down');
    expect(t.starts).toBe(2);
    const ctl = new AbortController();
    ctl.abort();
    await expect(uploadBlob(new FakeTransport(1000, data.length, sha), blob, 'x', { signal: ctl.signal, sha256: sha })).rejects.toThrow(/cancel/);
  });
  it('returns at once when the server already has the whole file', async () => {
    const t = new FakeTransport(1000, data.length, sha);
    t.startUpload = async () => ({ upload_id: 'u', size: 1, part_size: 1, parts: 1, received: [0], file: { id: 'done', size: 1, name: '', mime_type: '' } });
    expect((await uploadBlob(t, blob, 'x')).id).toBe('done');
  });
});
