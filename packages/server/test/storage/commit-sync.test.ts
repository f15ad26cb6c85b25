/**
 * Durable commits with the sync off the event loop, on a real SQLite file:
 * results wait for the sync that follows their commit, writes that arrive
 * while a sync runs commit together after it, and no read sees a commit
 * before it is durable. The sync here is held open by the test, so each step can be
 * looked at; the last tests use the real write-ahead-log sync.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, WAL_CHECKPOINT_PAGES } from '../../src/storage/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/storage/store-errors.js';
import { WalFile, type CommitSync } from '../../src/storage/sqlite/wal-file.js';
import { WriteBatcher } from '../../src/storage/sqlite/write-batcher.js';
import { appendRequest, createRequest } from './store-harness.js';

const create = (path: string, body: string) => createRequest(path, { body: Buffer.from(body), now: 1 });
const append = (path: string, data: string) => appendRequest(path, { raw: data, now: 2 });

/** A sync the test completes (or fails) by hand. */
class HeldSync implements CommitSync {
  pending: ((error: Error | null) => void)[] = [];
  started = 0;
  blocking = 0;
  closed = false;
  sync(done: (error: Error | null) => void): void {
    this.started++;
    this.pending.push(done);
  }
  syncNow(): void {
    this.blocking++;
  }
  close(): void {
    this.closed = true;
  }
  complete(error: Error | null = null): void {
    const done = this.pending.shift();
    if (!done) throw new Error('no sync is running');
    done(error);
  }
}

/** Lets setImmediate callbacks (the batcher's flushes) and the microtasks after them run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

let dir: string;
let db: Database.Database;
let other: Database.Database;
let sync: HeldSync;
let batcher: WriteBatcher;

const insert = (k: string) => db.prepare('INSERT INTO t (k) VALUES (?)').run(k).changes;
const count = (conn: Database.Database) => (conn.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-sync-'));
  db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  other = new Database(join(dir, 'db.sqlite'));
  sync = new HeldSync();
  batcher = new WriteBatcher(db, { sync });
});

afterEach(() => {
  other.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WriteBatcher with a commit sync', () => {
  it('holds a result until the sync started after its commit completes', async () => {
    const write = watch(batcher.submit(() => insert('a')));
    await turn();
    expect(count(other)).toBe(1);
    expect(sync.started).toBe(1);
    await turn();
    expect(write.settled).toBe(false);
    sync.complete();
    await turn();
    expect(write).toEqual({ settled: true, value: 1 });
  });

  it('commits the writes that arrive while a sync runs together, once it ends', async () => {
    const first = watch(batcher.submit(() => insert('a')));
    await turn();
    const second = watch(batcher.submit(() => insert('b')));
    await turn();
    const third = watch(batcher.submit(() => insert('c')));
    await turn();
    // Only the first is committed; the others wait for its sync.
    expect(count(other)).toBe(1);
    expect(sync.started).toBe(1);
    sync.complete();
    await turn();
    expect([first.settled, second.settled, third.settled]).toEqual([true, false, false]);
    expect(count(other)).toBe(3);
    // One sync for both.
    expect(sync.started).toBe(2);
    sync.complete();
    await turn();
    expect([second.value, third.value]).toEqual([1, 1]);
  });

  it('releases a refused write only with its batch, after the sync', async () => {
    const first = batcher.submit(() => insert('a'));
    await turn();
    sync.complete();
    await first;
    const refused = watch(batcher.submit(() => insert('a')));
    await turn();
    await turn();
    expect(refused.settled).toBe(false);
    sync.complete();
    await turn();
    expect(String(refused.error)).toMatch(/UNIQUE/);
  });

  it('runs a read once everything committed is durable, before the writes that queued behind it', async () => {
    const write = watch(batcher.submit(() => insert('a')));
    await turn();
    const read = watch(batcher.read(() => count(db)));
    const later = watch(batcher.submit(() => insert('b')));
    await turn();
    await turn();
    expect(read.settled).toBe(false);
    // The later write is held back: the read must see the database as it is durable.
    expect(count(other)).toBe(1);
    sync.complete();
    await turn();
    expect(write.value).toBe(1);
    expect(read).toEqual({ settled: true, value: 1 });
    await turn();
    expect(count(other)).toBe(2);
    expect(later.settled).toBe(false);
    sync.complete();
    await turn();
    expect(later.value).toBe(1);
  });

  it('reads at once when nothing is waiting for the disk', async () => {
    await turn();
    const read = batcher.read(() => count(db));
    // Settled before any I/O or timer: one microtask is enough.
    const state = watch(read);
    await Promise.resolve();
    await Promise.resolve();
    expect(state).toEqual({ settled: true, value: 0 });
  });

  it('refuses everything after a failed sync', async () => {
    const write = watch(batcher.submit(() => insert('a')));
    await turn();
    batcher.submit(() => insert('b')).catch(() => {});
    await turn();
    const read = watch(batcher.read(() => count(db)));
    sync.complete(new Error('EIO'));
    await turn();
    expect(String(write.error)).toMatch(/could not be synced/);
    expect(write.error).toBeInstanceOf(StoreUnavailableError);
    expect((write.error as StoreUnavailableError).code).toBe('STORE_UNAVAILABLE');
    expect((write.error as Error).cause).toEqual(new Error('EIO'));
    expect(String(read.error)).toMatch(/could not be synced/);
    expect(() => batcher.check()).toThrow(/could not be synced/);
    await expect(batcher.submit(() => insert('c'))).rejects.toThrow(/could not be synced/);
    await expect(batcher.read(() => 1)).rejects.toThrow(/could not be synced/);
  });

  it('makes pending commits durable on close, blocking', async () => {
    const write = watch(batcher.submit(() => insert('a')));
    await turn();
    const queued = watch(batcher.submit(() => insert('b')));
    batcher.close();
    expect(sync.blocking).toBe(1);
    expect(sync.closed).toBe(true);
    await turn();
    expect([write.value, queued.value]).toEqual([1, 1]);
    // The sync that was running when it closed has nothing left to answer.
    sync.complete();
    expect(count(other)).toBe(2);
  });
});

describe('SqliteStore in fsync mode', () => {
  it('shows an append to readers only once it is durable', async () => {
    const held = new HeldSync();
    const store = new SqliteStore({ filename: join(dir, 'store.db'), durability: 'fsync', commitSync: held });
    try {
      // Opening makes the migrations durable, blocking.
      expect(held.blocking).toBe(1);
      const created = watch(store.createStream(create('s', 'one')));
      await turn();
      held.complete();
      await turn();
      expect(created.value).toMatchObject({ kind: 'created' });
      const appended = watch(store.append(append('s', 'two')));
      await turn();
      const lookup = watch(store.lookup('s', 3));
      await turn();
      expect(lookup.settled).toBe(false);
      held.complete();
      await turn();
      expect(appended.value).toMatchObject({ kind: 'appended' });
      expect(lookup.value).toMatchObject({ kind: 'found', meta: { tail: 6 } });
    } finally {
      await store.close();
    }
  });

  it('holds every kind of read while a commit is waiting for the disk', async () => {
    const held = new HeldSync();
    const store = new SqliteStore({ filename: join(dir, 'reads.db'), durability: 'fsync', commitSync: held });
    const reads: [string, () => Promise<unknown>][] = [
      ['lookup', () => store.lookup('s', 2)],
      ['getById', () => store.getById(1)],
      ['sessions.getSession', () => store.sessions.getSession('default', { id: 'ses_x' })],
      ['sessions.sessionChanges', () => store.sessions.sessionChanges(0, 10)],
      ['turns.listTurns', () => store.turns.listTurns({ sessionId: 'ses_x', beforeSeq: null, limit: 10 })],
      ['turns.countByStatus', () => store.turns.countByStatus()],
      ['transcripts.listMessages', () => store.transcripts.listMessages('ses_x', null, 10)],
      ['sessionData.getState', () => store.sessionData.getState('ses_x')],
      ['auth.findKeyByHash', () => store.auth.findKeyByHash('nothing')],
      ['auth.listProjects', () => store.auth.listProjects()],
    ];
    try {
      const created = store.createStream(create('s', 'one'));
      await turn();
      const pending = reads.map(([name, read]) => [name, watch(read())] as const);
      await turn();
      expect(pending.filter(([, state]) => state.settled).map(([name]) => name)).toEqual([]);
      held.complete();
      await created;
      await turn();
      expect(pending.filter(([, state]) => !state.settled || state.error).map(([name]) => name)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('stops answering, and fails its health check, after a failed sync', async () => {
    const held = new HeldSync();
    const store = new SqliteStore({ filename: join(dir, 'failing.db'), durability: 'fsync', commitSync: held });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
      const created = watch(store.createStream(create('f', '')));
      await turn();
      held.complete(new Error('EIO'));
      await turn();
      expect(String(created.error)).toMatch(/could not be synced/);
      await expect(store.ping()).rejects.toThrow(/could not be synced/);
      await expect(store.lookup('f', 2)).rejects.toThrow(/could not be synced/);
      await expect(store.append(append('f', 'x'))).rejects.toThrow(/could not be synced/);
    } finally {
      await store.close();
    }
  });

  it('syncs the real write-ahead log: concurrent appends all land, and the log survives checkpoints', async () => {
    const store = new SqliteStore({ filename: join(dir, 'real.db'), durability: 'fsync' });
    try {
      await store.createStream(create('r', ''));
      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, () => store.append(append('r', 'x'))),
        );
        expect(outcomes.every((o) => o.kind === 'appended')).toBe(true);
        // Empties the log file; the sync keeps working on the same file.
        (store as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(TRUNCATE)');
      }
      const found = await store.lookup('r', 3);
      expect(found).toMatchObject({ kind: 'found', meta: { tail: 150 } });
    } finally {
      await store.close();
    }
  });

  it('checkpoints the write-ahead log at its configured size and then reuses it', async () => {
    const store = new SqliteStore({ filename: join(dir, 'bounded.db'), durability: 'fsync' });
    const walSize = () => statSync(join(dir, 'bounded.db-wal')).size;
    const frame = 4096 + 24;
    // A batch of appends to 64 streams writes at most a few hundred pages.
    const slack = 400 * frame;
    const limit = 32 + WAL_CHECKPOINT_PAGES * frame + slack;
    try {
      const streams = 64;
      for (let s = 0; s < streams; s++) await store.createStream(create(`b${s}`, ''));
      let largest = 0;
      let rounds = 0;
      let after = -1;
      // Until the log has reached its checkpoint size, and for as many batches again.
      while (rounds < 1000 && (after < 0 || rounds < 2 * after)) {
        await Promise.all(Array.from({ length: streams }, (_, s) => store.append(append(`b${s}`, `"${'x'.repeat(100)}"`))));
        rounds++;
        largest = Math.max(largest, walSize());
        if (after < 0 && largest >= limit - 2 * slack) after = rounds;
        expect(walSize()).toBeLessThanOrEqual(limit);
      }
      expect(after).toBeGreaterThan(0);
      expect(largest).toBeGreaterThanOrEqual(limit - 2 * slack);
      for (let s = 0; s < streams; s++) {
        expect(await store.lookup(`b${s}`, 3)).toMatchObject({ kind: 'found', meta: { tail: rounds * 102 } });
      }
    } finally {
      await store.close();
    }
  });

  it('commits with FULL where there is no log to sync', async () => {
    const synchronous = (store: SqliteStore) => (store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
    const memory = new SqliteStore({ filename: ':memory:', durability: 'fsync' });
    const file = new SqliteStore({ filename: join(dir, 'file.db'), durability: 'fsync' });
    const relaxed = new SqliteStore({ filename: join(dir, 'relaxed.db'), durability: 'relaxed' });
    try {
      // 2 is FULL, 1 is NORMAL.
      expect([synchronous(memory), synchronous(file), synchronous(relaxed)]).toEqual([2, 1, 1]);
    } finally {
      await Promise.all([memory.close(), file.close(), relaxed.close()]);
    }
  });

  it('opens the log it syncs next to the database', () => {
    const wal = new WalFile(join(dir, 'missing.db-wal'));
    expect(() => wal.syncNow()).toThrow(/ENOENT/);
    wal.close();
  });
});
