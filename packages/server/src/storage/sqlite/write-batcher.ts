import type Database from 'better-sqlite3';

interface Outcome {
  ok: boolean;
  value: unknown;
}

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes submitted during one turn of the event loop run in one
 * transaction and share one COMMIT — and so one fsync when the database runs
 * with `synchronous=FULL`. Results are released only after the commit.
 *
 * One failing write must not undo its neighbours. A batch first runs without
 * savepoints, which is the common case and much cheaper: a savepoint makes
 * SQLite copy every page a write touches into a statement journal, and a
 * batch of appends to different streams touches a page per append. If a
 * write throws, the whole transaction is rolled back and the batch runs
 * again with each write in its own savepoint. A write's function may so run
 * twice, and must change nothing but the database and in-memory copies that
 * `onRollback` drops.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;

  // Prepared once: parsing BEGIN/SAVEPOINT text for every write showed up in profiles.
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;

  private readonly maxBatch: number;
  private readonly onRollback: () => void;

  constructor(
    private readonly db: Database.Database,
    options: {
      maxBatch?: number;
      /** Called when a write is rolled back, so in-memory copies of what it wrote can be dropped. */
      onRollback?: () => void;
    } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1024;
    this.onRollback = options.onRollback ?? (() => {});
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
  }

  submit<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs everything queued so far; used on shutdown. */
  drain(): void {
    while (this.queue.length) this.flushOnce();
  }

  close(): void {
    this.drain();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    this.flushOnce();
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flushOnce(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      const first = this.attempt(batch, false);
      // A lone write that failed has no neighbours to keep: its error is its outcome.
      if (!('failed' in first)) outcomes = first;
      else if (batch.length === 1) outcomes = [{ ok: false, value: first.failed }];
      else outcomes = this.attempt(batch, true) as Outcome[];
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.onRollback();
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }

  /**
   * Runs the batch in one transaction and commits it. Without savepoints the
   * first write that throws rolls everything back and its error is returned;
   * with them each failing write is undone alone.
   */
  private attempt(batch: Pending[], savepoints: boolean): Outcome[] | { failed: unknown } {
    const outcomes: Outcome[] = [];
    this.begin.run();
    for (const item of batch) {
      if (!savepoints) {
        try {
          outcomes.push({ ok: true, value: item.run() });
        } catch (error) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          this.onRollback();
          return { failed: error };
        }
        continue;
      }
      this.savepoint.run();
      try {
        outcomes.push({ ok: true, value: item.run() });
        this.release.run();
      } catch (error) {
        this.rollbackTo.run();
        this.release.run();
        this.onRollback();
        outcomes.push({ ok: false, value: error });
      }
    }
    this.commit.run();
    return outcomes;
  }
}
