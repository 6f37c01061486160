/**
 * WebM/Opus to Ogg/Opus, without re-encoding. Chromium's MediaRecorder records Opus only in a
 * WebM container, and the server takes a voice note only as Ogg/Opus (RFC 7845): the Opus
 * packets of the recording are copied as they are into Ogg pages.
 */

// EBML ids (with their marker bits) of the WebM elements read here.
const MASTERS = new Set([
  0x18538067, // Segment
  0x1f43b675, // Cluster
  0x1654ae6b, // Tracks
  0xae, // TrackEntry
  0xe1, // Audio
  0xa0, // BlockGroup
]);
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;
const TRACK_NUMBER = 0xd7;
const CODEC_ID = 0x86;
const CODEC_PRIVATE = 0x63a2;
const CHANNELS = 0x9f;

export interface OpusTrack {
  /** The OpusHead packet (the track's CodecPrivate), or null when the track has none. */
  head: Uint8Array | null;
  channels: number;
  packets: Uint8Array[];
}

function vint(buf: Uint8Array, pos: number, keepMarker: boolean): { value: number; len: number; unknown: boolean } | null {
  const first = buf[pos];
  if (first === undefined || first === 0) return null;
  let len = 1;
  while (!(first & (0x80 >> (len - 1)))) len++;
  if (pos + len > buf.length) return null;
  const mask = 0xff >> len;
  let value = keepMarker ? first : first & mask;
  let allOnes = (first & mask) === mask;
  for (let i = 1; i < len; i++) {
    value = value * 256 + buf[pos + i];
    if (buf[pos + i] !== 0xff) allOnes = false;
  }
  return { value, len, unknown: !keepMarker && allOnes };
}

/** The Opus track of a WebM file: its packets in order; null when there is none (or laced blocks). */
export function opusFromWebm(data: Uint8Array): OpusTrack | null {
  const packets: Uint8Array[] = [];
  let head: Uint8Array | null = null;
  let channels = 1;
  let trackNumber = 0;
  let opusTrack = 0;
  let pos = 0;
  while (pos < data.length) {
    const id = vint(data, pos, true);
    const size = id && vint(data, pos + id.len, false);
    if (!id || !size) break;
    const start = pos + id.len + size.len;
    if (MASTERS.has(id.value)) {
      pos = start; // read the children in line (a live recording's sizes are often unknown)
      continue;
    }
    if (size.unknown) break;
    const end = start + size.value;
    if (end > data.length) break; // cut short: keep what came whole
    const body = data.subarray(start, end);
    if (id.value === TRACK_NUMBER) trackNumber = body.reduce((n, b) => n * 256 + b, 0);
    else if (id.value === CODEC_ID && new TextDecoder().decode(body).replace(/\0+$/, '') === 'A_OPUS') opusTrack = trackNumber;
    else if (id.value === CODEC_PRIVATE && opusTrack === trackNumber) head = body.slice();
    else if (id.value === CHANNELS && opusTrack === trackNumber) channels = body.reduce((n, b) => n * 256 + b, 0) || 1;
    else if (id.value === SIMPLE_BLOCK || id.value === BLOCK) {
      const track = vint(body, 0, false);
      if (!track || body.length < track.len + 3) return null;
      if (track.value === opusTrack && opusTrack) {
        const flags = body[track.len + 2];
        if (flags & 0x06) return null; // laced: MediaRecorder does not write these
        packets.push(body.slice(track.len + 3));
      }
    }
    pos = end;
  }
  return opusTrack ? { head, channels, packets } : null;
}

/** How many 48 kHz samples an Opus packet decodes to (RFC 6716 §3.1). */
export function opusSamples(packet: Uint8Array): number {
  if (!packet.length) return 0;
  const toc = packet[0];
  const config = toc >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3] : config < 16 ? [480, 960][config & 1] : [120, 240, 480, 960][config & 3];
  const code = toc & 3;
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2;
  return frame * frames;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The Ogg page checksum (CRC-32, polynomial 0x04c11db7, not reflected). */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  return crc;
}

function segmentsOf(packet: Uint8Array): number {
  return Math.floor(packet.length / 255) + 1;
}

function oggPage(packets: Uint8Array[], granule: number, flags: number, serial: number, seq: number): Uint8Array {
  const lacing: number[] = [];
  for (const p of packets) {
    for (let n = p.length; n >= 255; n -= 255) lacing.push(255);
    lacing.push(p.length % 255);
  }
  const bodySize = packets.reduce((n, p) => n + p.length, 0);
  const page = new Uint8Array(27 + lacing.length + bodySize);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53]); // "OggS"
  page[5] = flags;
  view.setBigInt64(6, BigInt(granule), true);
  view.setUint32(14, serial, true);
  view.setUint32(18, seq, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) {
    page.set(p, at);
    at += p.length;
  }
  view.setUint32(22, oggCrc(page), true);
  return page;
}

function opusHead(channels: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'));
  head[8] = 1; // version
  head[9] = channels;
  view.setUint16(10, 312, true); // pre-skip: what libopus's encoder adds
  view.setUint32(12, 48000, true);
  return head;
}

function opusTags(): Uint8Array {
  const vendor = new TextEncoder().encode('Heliograph Web');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  const view = new DataView(tags.buffer);
  tags.set(new TextEncoder().encode('OpusTags'));
  view.setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  return tags; // no user comments
}

/** An Ogg/Opus file holding the packets of an Opus track (about one second per page). */
export function oggFromOpus(track: OpusTrack, serial = 0x48454c49): Uint8Array<ArrayBuffer> | null {
  if (!track.packets.length) return null;
  const isHead = track.head && track.head.length >= 19 && new TextDecoder().decode(track.head.subarray(0, 8)) === 'OpusHead';
  const head = isHead ? track.head! : opusHead(track.channels);
  const preSkip = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint16(10, true);
  const pages = [oggPage([head], 0, 0x02, serial, 0), oggPage([opusTags()], 0, 0, serial, 1)];
  let granule = preSkip;
  let onPage: Uint8Array[] = [];
  let segments = 0;
  const flush = (last: boolean) => {
    pages.push(oggPage(onPage, granule, last ? 0x04 : 0, serial, pages.length));
    onPage = [];
    segments = 0;
  };
  track.packets.forEach((p, i) => {
    if (onPage.length && (segments + segmentsOf(p) > 255 || onPage.length >= 50)) flush(false);
    onPage.push(p);
    segments += segmentsOf(p);
    granule += opusSamples(p);
    if (i === track.packets.length - 1) flush(true);
  });
  const out = new Uint8Array(pages.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pages) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A WebM/Opus recording as an Ogg/Opus blob; null when it can't be read as one. */
export async function webmToOgg(blob: Blob): Promise<Blob | null> {
  const track = opusFromWebm(new Uint8Array(await blob.arrayBuffer()));
  const ogg = track && oggFromOpus(track);
  return ogg ? new Blob([ogg], { type: 'audio/ogg' }) : null;
}
