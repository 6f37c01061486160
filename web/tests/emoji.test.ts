import { describe, expect, it } from 'vitest';
import { EMOJI, insertAt, mentionsMe, pushRecent, searchEmoji } from '../src/chat/emoji';

describe('emoji picker', () => {
  it('has categories of unique, non-empty emoji with keywords', () => {
    expect(EMOJI.length).toBeGreaterThanOrEqual(6);
    for (const c of EMOJI) for (const e of c.items) expect(e.e && e.k).toBeTruthy();
  });

  it('searches keywords by prefix, every word must match', () => {
    expect(searchEmoji('heart').map((e) => e.e)).toContain('❤️');
    expect(searchEmoji('thumbs up').map((e) => e.e)).toEqual(['👍']);
    expect(searchEmoji('LAUGH').map((e) => e.e)).toContain('😂');
    expect(searchEmoji('  ')).toEqual([]);
    expect(searchEmoji('zzzznothing')).toEqual([]);
    expect(searchEmoji('a', 5)).toHaveLength(5);
  });

  it('keeps recent emoji unique, newest first, bounded', () => {
    let r: string[] = [];
    for (const e of ['a', 'b', 'a', 'c']) r = pushRecent(r, e, 2);
    expect(r).toEqual(['c', 'a']);
  });

  it('inserts at the caret, replacing a selection', () => {
    expect(insertAt('hello', 5, 5, '👍')).toEqual({ value: 'hello👍', caret: 7 });
    expect(insertAt('hello', 1, 4, 'X')).toEqual({ value: 'hXo', caret: 2 });
    expect(insertAt('', 9, 9, '🔥')).toEqual({ value: '🔥', caret: 2 });
  });

  it('tells whether a message mentions me', () => {
    const me = { id: 5, username: 'Alice' };
    expect(mentionsMe('hi @alice', [{ type: 'mention', offset: 3, length: 6 }], me)).toBe(true);
    expect(mentionsMe('hi @bob', [{ type: 'mention', offset: 3, length: 4 }], me)).toBe(false);
    expect(mentionsMe('hi A', [{ type: 'text_mention', offset: 3, length: 1, user_id: 5 }], me)).toBe(true);
    expect(mentionsMe('hi', undefined, null)).toBe(false);
  });
});
