/**
 * Two real `tether serve` processes on one PostgreSQL database, as behind a
 * load balancer: what one replica writes, readers on the other see, in
 * order, exactly once; concurrent writers on both never collide; producer
 * fencing holds no matter which replica a producer reaches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/postgres.js';
import { longPollReader, sseReader } from './live-clients.js';

const available = await requirePostgres('cross-replica delivery');

describe.skipIf(!available)('two replicas on one PostgreSQL database', () => {
  let database: ScratchDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let auth: Record<string, string>;

  beforeAll(async () => {
    database = await createScratchDatabase();
    // Started together: both race to apply the migrations.
    [a, b] = await Promise.all([
      startServerProcess(['--postgres', database.url, '--long-poll-timeout-ms', '2000']),
      startServerProcess(['--postgres', database.url, '--long-poll-timeout-ms', '2000']),
    ]);
    // One of the two made the database's admin key; it is good on both.
    auth = { authorization: `Bearer ${(a.adminKey ?? b.adminKey)!}` };
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  const streamUrl = (server: ServerProcess, path: string) => `${server.url}/v1/stream/${path}`;
  const create = async (server: ServerProcess, path: string) => {
    const res = await fetch(streamUrl(server, path), { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
  };
  const append = (server: ServerProcess, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(streamUrl(server, path), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const readAll = async (server: ServerProcess, path: string): Promise<unknown[]> => {
    const all: unknown[] = [];
    let offset = '-1';
    for (;;) {
      const res = await fetch(`${streamUrl(server, path)}?offset=${offset}`, { headers: auth });
      expect(res.status).toBe(200);
      all.push(...((await res.json()) as unknown[]));
      offset = res.headers.get('stream-next-offset')!;
      if (res.headers.get('stream-up-to-date') === 'true') return all;
    }
  };

  it('readers on B see every message written on A, in order, exactly once', async () => {
    await create(a, 'x/feed');
    const sse = await sseReader(streamUrl(b, 'x/feed'), '-1', auth);
    const poll = longPollReader(streamUrl(b, 'x/feed'), '-1', auth);
    try {
      const count = 150;
      for (let i = 0; i < count; i++) {
        const res = await append(a, 'x/feed', { i });
        expect(res.status).toBe(204);
        // Now and then let the readers catch up, so some messages arrive live
        // one by one and not all in one catch-up read.
        if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const expected = Array.from({ length: count }, (_, i) => ({ i }));
      expect(await sse.waitFor(count)).toEqual(expected);
      expect(await poll.waitFor(count)).toEqual(expected);
      // Nothing more arrives: exactly once.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sse.messages).toHaveLength(count);
      expect(poll.messages).toHaveLength(count);
    } finally {
      sse.stop();
      poll.stop();
    }
  });

  it('a long-poll on B waiting at the tail is woken by an append on A', async () => {
    await create(a, 'x/wake');
    const started = Date.now();
    const poll = fetch(`${streamUrl(b, 'x/wake')}?offset=now&live=long-poll`, { headers: auth });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await append(a, 'x/wake', { hello: 'b' })).status).toBe(204);
    const res = await poll;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ hello: 'b' }]);
    // Woken by the notification, well before the 2 s long-poll timeout.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('concurrent writers on both replicas get strictly increasing offsets, nothing lost or duplicated', async () => {
    await create(a, 'x/shared');
    const writersPerReplica = 6;
    const appendsPerWriter = 40;
    const offsets: string[] = [];
    const writer = async (server: ServerProcess, w: string) => {
      const mine: string[] = [];
      for (let i = 0; i < appendsPerWriter; i++) {
        // Arrays are flattened: each append is two messages that must stay adjacent.
        const res = await append(server, 'x/shared', [{ w, i, part: 0 }, { w, i, part: 1 }]);
        expect(res.status).toBe(204);
        mine.push(res.headers.get('stream-next-offset')!);
      }
      // One writer's appends are sequential, so its offsets must rise.
      expect([...mine].sort()).toEqual(mine);
      expect(new Set(mine).size).toBe(mine.length);
      offsets.push(...mine);
    };
    await Promise.all(
      Array.from({ length: writersPerReplica * 2 }, (_, n) => writer(n % 2 ? b : a, `${n % 2 ? 'b' : 'a'}${n}`)),
    );
    const total = writersPerReplica * 2 * appendsPerWriter;
    // Every acknowledged append ended at a different position.
    expect(new Set(offsets).size).toBe(total);

    for (const reader of [a, b]) {
      const messages = (await readAll(reader, 'x/shared')) as { w: string; i: number; part: number }[];
      expect(messages).toHaveLength(total * 2);
      const seen = new Set<string>();
      const nextOf = new Map<string, number>();
      for (let k = 0; k < messages.length; k += 2) {
        const [first, second] = [messages[k]!, messages[k + 1]!];
        expect([first.part, second.part]).toEqual([0, 1]);
        expect(second.w).toBe(first.w);
        expect(second.i).toBe(first.i);
        const key = `${first.w}/${first.i}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        // Each writer's appends appear in the order it made them.
        expect(first.i).toBe(nextOf.get(first.w) ?? 0);
        nextOf.set(first.w, first.i + 1);
      }
      expect(seen.size).toBe(total);
    }
  });

  it('idempotent-producer fencing and deduplication hold across replicas', async () => {
    await create(a, 'x/producer');
    const producer = (epoch: number, seq: number) => ({
      'producer-id': 'runner-1',
      'producer-epoch': String(epoch),
      'producer-seq': String(seq),
    });
    expect((await append(a, 'x/producer', { from: 'old', n: 0 }, producer(0, 0))).status).toBe(200);
    expect((await append(b, 'x/producer', { from: 'old', n: 1 }, producer(0, 1))).status).toBe(200);
    // A retry of seq 1 reaching the other replica is recognised as a duplicate.
    const retry = await append(a, 'x/producer', { from: 'old', n: 1 }, producer(0, 1));
    expect(retry.status).toBe(204);
    // A successor claims epoch 1 on B; the old producer writing to A is fenced.
    expect((await append(b, 'x/producer', { from: 'new', n: 0 }, producer(1, 0))).status).toBe(200);
    const stale = await append(a, 'x/producer', { from: 'old', n: 2 }, producer(0, 2));
    expect(stale.status).toBe(403);
    expect(stale.headers.get('producer-epoch')).toBe('1');
    // A gap is refused on either replica.
    const gap = await append(a, 'x/producer', { from: 'new', n: 5 }, producer(1, 5));
    expect(gap.status).toBe(409);
    expect(gap.headers.get('producer-expected-seq')).toBe('1');
    expect(await readAll(b, 'x/producer')).toEqual([
      { from: 'old', n: 0 },
      { from: 'old', n: 1 },
      { from: 'new', n: 0 },
    ]);
  });
});
