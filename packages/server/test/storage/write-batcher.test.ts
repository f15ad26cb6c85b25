/**
 * Group commit on a real SQLite file: writes that arrive together share a
 * transaction, a failing write is undone alone and its neighbours commit,
 * and the cheap no-savepoint attempt a batch starts with leaves no trace
 * when it has to be redone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../src/storage/sqlite/write-batcher.js';

let dir: string;
let db: Database.Database;
let rollbacks: number;
let batcher: WriteBatcher;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-batcher-'));
  db = new Database(join(dir, 'db.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  rollbacks = 0;
  batcher = new WriteBatcher(db, { onRollback: () => rollbacks++ });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (k: string, v: number) => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, v);
const rows = () => db.prepare('SELECT k, v FROM t ORDER BY k').all();

describe('WriteBatcher', () => {
  it('commits writes submitted together in one transaction', async () => {
    // Another connection sees only committed data: inside the last write it must see none of the batch.
    const other = new Database(join(dir, 'db.sqlite'));
    const seenByOther: number[] = [];
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        batcher.submit(() => {
          seenByOther.push((other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n);
          return insert(`k${n}`, n).changes;
        }),
      ),
    );
    const afterCommit = (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    other.close();
    expect(results).toEqual([1, 1, 1]);
    expect(seenByOther).toEqual([0, 0, 0]);
    expect(afterCommit).toBe(3);
    expect(db.inTransaction).toBe(false);
  });

  it('undoes only the write that fails; those before and after it commit', async () => {
    const calls: string[] = [];
    const settled = await Promise.allSettled([
      batcher.submit(() => {
        calls.push('a');
        insert('a', 1);
        return 'a';
      }),
      batcher.submit(() => {
        calls.push('bad');
        insert('bad', 1);
        throw new Error('refused after writing');
      }),
      batcher.submit(() => {
        calls.push('c');
        insert('c', (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n);
        return 'c';
      }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    // 'c' saw only 'a': the failed write's row was gone when it ran for real.
    expect(rows()).toEqual([
      { k: 'a', v: 1 },
      { k: 'c', v: 1 },
    ]);
    // The first attempt stopped at the failing write; the redo ran all three again.
    expect(calls).toEqual(['a', 'bad', 'a', 'bad', 'c']);
    expect(rollbacks).toBe(2);
    expect(db.inTransaction).toBe(false);
  });

  it('rejects a lone failing write without running it twice', async () => {
    let runs = 0;
    await expect(
      batcher.submit(() => {
        runs++;
        insert('x', 1);
        insert('x', 2);
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(runs).toBe(1);
    expect(rows()).toEqual([]);
    expect(rollbacks).toBe(1);
    await expect(batcher.submit(() => insert('y', 1).changes)).resolves.toBe(1);
    expect(rows()).toEqual([{ k: 'y', v: 1 }]);
  });

  it('keeps batches after a failed one working', async () => {
    await Promise.allSettled([batcher.submit(() => insert('p', 1)), batcher.submit(() => insert('p', 2))]);
    expect(rows()).toEqual([{ k: 'p', v: 1 }]);
    await Promise.all([batcher.submit(() => insert('q', 1)), batcher.submit(() => insert('r', 1))]);
    expect(rows()).toEqual([
      { k: 'p', v: 1 },
      { k: 'q', v: 1 },
      { k: 'r', v: 1 },
    ]);
  });
});

describe('WriteBatcher with deferred writes', () => {
  // Stands in for a store's in-memory row updates: `pending` is written to the table on flush.
  let pending: Map<string, number>;
  let log: string[];
  let deferring: WriteBatcher;

  beforeEach(() => {
    pending = new Map();
    log = [];
    deferring = new WriteBatcher(db, {
      onRollback: () => rollbacks++,
      deferred: {
        flush: () => {
          if (pending.size) log.push(`flush ${[...pending.keys()].join(',')}`);
          for (const [k, v] of pending) db.prepare('INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
          pending.clear();
        },
        discard: () => {
          if (pending.size) log.push(`discard ${[...pending.keys()].join(',')}`);
          pending.clear();
        },
      },
    });
  });

  const defer = (k: string, v: number) =>
    deferring.submit(
      () => {
        log.push(`defer ${k}`);
        pending.set(k, v);
      },
      { deferrable: true },
    );

  it('writes deferred changes once, before COMMIT', async () => {
    await Promise.all([defer('a', 1), defer('a', 2), defer('a', 3)]);
    expect(log).toEqual(['defer a', 'defer a', 'defer a', 'flush a']);
    expect(rows()).toEqual([{ k: 'a', v: 3 }]);
  });

  it('writes them before a write that is not deferrable, which so sees them', async () => {
    const seen = await Promise.all([
      defer('a', 1),
      deferring.submit(() => {
        log.push('plain');
        return rows();
      }),
      defer('a', 2),
    ]);
    expect(log).toEqual(['defer a', 'flush a', 'plain', 'defer a', 'flush a']);
    expect(seen[1]).toEqual([{ k: 'a', v: 1 }]);
    expect(rows()).toEqual([{ k: 'a', v: 2 }]);
  });

  it('drops them with a rolled-back transaction and keeps the surviving writes’ on the redo', async () => {
    const settled = await Promise.allSettled([
      defer('a', 1),
      deferring.submit(
        () => {
          pending.set('bad', 9);
          throw new Error('refused');
        },
        { deferrable: true },
      ),
      defer('c', 3),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // First attempt: rolled back with a and bad pending. Redo: a flushed before the next savepoint,
    // bad's own change dropped with its savepoint, c written before COMMIT.
    expect(log).toEqual(['defer a', 'discard a,bad', 'defer a', 'flush a', 'discard bad', 'defer c', 'flush c']);
    expect(rows()).toEqual([
      { k: 'a', v: 1 },
      { k: 'c', v: 3 },
    ]);
  });
});
