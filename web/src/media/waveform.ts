/**
 * A voice note's waveform: `bars` values 0..31, each the peak of its stretch of samples,
 * scaled so the loudest bar is 31 (silence stays 0).
 */
export function computeWaveform(samples: Float32Array, bars = 100): number[] {
  const out = new Array<number>(bars).fill(0);
  if (!samples.length) return out;
  const peaks = new Float32Array(bars);
  for (let i = 0; i < bars; i++) {
    const a = Math.floor((i * samples.length) / bars);
    const b = Math.max(a + 1, Math.floor(((i + 1) * samples.length) / bars));
    let peak = 0;
    for (let j = a; j < b && j < samples.length; j++) {
      const v = Math.abs(samples[j]);
      if (v > peak) peak = v;
    }
    peaks[i] = peak;
  }
  let max = 0;
  for (const p of peaks) if (p > max) max = p;
  if (max <= 1e-6) return out;
  for (let i = 0; i < bars; i++) out[i] = Math.max(0, Math.min(31, Math.round((peaks[i] / max) * 31)));
  return out;
}

/** Decode an audio blob and compute its waveform (browser only). */
export async function waveformOf(blob: Blob, bars = 100): Promise<number[] | null> {
  try {
    const Ctx = (globalThis as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!Ctx) return null;
    const ctx = new Ctx();
    try {
      const buf = await ctx.decodeAudioData(await blob.arrayBuffer());
      return computeWaveform(buf.getChannelData(0), bars);
    } finally {
      void ctx.close();
    }
  } catch {
    return null;
  }
}
