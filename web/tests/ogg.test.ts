import { describe, expect, it } from 'vitest';
import { oggCrc, oggFromOpus, opusFromWebm, opusSamples } from '../src/media/ogg';

// --- a WebM as MediaRecorder writes it: Segment and Cluster of unknown size ---------------------

function size(n: number): number[] {
  if (n < 0x7f) return [0x80 | n];
  return [0x40 | (n >> 8), n & 0xff];
}
function el(id: number[], body: number[] | Uint8Array): number[] {
  return [...id, ...size(body.length), ...body];
}
const UNKNOWN = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const text = (s: string) => [...new TextEncoder().encode(s)];

function opusHead(channels: number, preSkip: number): number[] {
  return [...text('OpusHead'), 1, channels, preSkip & 0xff, preSkip >> 8, 0x80, 0xbb, 0, 0, 0, 0, 0];
}
function block(track: number, packet: number[], flags = 0x80): number[] {
  return el([0xa3], [0x80 | track, 0, 0, flags, ...packet]);
}
function webm(packets: number[][], opts: { head?: number[]; codec?: string; flags?: number } = {}): Uint8Array {
  const entry = [
    ...el([0xd7], [1]),
    ...el([0x86], text(opts.codec ?? 'A_OPUS')),
    ...(opts.head ? el([0x63, 0xa2], opts.head) : []),
    ...el([0xe1], el([0x9f], [2])),
  ];
  const video = [...el([0xd7], [2]), ...el([0x86], text('V_VP8'))];
  const cluster = [0x1f, 0x43, 0xb6, 0x75, ...UNKNOWN, ...el([0xe7], [0]), ...packets.flatMap((p) => block(1, p, opts.flags)), ...block(2, [9, 9, 9])];
  return new Uint8Array([
    ...el([0x1a, 0x45, 0xdf, 0xa3], el([0x42, 0x82], text('webm'))),
    ...[0x18, 0x53, 0x80, 0x67, ...UNKNOWN],
    ...el([0x15, 0x49, 0xa9, 0x66], el([0x2a, 0xd7, 0xb1], [0x0f, 0x42, 0x40])),
    ...el([0x16, 0x54, 0xae, 0x6b], [...el([0xae], entry), ...el([0xae], video)]),
    ...cluster,
  ]);
}

// --- reading the Ogg back ---------------------------------------------------------------------

interface Page {
  flags: number;
  granule: number;
  seq: number;
  crcOk: boolean;
  segments: number[];
  body: Uint8Array;
}
function pages(ogg: Uint8Array): Page[] {
  const out: Page[] = [];
  let at = 0;
  while (at < ogg.length) {
    expect(new TextDecoder().decode(ogg.subarray(at, at + 4))).toBe('OggS');
    const view = new DataView(ogg.buffer, ogg.byteOffset + at);
    const n = ogg[at + 26];
    const segments = [...ogg.subarray(at + 27, at + 27 + n)];
    const len = 27 + n + segments.reduce((a, b) => a + b, 0);
    const copy = ogg.slice(at, at + len);
    new DataView(copy.buffer).setUint32(22, 0, true);
    out.push({
      flags: ogg[at + 5],
      granule: Number(view.getBigInt64(6, true)),
      seq: view.getUint32(18, true),
      crcOk: oggCrc(copy) === view.getUint32(22, true),
      segments,
      body: ogg.subarray(at + 27 + n, at + len),
    });
    at += len;
  }
  return out;
}
function packetsOf(ps: Page[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur: number[] = [];
  for (const p of ps) {
    let at = 0;
    for (const s of p.segments) {
      cur.push(...p.body.subarray(at, at + s));
      at += s;
      if (s < 255) {
        out.push(new Uint8Array(cur));
        cur = [];
      }
    }
  }
  return out;
}

const CELT_20MS = 0xfc; // config 31 (CELT, 20 ms), stereo, one frame

describe('opusSamples', () => {
  it('reads the frame size and count of the TOC byte', () => {
    expect(opusSamples(new Uint8Array([CELT_20MS]))).toBe(960);
    expect(opusSamples(new Uint8Array([(16 << 3) | 0]))).toBe(120); // CELT 2.5 ms
    expect(opusSamples(new Uint8Array([(3 << 3) | 1]))).toBe(2 * 2880); // SILK 60 ms, two frames
    expect(opusSamples(new Uint8Array([(13 << 3) | 3, 0x83]))).toBe(3 * 960); // hybrid 20 ms, code 3
    expect(opusSamples(new Uint8Array([]))).toBe(0);
  });
});

describe('WebM/Opus to Ogg/Opus', () => {
  const packets = [
    [CELT_20MS, 1, 2, 3],
    [CELT_20MS, ...new Array(600).fill(7)], // three segments
    [CELT_20MS, ...new Array(254).fill(5)], // exactly 255 bytes: a 255 and a 0
    [CELT_20MS, 4],
  ];

  it('copies the packets of the Opus track, with its OpusHead, into checked Ogg pages', () => {
    const track = opusFromWebm(webm(packets, { head: opusHead(2, 312) }))!;
    expect(track.packets.map((p) => [...p])).toEqual(packets);
    expect(track.channels).toBe(2);
    const ps = pages(oggFromOpus(track)!);
    expect(ps.every((p) => p.crcOk)).toBe(true);
    expect(ps.map((p) => p.seq)).toEqual(ps.map((_, i) => i));
    expect(ps[0].flags).toBe(0x02); // beginning of stream
    expect(ps[ps.length - 1].flags & 0x04).toBe(0x04); // end of stream
    const all = packetsOf(ps);
    expect(new TextDecoder().decode(all[0].subarray(0, 8))).toBe('OpusHead');
    expect([...all[0]]).toEqual(opusHead(2, 312));
    expect(new TextDecoder().decode(all[1].subarray(0, 8))).toBe('OpusTags');
    expect(all.slice(2).map((p) => [...p])).toEqual(packets);
    expect(ps[ps.length - 1].granule).toBe(312 + 4 * 960);
  });

  it('makes an OpusHead when the track has none, and spreads many packets over pages', () => {
    const many = Array.from({ length: 120 }, (_, i) => [CELT_20MS, i]);
    const track = opusFromWebm(webm(many))!;
    expect(track.head).toBeNull();
    const ps = pages(oggFromOpus(track)!);
    expect(ps.length).toBe(2 + 3); // 50 + 50 + 20 packets
    expect(ps.every((p) => p.crcOk)).toBe(true);
    const all = packetsOf(ps);
    expect(all[0][9]).toBe(2); // channels, from the track's Audio element
    expect(all.slice(2).map((p) => [...p])).toEqual(many);
    expect(ps.slice(2).map((p) => p.granule)).toEqual([312 + 50 * 960, 312 + 100 * 960, 312 + 120 * 960]);
  });

  it('gives up on what is not plain Opus in WebM', () => {
    expect(opusFromWebm(webm(packets, { codec: 'A_VORBIS' }))).toBeNull();
    expect(opusFromWebm(webm(packets, { flags: 0x82 }))).toBeNull(); // laced blocks
    expect(opusFromWebm(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(oggFromOpus({ head: null, channels: 1, packets: [] })).toBeNull();
  });
});
