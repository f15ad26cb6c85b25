/**
 * Appended rows land in `stream_log` and move into `stream_rows` in bulk once
 * the log is over its limits. A read must see a stream's rows whichever
 * table holds them, in order and exactly once, and the in-memory copy of the
 * log must follow the writer's transaction through rollbacks, deletes and
 * restarts. The limits are set low here so tests cross them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { StreamLogLimits } from '../../src/storage/sqlite/stream-log.js';
import type { StreamMeta } from '../../src/storage/types.js';
import { JSON_TYPE, OCTET, appendRequest, createRequest } from './store-harness.js';

let dir: string;
let file: string;
let store: SqliteStore;
const LIMITS: StreamLogLimits = { rows: 10, bytes: 1 << 20 };

const open = (limits: StreamLogLimits = LIMITS) => new SqliteStore({ filename: file, durability: 'fsync', streamLog: limits });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-log-'));
  file = join(dir, 'tether.db');
  store = open();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const db = () => (store as unknown as { db: Database.Database }).db;
const count = (table: string) => (db().prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const message = (stream: number, i: number) => JSON.stringify({ s: stream, i, text: `m${i}, [quoted "${i}"]` });

async function meta(path: string): Promise<StreamMeta> {
  const found = await store.lookup(path, 1);
  if (found.kind !== 'found') throw new Error(`${path}: ${found.kind}`);
  return found.meta;
}

/** Every message of a JSON stream from `from` on, read in reads of at most `maxBytes`. */
async function readAll(path: string, from = 0, maxBytes = 1 << 20): Promise<unknown[]> {
  const m = await meta(path);
  const out: unknown[] = [];
  let position = from;
  while (position < m.tail) {
    const result = await store.read(m, position, m.tail, maxBytes);
    expect(result.next).toBeGreaterThan(position);
    for (const item of result.items) out.push(...(JSON.parse(`[${item.toString('utf8')}]`) as unknown[]));
    position = result.next;
  }
  return out;
}

describe('the SQLite stream log', () => {
  it('reads streams whose rows are split between the log and the clustered table', async () => {
    const paths = ['a', 'b', 'c'];
    for (const path of paths) await store.createStream(createRequest(path, { contentType: JSON_TYPE }));
    const expected: string[][] = [[], [], []];
    let next = 0;
    // Rounds of concurrent appends (one batch each): single messages and arrays, to every stream.
    for (let round = 0; round < 41; round++) {
      const appends = paths.map((path, s) => {
        const n = (round + s) % 3 === 0 ? 4 : 1;
        const messages = Array.from({ length: n }, () => message(s, next++));
        expected[s]!.push(...messages);
        const raw = n === 1 ? messages[0]! : `[${messages.join(',')}]`;
        return store.append(appendRequest(path, { raw, contentType: JSON_TYPE }));
      });
      expect((await Promise.all(appends)).map((o) => o.kind)).toEqual(['appended', 'appended', 'appended']);
    }
    // Moved at least once, and holding rows now: reads cross from one table into the other.
    expect(count('stream_rows')).toBeGreaterThan(0);
    expect(count('stream_log')).toBeGreaterThan(0);
    expect(count('stream_rows') + count('stream_log')).toBe(next);

    for (const [s, path] of paths.entries()) {
      const all = expected[s]!.map((m) => JSON.parse(m) as unknown);
      // The whole stream in one bulk read: counted and joined across both tables.
      const m = await meta(path);
      const whole = await store.read(m, 0, m.tail, 1 << 20);
      expect(whole.next).toBe(m.tail);
      expect(whole.joined?.toString('utf8')).toBe(expected[s]!.join(','));
      // From every offset, and in small reads (row by row).
      for (let from = 0; from < all.length; from++) expect(await readAll(path, from)).toEqual(all.slice(from));
      expect(await readAll(path, 0, 120)).toEqual(all);
    }
  });

  it('reads a fork whose inherited rows and own rows lie in both tables', async () => {
    await store.createStream(createRequest('src', { contentType: JSON_TYPE }));
    const source = Array.from({ length: 45 }, (_, i) => `src${i}`);
    for (const m of source) await store.append(appendRequest('src', { raw: JSON.stringify(m), contentType: JSON_TYPE }));
    // Moved up to 40; 40..45 still logged, so the fork point at 43 lies in the log.
    expect(count('stream_log')).toBe(5);
    const created = await store.createStream(
      createRequest('f', { contentType: JSON_TYPE, fork: { sourcePath: 'src', offset: 43, subOffset: 0 } }),
    );
    expect(created.kind).toBe('created');
    const own: string[] = [];
    const check = async () => {
      const all = [...source.slice(0, 43), ...own];
      for (let from = 0; from < all.length; from++) expect(await readAll('f', from)).toEqual(all.slice(from));
      expect(await readAll('f', 0, 60)).toEqual(all);
      expect(await readAll('src')).toEqual(source);
    };
    for (let i = 0; i < 3; i++) {
      own.push(`f${i}`);
      await store.append(appendRequest('f', { raw: JSON.stringify(`f${i}`), contentType: JSON_TYPE }));
    }
    expect(count('stream_log')).toBe(8);
    await check();
    for (let i = 3; i < 7; i++) {
      own.push(`f${i}`);
      await store.append(appendRequest('f', { raw: JSON.stringify(`f${i}`), contentType: JSON_TYPE }));
    }
    expect(count('stream_log')).toBe(2);
    await check();
  });

  it('reads a byte stream across the tables, cut at any offset', async () => {
    await store.createStream(createRequest('bytes', { contentType: OCTET }));
    let content = '';
    for (let i = 0; i < 25; i++) {
      const chunk = `<${i}:${'x'.repeat(i % 7)}>`;
      content += chunk;
      await store.append(appendRequest('bytes', { raw: chunk }));
    }
    expect(count('stream_rows')).toBeGreaterThan(0);
    expect(count('stream_log')).toBeGreaterThan(0);
    const m = await meta('bytes');
    for (let from = 0; from < content.length; from += 3) {
      for (const maxBytes of [5, 1 << 20]) {
        let text = '';
        let position = from;
        while (position < m.tail) {
          const result = await store.read(m, position, m.tail, maxBytes);
          text += Buffer.concat(result.items).toString('utf8');
          position = result.next;
        }
        expect(text).toBe(content.slice(from));
      }
    }
  });

  it('moves the log once its bytes are over the limit', async () => {
    await store.close();
    store = open({ rows: 1_000, bytes: 1_000 });
    await store.createStream(createRequest('big', { contentType: OCTET }));
    await store.append(appendRequest('big', { raw: 'y'.repeat(600) }));
    expect(count('stream_log')).toBe(1);
    await store.append(appendRequest('big', { raw: 'z'.repeat(600) }));
    expect(count('stream_log')).toBe(0);
    expect(count('stream_rows')).toBe(2);
  });

  it('drops what a rolled-back write logged, keeping its neighbours in the batch', async () => {
    for (const path of ['s1', 's2']) await store.createStream(createRequest(path, { contentType: JSON_TYPE }));
    db().exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON stream_log WHEN CAST(NEW.data AS TEXT) = '"boom"'
      BEGIN SELECT RAISE(ABORT, 'refused by test'); END`);
    const outcomes = await Promise.allSettled([
      store.append(appendRequest('s1', { raw: '"A"', contentType: JSON_TYPE })),
      store.append(appendRequest('s2', { raw: '["x","boom"]', contentType: JSON_TYPE })),
      store.append(appendRequest('s1', { raw: '"B"', contentType: JSON_TYPE })),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    db().exec('DROP TRIGGER refuse_boom');
    expect(await readAll('s1')).toEqual(['A', 'B']);
    expect((await meta('s2')).tail).toBe(0);
    await store.append(appendRequest('s2', { raw: '"y"', contentType: JSON_TYPE }));
    expect(await readAll('s2')).toEqual(['y']);
    // The copy agrees with the table: a fresh store reads the same.
    await store.close();
    store = open();
    expect(await readAll('s1')).toEqual(['A', 'B']);
    expect(await readAll('s2')).toEqual(['y']);
  });

  it('keeps logged rows across a restart and moves them later', async () => {
    await store.createStream(createRequest('r', { contentType: JSON_TYPE }));
    for (let i = 0; i < 6; i++) await store.append(appendRequest('r', { raw: JSON.stringify(i), contentType: JSON_TYPE }));
    expect(count('stream_log')).toBe(6);
    await store.close();
    store = open();
    expect(await readAll('r')).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 6; i < 12; i++) await store.append(appendRequest('r', { raw: JSON.stringify(i), contentType: JSON_TYPE }));
    // The tenth row took the log to its limit, and its commit moved all ten.
    expect(count('stream_rows')).toBe(10);
    expect(count('stream_log')).toBe(2);
    expect(await readAll('r')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('deletes a stream’s logged rows with it, and only them', async () => {
    for (const path of ['gone', 'kept']) await store.createStream(createRequest(path, { contentType: JSON_TYPE }));
    for (let i = 0; i < 3; i++) {
      await Promise.all(
        ['gone', 'kept'].map((path) => store.append(appendRequest(path, { raw: JSON.stringify(`${path}${i}`), contentType: JSON_TYPE }))),
      );
    }
    expect(count('stream_log')).toBe(6);
    expect((await store.deleteStream('gone', 2)).kind).toBe('deleted');
    expect(count('stream_log')).toBe(3);
    await store.createStream(createRequest('gone', { contentType: JSON_TYPE }));
    await store.append(appendRequest('gone', { raw: '"new"', contentType: JSON_TYPE }));
    expect(await readAll('gone')).toEqual(['new']);
    expect(await readAll('kept')).toEqual(['kept0', 'kept1', 'kept2']);
  });
});
