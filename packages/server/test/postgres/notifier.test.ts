/**
 * The LISTEN/NOTIFY notifier against a real database: a change published on
 * one replica wakes that stream's listeners on another, and only those; a
 * burst shares notifications; a replica whose connection was cut re-reads the
 * streams it watches when it is back.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChange } from '../../src/services/live-hub.js';
import { decodeChanges, encodeChanges, PostgresNotifier } from '../../src/storage/postgres/postgres-notifier.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/postgres.js';

const available = await requirePostgres('LISTEN/NOTIFY notifier');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}

describe('notification payloads', () => {
  it('round-trip ids, tails and flags, and skip what they cannot read', () => {
    const changes: StreamChange[] = [
      { streamId: 1, tail: 0, closed: false, deleted: false },
      { streamId: 9007199254740991, tail: 123456789012, closed: true, deleted: false },
      { streamId: 3, tail: 0, closed: true, deleted: true },
    ];
    expect(decodeChanges(encodeChanges(changes))).toEqual(changes);
    expect(decodeChanges(`garbage;${encodeChanges([changes[0]!])};x:y`)).toEqual([changes[0]]);
  });
});

describe.skipIf(!available)('PostgresNotifier', () => {
  let database: ScratchDatabase;
  let store: PostgresStore;
  let a: PostgresNotifier;
  let b: PostgresNotifier;

  beforeAll(async () => {
    database = await createScratchDatabase();
    const connection = { url: database.url, poolSize: 2, statementTimeoutMs: 10_000, durability: 'fsync' as const };
    store = await PostgresStore.open(connection);
    const currentState = (ids: number[]) => store.streamStates(ids);
    a = await PostgresNotifier.start({ connection, currentState });
    b = await PostgresNotifier.start({ connection, currentState });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await store?.close();
    await database?.drop();
  });

  it('wakes the listeners of the changed stream on every replica, and no others', async () => {
    const onA: StreamChange[] = [];
    const onB: StreamChange[] = [];
    const other: StreamChange[] = [];
    const unsubscribe = [
      a.subscribe(101, (c) => onA.push(c)),
      b.subscribe(101, (c) => onB.push(c)),
      b.subscribe(102, (c) => other.push(c)),
    ];
    try {
      a.publish({ streamId: 101, tail: 5, closed: false, deleted: false });
      // Local listeners are woken at once, without the round trip.
      expect(onA[0]).toEqual({ streamId: 101, tail: 5, closed: false, deleted: false });
      await eventually(() => expect(onB).toContainEqual({ streamId: 101, tail: 5, closed: false, deleted: false }));
      await sleep(100);
      expect(other).toEqual([]);
    } finally {
      unsubscribe.forEach((u) => u());
    }
  });

  it('sends a burst of changes to one stream as few notifications carrying the newest tail', async () => {
    const onB: StreamChange[] = [];
    const unsubscribe = b.subscribe(103, (c) => onB.push(c));
    try {
      for (let tail = 1; tail <= 200; tail++) a.publish({ streamId: 103, tail, closed: tail === 200, deleted: false });
      await eventually(() => expect(onB.at(-1)).toEqual({ streamId: 103, tail: 200, closed: true, deleted: false }));
      expect(onB.length).toBeLessThan(10);
    } finally {
      unsubscribe();
    }
  });

  it('re-reads watched streams after its connection comes back, so a missed change still wakes readers', async () => {
    const now = Date.now();
    const created = await store.createStream({
      path: '/v1/stream/n/missed',
      contentType: 'application/json',
      ttlSeconds: null,
      expiresAt: null,
      closed: false,
      body: Buffer.alloc(0),
      fork: null,
      now,
    });
    if (created.kind !== 'created') throw new Error(created.kind);
    const id = created.meta.id;
    const seen: StreamChange[] = [];
    const unsubscribe = b.subscribe(id, (c) => seen.push(c));
    const admin = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      // Cut every LISTEN connection, then append without publishing anything:
      // only the re-check after reconnecting can tell the listener.
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${database.name} AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
      const appended = await store.append({
        path: '/v1/stream/n/missed',
        contentType: 'application/json',
        body: { kind: 'json', messages: [Buffer.from('{"n":1}'), Buffer.from('{"n":2}')] },
        close: false,
        streamSeq: null,
        producer: null,
        now,
      });
      expect(appended.kind).toBe('appended');
      await eventually(() => expect(seen).toContainEqual({ streamId: id, tail: 2, closed: false, deleted: false }));
      await eventually(() => expect(b.isListening).toBe(true));
    } finally {
      unsubscribe();
      await admin.end({ timeout: 1 });
    }
  });
});
