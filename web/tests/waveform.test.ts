import { describe, expect, it } from 'vitest';
import { computeWaveform } from '../src/media/waveform';
import { planSend, kindOf } from '../src/media/send';
import { stickerSize } from '../src/media/image';

describe('computeWaveform', () => {
  it('gives 100 values 0..31 with the loudest at 31', () => {
    const s = new Float32Array(48_000);
    for (let i = 0; i < s.length; i++) s[i] = Math.sin(i / 10) * (i / s.length);
    const w = computeWaveform(s);
    expect(w).toHaveLength(100);
    expect(Math.max(...w)).toBe(31);
    expect(w.every((v) => Number.isInteger(v) && v >= 0 && v <= 31)).toBe(true);
    expect(w[0]).toBeLessThan(w[99]); // a crescendo
  });
  it('is all zeros for silence or nothing, and handles fewer samples than bars', () => {
    expect(computeWaveform(new Float32Array(1000))).toEqual(new Array(100).fill(0));
    expect(computeWaveform(new Float32Array(0))).toEqual(new Array(100).fill(0));
    const w = computeWaveform(new Float32Array([0.5, -1, 0.25]), 6);
    expect(w).toHaveLength(6);
    expect(Math.max(...w)).toBe(31);
  });
  it('scales by the peak: half loudness gives about half height', () => {
    const s = new Float32Array(200);
    s.fill(0.5, 0, 100);
    s.fill(-0.25, 100);
    const w = computeWaveform(s, 2);
    expect(w).toEqual([31, 16]);
  });
});

describe('sending plan', () => {
  it('sends images as photos, others as documents, and groups 2–10 visuals as albums', () => {
    expect(kindOf({ type: 'image/png' })).toBe('photo');
    expect(kindOf({ type: 'image/gif' })).toBe('document');
    expect(kindOf({ type: 'application/pdf' })).toBe('document');
    const items = [...new Array(12)].map((_, i) => ({ kind: 'photo' as const, i })).concat([{ kind: 'document' as never, i: 99 }]);
    const groups = planSend(items);
    expect(groups.map((g) => g.length)).toEqual([10, 2, 1]);
  });
  it('scales stickers to 512 on the long side', () => {
    expect(stickerSize(1024, 512)).toEqual([512, 256]);
    expect(stickerSize(100, 200)).toEqual([256, 512]);
    expect(stickerSize(512, 512)).toEqual([512, 512]);
  });
});
