/**
 * Appends to one stream in one write batch update the stream's row once, at
 * the end of the batch or before any other kind of write. The row must still
 * end up exactly as the appends left the stream: checked here by opening the
 * database afresh, which reads rows rather than the writer's cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { StreamMeta } from '../../src/storage/types.js';
import { appendRequest, createRequest, type AppendOptions } from './store-harness.js';

let dir: string;
let file: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-rows-'));
  file = join(dir, 'tether.db');
  store = new SqliteStore({ filename: file, durability: 'fsync' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const create = (path: string, ttlSeconds: number | null = null) => createRequest(path, { ttlSeconds, now: 1 });
const append = (path: string, data: string, extra: AppendOptions = {}) => appendRequest(path, { raw: data, now: 2, ...extra });
const connection = (s: SqliteStore) => (s as unknown as { db: Database.Database }).db;
const changes = () => (connection(store).prepare('SELECT total_changes() AS n').get() as { n: number }).n;

/** The stream as a fresh store reads it from the file. */
async function reread(path: string): Promise<StreamMeta | null> {
  await store.close();
  store = new SqliteStore({ filename: file, durability: 'fsync' });
  const found = await store.lookup(path, 3);
  return found.kind === 'found' ? found.meta : null;
}

describe('stream rows under batched appends (SQLite)', () => {
  it('updates a stream row once for all its appends in a batch', async () => {
    await store.createStream(create('one'));
    const before = changes();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(append('one', `m${i % 10}`))));
    expect(outcomes.map((o) => o.kind)).toEqual(Array(20).fill('appended'));
    // 20 rows inserted, one stream row updated.
    expect(changes() - before).toBe(21);
    expect(await reread('one')).toMatchObject({ tail: 40, closed: false });
  });

  it('leaves the row as the last append left it, closing and seq included', async () => {
    await store.createStream(create('s'));
    const outcomes = await Promise.all([
      store.append(append('s', 'ab', { streamSeq: '1' })),
      store.append(append('s', 'cd', { streamSeq: '2', close: true })),
      store.append(append('s', 'ef', { streamSeq: '3' })),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['appended', 'appended', 'stream-closed']);
    expect(await reread('s')).toMatchObject({ tail: 4, closed: true, streamSeq: '2' });
  });

  it('writes the rows out before another kind of write in the same batch', async () => {
    await store.createStream(create('ttl', 60));
    const outcomes = await Promise.all([
      store.append(append('ttl', 'abc', { now: 5 })),
      // Not an append: it reads and rewrites the row, and must find the append's tail there.
      store.touch(1, 7),
      store.createStream(create('other')),
      store.append(append('ttl', 'de', { now: 8 })),
      store.deleteStream('other', 9),
    ]);
    expect(outcomes[0]).toMatchObject({ kind: 'appended' });
    expect(outcomes[3]).toMatchObject({ kind: 'appended', meta: { tail: 5 } });
    expect(outcomes[4]).toMatchObject({ kind: 'deleted' });
    expect(await reread('ttl')).toMatchObject({ tail: 5, lastAccessAt: 8 });
    expect(await reread('other')).toBeNull();
  });

  it('keeps appends to many streams in one batch apart', async () => {
    const paths = Array.from({ length: 8 }, (_, i) => `p${i}`);
    for (const path of paths) await store.createStream(create(path));
    await Promise.all(paths.flatMap((path, i) => Array.from({ length: i + 1 }, () => store.append(append(path, 'x')))));
    for (const [i, path] of paths.entries()) expect(await reread(path)).toMatchObject({ tail: i + 1 });
  });
});
