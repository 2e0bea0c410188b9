/**
 * The one poller of the chain head, shared by the sidebar and the status bar.
 *
 * One ``GET head`` per tick whoever listens: fast (the server's ``poll_seconds``)
 * while a view that shows records is visible, slow otherwise; ``poke()`` asks at
 * once (a kernel went idle: a tracked cell may have written). Listeners hear
 * ``changed`` only when the head moved, and ``failed`` when the server or store
 * cannot answer (the next success is a change again).
 */
export type HeadListener = {
  changed?: (seq: number) => void | Promise<void>;
  failed?: (error: unknown) => void;
};

export interface PollerOptions {
  fastMs: number;
  slowMs: number;
}

export class HeadPoller {
  private seq: number | null = null;
  private listeners = new Set<HeadListener>();
  private fastHolders = new Set<unknown>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly fetchHead: () => Promise<number>,
    private options: PollerOptions = { fastMs: 1000, slowMs: 10000 }
  ) {}

  get head(): number | null {
    return this.seq;
  }

  setFastMs(ms: number): void {
    this.options = { ...this.options, fastMs: ms };
  }

  subscribe(listener: HeadListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** While ``holder`` wants it, poll at the fast rate (a visible sidebar). */
  setFast(holder: unknown, fast: boolean): void {
    const before = this.fastHolders.size > 0;
    if (fast) {
      this.fastHolders.add(holder);
    } else {
      this.fastHolders.delete(holder);
    }
    if (!before && this.fastHolders.size > 0) {
      void this.poke();
    }
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Ask now (coalesced with a request already in flight), then continue the rhythm. */
  poke(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.tick().finally(() => {
        this.inFlight = null;
        this.schedule();
      });
    }
    return this.inFlight;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) {
      return;
    }
    const ms = this.fastHolders.size > 0 ? this.options.fastMs : this.options.slowMs;
    this.timer = setTimeout(() => void this.poke(), ms);
  }

  private async tick(): Promise<void> {
    let seq: number;
    try {
      seq = await this.fetchHead();
    } catch (error) {
      this.seq = null;
      for (const listener of Array.from(this.listeners)) {
        listener.failed?.(error);
      }
      return;
    }
    if (seq === this.seq) {
      return;
    }
    this.seq = seq;
    await Promise.all(
      Array.from(this.listeners).map(async listener => {
        try {
          await listener.changed?.(seq);
        } catch {
          // a listener's failure is its own to show; the others still hear the change
        }
      })
    );
  }
}
