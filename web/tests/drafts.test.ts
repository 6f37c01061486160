import { describe, expect, it } from 'vitest';
import { DraftSaver } from '../src/chat/drafts';

function fakeTimers() {
  let now = 0;
  let seq = 0;
  const due = new Map<number, { at: number; f: () => void }>();
  return {
    set: (f: () => void, ms: number) => {
      due.set(++seq, { at: now + ms, f });
      return seq;
    },
    clear: (h: unknown) => void due.delete(h as number),
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          due.delete(id);
          t.f();
        }
      }
    },
  };
}

describe('draft debounce', () => {
  it('saves once after typing stops, with the last text', async () => {
    const saved: [number, string][] = [];
    const timers = fakeTimers();
    const d = new DraftSaver(async (c, t) => void saved.push([c, t]), 500, timers);
    d.change(1, 'h');
    timers.advance(300);
    d.change(1, 'he');
    timers.advance(300);
    d.change(1, 'hey');
    expect(saved).toEqual([]);
    timers.advance(500);
    await Promise.resolve();
    expect(saved).toEqual([[1, 'hey']]);
  });

  it('does not save what the server already has, and clears by saving empty text', async () => {
    const saved: string[] = [];
    const timers = fakeTimers();
    const d = new DraftSaver(async (_c, t) => void saved.push(t), 500, timers);
    d.known(1, 'old');
    d.change(1, 'old');
    timers.advance(1000);
    expect(saved).toEqual([]);
    d.change(1, '');
    await d.flush(1);
    expect(saved).toEqual(['']);
  });

  it('flush saves at once; sent() drops the pending save', async () => {
    const saved: string[] = [];
    const timers = fakeTimers();
    const d = new DraftSaver(async (_c, t) => void saved.push(t), 500, timers);
    d.change(2, 'abc');
    await d.flush(2);
    expect(saved).toEqual(['abc']);
    d.change(2, 'abcd');
    d.sent(2);
    timers.advance(1000);
    expect(saved).toEqual(['abc']);
    expect(d.isPending(2)).toBe(false);
    // after sending, typing the same text as before saves again (server cleared it)
    d.change(2, 'abc');
    await d.flush(2);
    expect(saved).toEqual(['abc', 'abc']);
  });

  it('retries after a failed save', async () => {
    let fail = true;
    const saved: string[] = [];
    const d = new DraftSaver(async (_c, t) => {
      if (fail) throw new Error('offline');
      saved.push(t);
    }, 500, fakeTimers());
    d.change(3, 'x');
    await d.flush(3);
    fail = false;
    d.change(3, 'x');
    await d.flush(3);
    expect(saved).toEqual(['x']);
  });
});
