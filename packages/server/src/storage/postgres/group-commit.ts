/**
 * Group commit for a networked database: requests that queue up while earlier
 * batches are in flight are run together in one transaction, so under load
 * many appends share a few round trips and one WAL flush. At most
 * `maxParallel` batches run at once, leaving pool connections for reads.
 *
 * A key (the stream) is in at most one batch in flight: a second batch for a
 * busy stream would only queue on its row lock while holding a connection and
 * the locks of its other streams, so its requests wait here instead, in
 * arrival order, and join the next batch.
 */
import { isRetryable, isUnavailable, storeError } from './connection.js';

interface Pending<Req, Res> {
  request: Req;
  key: string;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions<Req> {
  maxParallel: number;
  maxBatch: number;
  keyOf: (request: Req) => string;
}

const MAX_ATTEMPTS = 5;

export class GroupCommit<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private readonly busy = new Set<string>();
  private running = 0;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];

  /** `runBatch` runs all requests in one transaction and returns one result per request. */
  constructor(
    private readonly runBatch: (requests: Req[]) => Promise<Res[]>,
    private readonly options: GroupCommitOptions<Req>,
  ) {}

  submit(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, key: this.options.keyOf(request), resolve, reject });
      this.schedule();
    });
  }

  /** Stops taking requests and waits for everything queued to finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.maxParallel) return;
    this.scheduled = true;
    // Wait one turn of the event loop so requests parsed together batch together.
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.options.maxParallel) {
        const batch = this.takeBatch();
        if (batch.length === 0) break;
        void this.start(batch);
      }
    });
  }

  /** Queued requests whose streams no running batch holds, oldest first. */
  private takeBatch(): Pending<Req, Res>[] {
    const batch: Pending<Req, Res>[] = [];
    const rest: Pending<Req, Res>[] = [];
    for (const pending of this.queue) {
      if (batch.length < this.options.maxBatch && !this.busy.has(pending.key)) batch.push(pending);
      else rest.push(pending);
    }
    this.queue = rest;
    return batch;
  }

  private async start(batch: Pending<Req, Res>[]): Promise<void> {
    const keys = new Set(batch.map((p) => p.key));
    for (const key of keys) this.busy.add(key);
    this.running++;
    try {
      await this.settle(batch);
    } finally {
      for (const key of keys) this.busy.delete(key);
      this.running--;
      if (this.queue.length) this.schedule();
      else if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async settle(batch: Pending<Req, Res>[]): Promise<void> {
    let failure: unknown;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const results = await this.runBatch(batch.map((p) => p.request));
        batch.forEach((p, i) => p.resolve(results[i]!));
        return;
      } catch (error) {
        failure = error;
        // A deadlock victim was rolled back whole: running it again is safe.
        if (!isRetryable(error)) break;
      }
    }
    if (batch.length > 1 && !isUnavailable(failure) && !isRetryable(failure)) {
      // One bad request must not fail its neighbours: run each on its own.
      for (const p of batch) await this.settle([p]);
      return;
    }
    const error = storeError(failure);
    for (const p of batch) p.reject(error);
  }
}
