import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../store-errors.js';
import type { CommitSync } from './wal-file.js';

interface Outcome {
  ok: boolean;
  value: unknown;
}

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Leaves some of its changes in `DeferredWrites` instead of the database. */
  deferrable?: boolean;
}

/**
 * Changes writes leave in memory to be written once for many of them (an
 * append's update of its stream's row, say). `flush` writes them out; the
 * batcher calls it before COMMIT, before each write that is not
 * `deferrable` (which may read or change the same rows), and before each
 * savepoint, so a rolled-back savepoint never holds another write's changes.
 * `discard` drops them when the whole transaction rolls back.
 */
export interface DeferredWrites {
  flush(): void;
  discard(): void;
}

/** A committed batch whose results wait for its commit to be made durable. */
interface Committed {
  batch: Pending[];
  outcomes: Outcome[];
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
 *
 * With a `sync` (the durable mode), COMMIT does not wait for the disk: the
 * batch's results are held until a sync started after its commit completes,
 * on another thread, while this one goes on taking requests. Nothing
 * commits while a sync runs: writes arriving meanwhile queue up and commit
 * together when it ends, so the next sync covers them all. A committed
 * batch is visible to this connection before it is durable, so reads must
 * go through `read()`, which holds a read while a sync runs. Nothing a power
 * failure could take back is ever shown.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  /** Committed, and no sync started since: only ever more than one batch while draining. */
  private unsynced: Committed[] = [];
  /** What the running sync covers; null when none runs. */
  private syncing: Committed[] | null = null;
  private readers: Pending[] = [];
  /** Set when a sync failed: what was committed may not be on disk, so nothing more is served. */
  private failure: StoreUnavailableError | null = null;

  // Prepared once: parsing BEGIN/SAVEPOINT text for every write showed up in profiles.
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;

  private readonly maxBatch: number;
  private readonly onRollback: () => void;
  private readonly durability: CommitSync | null;
  private readonly deferred: DeferredWrites | null;
  private readonly beforeCommit: () => void;

  constructor(
    private readonly db: Database.Database,
    options: {
      maxBatch?: number;
      /** Called when a write is rolled back, so in-memory copies of what it wrote can be dropped. */
      onRollback?: () => void;
      /** Makes commits durable after COMMIT returns; without it a commit counts as done when it returns. */
      sync?: CommitSync;
      deferred?: DeferredWrites;
      /** Runs in each batch's transaction just before COMMIT, after the deferred writes. */
      beforeCommit?: () => void;
    } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1024;
    this.onRollback = options.onRollback ?? (() => {});
    this.durability = options.sync ?? null;
    this.deferred = options.deferred ?? null;
    this.beforeCommit = options.beforeCommit ?? (() => {});
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
  }

  submit<T>(run: () => T, options?: { deferrable?: boolean }): Promise<T> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject, deferrable: options?.deferrable });
      this.schedule();
    });
  }

  /**
   * Runs a read of the database once everything committed is durable: at
   * once when no sync runs, else right after the running one ends.
   */
  read<T>(run: () => T | Promise<T>): Promise<T> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (this.durable()) {
      try {
        return Promise.resolve(run());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.readers.push({ run, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Throws the sync failure that stopped this writer, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.drain();
    this.closed = true;
    this.durability?.close();
  }

  /** Commits everything queued and makes it durable, blocking; used on shutdown. */
  private drain(): void {
    while (this.queue.length) this.flushOnce();
    if (this.failure) return;
    const waiting = [...(this.syncing ?? []), ...this.unsynced];
    this.syncing = null;
    this.unsynced = [];
    if (waiting.length) {
      try {
        this.durability!.syncNow();
      } catch (error) {
        this.fail(error, waiting);
        return;
      }
    }
    for (const committed of waiting) settle(committed);
    this.runReaders();
  }

  private refusal(): Error | null {
    if (this.failure) return this.failure;
    return this.closed ? new Error('store is closed') : null;
  }

  private durable(): boolean {
    return this.syncing === null && this.unsynced.length === 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    // The sync's end commits what queued up meanwhile (after the reads it held).
    if (this.syncing) return;
    this.flushOnce();
    if (this.queue.length) this.schedule();
  }

  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    this.durability!.sync((error) => this.synced(covered, error));
  }

  private synced(covered: Committed[], error: Error | null): void {
    // Shutdown or an earlier failure has already answered these.
    if (this.syncing !== covered) return;
    this.syncing = null;
    if (error) {
      this.fail(error, [...covered, ...this.unsynced]);
      return;
    }
    for (const committed of covered) settle(committed);
    // Nothing commits while a sync runs, so what this connection sees is durable again.
    this.runReaders();
  }

  private runReaders(): void {
    const readers = this.readers;
    this.readers = [];
    for (const reader of readers) {
      try {
        reader.resolve(reader.run());
      } catch (error) {
        reader.reject(error);
      }
    }
    if (this.queue.length) this.schedule();
  }

  /**
   * A failed sync leaves commits that may or may not be on disk (and whose
   * pages the kernel may have dropped): like a database that panics, this
   * writer refuses everything from now on (503 `STORE_UNAVAILABLE`) and the
   * server must restart.
   */
  private fail(error: unknown, committed: Committed[]): void {
    this.failure = new StoreUnavailableError('the write-ahead log could not be synced to disk; restart the server', {
      cause: error,
    });
    this.syncing = null;
    this.unsynced = [];
    const refused = [...committed.flatMap((c) => c.batch), ...this.readers, ...this.queue];
    this.readers = [];
    this.queue = [];
    for (const item of refused) item.reject(this.failure);
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
      this.rollbackAll();
      for (const item of batch) item.reject(error);
      return;
    }
    if (!this.durability) return settle({ batch, outcomes });
    this.unsynced.push({ batch, outcomes });
    this.startSync();
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
          if (!item.deferrable) this.deferred?.flush();
          outcomes.push({ ok: true, value: item.run() });
        } catch (error) {
          this.rollbackAll();
          return { failed: error };
        }
        continue;
      }
      this.deferred?.flush();
      this.savepoint.run();
      try {
        outcomes.push({ ok: true, value: item.run() });
        this.release.run();
      } catch (error) {
        this.rollbackTo.run();
        this.release.run();
        // Flushed before the savepoint: what is left is the failed write's own.
        this.deferred?.discard();
        this.onRollback();
        outcomes.push({ ok: false, value: error });
      }
    }
    this.deferred?.flush();
    this.beforeCommit();
    this.commit.run();
    return outcomes;
  }

  private rollbackAll(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.deferred?.discard();
    this.onRollback();
  }
}

function settle({ batch, outcomes }: Committed): void {
  batch.forEach((item, i) => {
    const outcome = outcomes[i]!;
    if (outcome.ok) item.resolve(outcome.value);
    else item.reject(outcome.value);
  });
}
