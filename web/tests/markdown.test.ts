import { describe, expect, it } from 'vitest';
import { parseMarkdown, segments } from '../src/markdown';

describe('parseMarkdown', () => {
  it('turns the four shortcuts into entities', () => {
    expect(parseMarkdown('a **b** _c_ `d` ~~e~~')).toEqual({
      text: 'a b c d e',
      entities: [
        { type: 'bold', offset: 2, length: 1 },
        { type: 'italic', offset: 4, length: 1 },
        { type: 'code', offset: 6, length: 1 },
        { type: 'strikethrough', offset: 8, length: 1 },
      ],
    });
  });

  it('nests formatting', () => {
    expect(parseMarkdown('**bold _both_**')).toEqual({
      text: 'bold both',
      entities: [
        { type: 'bold', offset: 0, length: 9 },
        { type: 'italic', offset: 5, length: 4 },
      ],
    });
  });

  it('leaves code contents literal', () => {
    expect(parseMarkdown('`**x**`')).toEqual({ text: '**x**', entities: [{ type: 'code', offset: 0, length: 5 }] });
  });

  it('counts UTF-16 code units', () => {
    const r = parseMarkdown('😀 **سلام**');
    expect(r.text).toBe('😀 سلام');
    expect(r.entities).toEqual([{ type: 'bold', offset: 3, length: 4 }]);
  });

  it('ignores unmatched or intraword markers', () => {
    expect(parseMarkdown('snake_case_name and 2*3')).toEqual({ text: 'snake_case_name and 2*3', entities: [] });
    expect(parseMarkdown('**open')).toEqual({ text: '**open', entities: [] });
    expect(parseMarkdown('_ spaced _')).toEqual({ text: '_ spaced _', entities: [] });
  });

  it('honours backslash escapes', () => {
    expect(parseMarkdown('\\*\\*not\\*\\*')).toEqual({ text: '**not**', entities: [] });
  });

  it('parses fenced code with a language', () => {
    expect(parseMarkdown('```py\nx = 1```')).toEqual({
      text: 'x = 1',
      entities: [{ type: 'pre', offset: 0, length: 5, language: 'py' }],
    });
  });
});

describe('segments', () => {
  it('splits text at entity boundaries', () => {
    const segs = segments('hello world', [
      { type: 'bold', offset: 0, length: 11 },
      { type: 'italic', offset: 6, length: 5 },
    ]);
    expect(segs.map((s) => [s.text, s.entities.map((e) => e.type)])).toEqual([
      ['hello ', ['bold']],
      ['world', ['bold', 'italic']],
    ]);
  });
  it('returns the whole text without entities', () => {
    expect(segments('x')).toEqual([{ text: 'x', entities: [] }]);
  });
});
