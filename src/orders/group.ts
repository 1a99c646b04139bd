// Group commit: requests that arrive together are handled together. A caller submits
// one item and gets a promise of its own answer; items wait until a group closes —
// after `maxWaitMs`, or at `maxSize` items, whichever comes first — and the group runs
// as one (one transaction per phase, one platform call per leg). While `concurrency`
// groups are running, new items gather for the next one, so a busy server makes
// bigger groups and an idle one answers a lone request at once. Each item's promise
// settles with its own result or its own error.

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupOptions {
  /** how long the first item of a group waits for others (0: only while every slot is busy) */
  maxWaitMs: number;
  /** most items in one group */
  maxSize: number;
  /** groups running at once */
  concurrency: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export class GroupCommit<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = 0;
  private readonly idle: (() => void)[] = [];
  /** groups run so far and the items in them (for the benchmark and /metrics) */
  readonly stats = { groups: 0, items: 0, largest: 0 };

  private readonly run: (items: I[]) => Promise<Settled<O>[]>;
  private readonly opts: GroupOptions;

  constructor(run: (items: I[]) => Promise<Settled<O>[]>, opts: GroupOptions) {
    this.run = run;
    this.opts = opts;
    if (!(opts.maxSize >= 1 && opts.concurrency >= 1 && opts.maxWaitMs >= 0)) throw new RangeError('group commit: maxSize and concurrency ≥ 1, maxWaitMs ≥ 0');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every submitted item has its answer. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.running >= this.opts.concurrency) return; // a finishing group starts the next
    if (this.queue.length >= this.opts.maxSize || this.opts.maxWaitMs === 0) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.opts.maxWaitMs);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const group = this.queue.splice(0, this.opts.maxSize);
      this.running++;
      this.stats.groups++;
      this.stats.items += group.length;
      this.stats.largest = Math.max(this.stats.largest, group.length);
      void this.runGroup(group);
    }
  }

  private async runGroup(group: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.run(group.map((w) => w.item));
      group.forEach((w, i) => {
        const r = results[i];
        if (!r) w.reject(new Error('group commit: no answer for an item'));
        else if (r.ok) w.resolve(r.value);
        else w.reject(r.error);
      });
    } catch (error) {
      for (const w of group) w.reject(error);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.flush();
      else if (this.running === 0) for (const r of this.idle.splice(0)) r();
    }
  }
}
