import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/** Makes every transaction committed so far durable. */
export interface CommitSync {
  /** Starts a sync of everything committed before this call; `done` runs once it is on disk. */
  sync(done: (error: Error | null) => void): void;
  /** The same, blocking the thread; for start-up and shutdown. */
  syncNow(): void;
  close(): void;
}

/**
 * A SQLite database's write-ahead log, synced from libuv's thread pool.
 *
 * With `synchronous=NORMAL` a WAL-mode COMMIT only writes its frames to the
 * log; SQLite itself still syncs the log before a checkpoint copies it into
 * the database, so the database stays consistent. `fdatasync` on this file
 * then makes those frames — every commit made before the call — durable.
 * It works through a descriptor of our own because the kernel flushes a
 * file's pages whichever descriptor wrote them, and SQLite keeps the same
 * file (it rewinds it, never replaces it) while a connection is open.
 */
export class WalFile implements CommitSync {
  private fd: number | null = null;

  constructor(private readonly path: string) {}

  sync(done: (error: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.open();
    } catch (error) {
      queueMicrotask(() => done(error as Error));
      return;
    }
    fdatasync(fd, done);
  }

  syncNow(): void {
    fdatasyncSync(this.open());
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  // Opened on first use: SQLite creates the file with the first write.
  private open(): number {
    this.fd ??= openSync(this.path, 'r+');
    return this.fd;
  }
}
