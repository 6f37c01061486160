/**
 * Debounced draft saving: the composer calls `change` on every edit; the text is saved with
 * `save` once it has stayed the same for `delay` ms, `flush` saves at once (leaving a chat,
 * hiding the page), `sent` forgets a pending save (the server clears the draft on send).
 * Nothing is saved when the text equals what the server has already.
 */
export type SaveDraft = (chatId: number, text: string) => Promise<unknown>;

interface Timers {
  set: (f: () => void, ms: number) => unknown;
  clear: (h: unknown) => void;
}

const realTimers: Timers = {
  set: (f, ms) => setTimeout(f, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class DraftSaver {
  private pending = new Map<number, { text: string; timer: unknown }>();
  private saved = new Map<number, string>();

  constructor(
    private readonly save: SaveDraft,
    private readonly delay = 800,
    private readonly timers: Timers = realTimers,
  ) {}

  /** What the server is known to hold for a chat (from getChats or a `draft` update). */
  known(chatId: number, text: string): void {
    this.saved.set(chatId, text);
  }

  change(chatId: number, text: string): void {
    const p = this.pending.get(chatId);
    if (p) this.timers.clear(p.timer);
    if ((this.saved.get(chatId) ?? '') === text) {
      this.pending.delete(chatId);
      return;
    }
    const timer = this.timers.set(() => void this.flush(chatId), this.delay);
    this.pending.set(chatId, { text, timer });
  }

  async flush(chatId: number): Promise<void> {
    const p = this.pending.get(chatId);
    if (!p) return;
    this.timers.clear(p.timer);
    this.pending.delete(chatId);
    if ((this.saved.get(chatId) ?? '') === p.text) return;
    const before = this.saved.get(chatId);
    this.saved.set(chatId, p.text);
    try {
      await this.save(chatId, p.text);
    } catch {
      if (before === undefined) this.saved.delete(chatId);
      else this.saved.set(chatId, before);
    }
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((id) => this.flush(id)));
  }

  /** A message was sent: the server cleared the draft. */
  sent(chatId: number): void {
    const p = this.pending.get(chatId);
    if (p) this.timers.clear(p.timer);
    this.pending.delete(chatId);
    this.saved.set(chatId, '');
  }

  isPending(chatId: number): boolean {
    return this.pending.has(chatId);
  }
}
