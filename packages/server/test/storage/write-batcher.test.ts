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
