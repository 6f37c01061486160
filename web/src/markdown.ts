import type { MessageEntity } from './api/types';

/**
 * Composer shortcuts: **bold**, _italic_, `code`, ~~strike~~ (and __underline__) become
 * entities over the plain text; a backslash escapes a marker. Offsets count UTF-16 code
 * units, like JavaScript strings and the server.
 */
const PAIRS: [string, string][] = [
  ['**', 'bold'],
  ['__', 'underline'],
  ['~~', 'strikethrough'],
  ['_', 'italic'],
];
const ESCAPABLE = '*_~`\\';
const WORD = /[\p{L}\p{N}]/u;

export interface Formatted {
  text: string;
  entities: MessageEntity[];
}

export function parseMarkdown(src: string): Formatted {
  const { text, entities } = parse(src);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

function parse(src: string): Formatted {
  let out = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  outer: while (i < src.length) {
    const ch = src[i];
    if (ch === '\\' && i + 1 < src.length && ESCAPABLE.includes(src[i + 1])) {
      out += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const fence = src.startsWith('```', i);
      const mark = fence ? '```' : '`';
      const j = src.indexOf(mark, i + mark.length);
      if (j > i + mark.length) {
        let body = src.slice(i + mark.length, j);
        let language: string | undefined;
        if (fence) {
          const nl = body.indexOf('\n');
          if (nl >= 0 && /^[\w+-]+$/.test(body.slice(0, nl))) {
            language = body.slice(0, nl);
            body = body.slice(nl + 1);
          } else if (body.startsWith('\n')) body = body.slice(1);
        }
        if (body.length) {
          const e: MessageEntity = { type: fence ? 'pre' : 'code', offset: out.length, length: body.length };
          if (language) e.language = language;
          entities.push(e);
          out += body;
          i = j + mark.length;
          continue;
        }
      }
    }
    for (const [mark, type] of PAIRS) {
      if (!src.startsWith(mark, i)) continue;
      const j = findClose(src, mark, i);
      if (j < 0) continue;
      const inner = parse(src.slice(i + mark.length, j));
      const offset = out.length;
      entities.push({ type, offset, length: inner.text.length });
      for (const e of inner.entities) entities.push({ ...e, offset: e.offset + offset });
      out += inner.text;
      i = j + mark.length;
      continue outer;
    }
    out += ch;
    i++;
  }
  return { text: out, entities };
}

function findClose(src: string, mark: string, open: number): number {
  const start = open + mark.length;
  const single = mark.length === 1;
  // An opening marker must be followed by non-space; `_` must not sit inside a word.
  if (start >= src.length || /\s/.test(src[start])) return -1;
  if (single && open > 0 && WORD.test(src[open - 1])) return -1;
  if (src.startsWith(mark, start)) return -1; // "****" or "__" handled by the longer marker
  let j = start;
  while ((j = src.indexOf(mark, j)) >= 0) {
    if (src[j - 1] === '\\') {
      j += 1;
      continue;
    }
    const after = src[j + mark.length];
    const okEnd = !/\s/.test(src[j - 1]) && j > start;
    const okWord = !single || after === undefined || !WORD.test(after);
    // Skip over a closing run that is really a longer marker (e.g. `_` inside `__`).
    if (okEnd && okWord && !(single && src[j + 1] === mark)) return j;
    j += mark.length;
  }
  return -1;
}

export interface Segment {
  text: string;
  entities: MessageEntity[]; // the entities covering this segment, outermost first
}

/** Cut text at every entity boundary: each piece with the entities covering it. */
export function segments(text: string, entities: MessageEntity[] = []): Segment[] {
  const valid = entities.filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length);
  if (!valid.length) return [{ text, entities: [] }];
  const cuts = new Set<number>([0, text.length]);
  for (const e of valid) {
    cuts.add(e.offset);
    cuts.add(Math.min(text.length, e.offset + e.length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: Segment[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k], points[k + 1]];
    if (a === b) continue;
    out.push({ text: text.slice(a, b), entities: valid.filter((e) => e.offset <= a && e.offset + e.length >= b) });
  }
  return out;
}
