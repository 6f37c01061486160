import type { Update } from '../api/types';

/**
 * The gap rules of one update box, without I/O (DESIGN.md §2; port of heliograph/sdk/sequencer.py).
 * An update applies when `pts - pts_count == local pts`; `pts <= local pts` was already seen;
 * one further ahead waits until the missing ones arrive or getDifference fills the gap.
 */
export class Sequencer {
  private ahead = new Map<number, Update>();

  constructor(public pts: number) {}

  get hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** A live update: the updates now applicable, in order (maybe none). */
  push(update: Update): Update[] {
    if (update.pts <= this.pts) return [];
    const start = update.pts - update.pts_count;
    if (start !== this.pts) {
      this.ahead.set(start, update);
      return [];
    }
    this.pts = update.pts;
    return [update, ...this.drain()];
  }

  /** An update from getDifference: the server's sequence is authoritative. */
  applyDifference(update: Update): Update[] {
    if (update.pts <= this.pts) return [];
    this.pts = update.pts;
    return [update, ...this.drain()];
  }

  /** Jump to `pts` (after too_long). Going back drops the whole buffer. */
  reset(pts: number): void {
    if (pts < this.pts) this.ahead.clear();
    this.pts = pts;
    this.discardSeen();
  }

  private drain(): Update[] {
    const out: Update[] = [];
    for (;;) {
      this.discardSeen();
      const next = this.ahead.get(this.pts);
      if (!next) return out;
      this.ahead.delete(this.pts);
      this.pts = next.pts;
      out.push(next);
    }
  }

  private discardSeen(): void {
    for (const [start, u] of this.ahead) if (u.pts <= this.pts) this.ahead.delete(start);
  }
}
