/**
 * Database outages, simulated with a TCP proxy between replica A and
 * PostgreSQL. Replica B talks to the database directly, standing in for the
 * rest of the fleet. While the link is cut A must say so (503
 * STORE_UNAVAILABLE, failing /readyz), write nothing half-way and tell its
 * readers nothing false; once the link is back it must recover by itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { ADMIN_URL, createScratchDatabase, databaseUrl, requirePostgres, type ScratchDatabase } from '../support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { longPollReader, sseReader } from './live-clients.js';

const available = await requirePostgres('database fault handling');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)('when PostgreSQL becomes unreachable', () => {
  let database: ScratchDatabase;
  let proxy: TcpProxy;
  let a: RunningServer;
  let b: RunningServer;
  let auth: Record<string, string>;
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await createScratchDatabase();
    const target = new URL(ADMIN_URL);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    const proxied = new URL(databaseUrl(database.name));
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    // Long enough that no reader times out during an outage: only the
    // notifier's reconnect can wake them.
    const live = { longPollTimeoutMs: 15_000, sseKeepAliveMs: 15_000, sseMaxDurationMs: 60_000, logLevel: 'silent' as const };
    a = await startServer({ port: 0, postgresUrl: proxied.toString(), dataDir: mkdtempSync(join(tmpdir(), 'tether-pg-')), ...live });
    b = await startServer({ port: 0, postgresUrl: database.url, dataDir: mkdtempSync(join(tmpdir(), 'tether-pg-')), ...live });
    // `a` started first on the empty database and made its admin key; both replicas accept it.
    auth = { authorization: `Bearer ${await adminKeyOf(a)}` };
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await proxy?.restore();
    await Promise.all([a?.stop(), b?.stop()]);
    await sql?.end({ timeout: 1 });
    await proxy?.close();
    await database?.drop();
  });

  const url = (server: RunningServer, path: string) => `${server.url}/v1/stream/${path}`;
  const create = (server: RunningServer, path: string) =>
    fetch(url(server, path), { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } });
  const append = (server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(server, path), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const expectUnavailable = async (res: Response) => {
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('STORE_UNAVAILABLE');
    expect(typeof body.error.message).toBe('string');
  };
  const waitReady = async (server: RunningServer, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${server.url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
      if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms`);
      await sleep(100);
    }
  };
  const tailOf = async (path: string) => {
    const rows = await sql<{ tail: number }[]>`SELECT tail::int FROM streams WHERE path = ${`/v1/stream/${path}`}`;
    return rows[0]?.tail ?? null;
  };

  it('answers 503 STORE_UNAVAILABLE, fails /readyz and writes nothing; recovers without a restart', async () => {
    expect((await create(a, 'f/basic')).status).toBe(201);
    expect((await append(a, 'f/basic', { n: 1 })).status).toBe(204);
    await proxy.cut();
    try {
      const ready = await fetch(`${a.url}/readyz`);
      await expectUnavailable(ready);
      expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
      await expectUnavailable(await append(a, 'f/basic', { n: 2 }));
      await expectUnavailable(await append(a, 'f/basic', [{ n: 3 }, { n: 4 }], { 'stream-closed': 'true' }));
      await expectUnavailable(await create(a, 'f/never'));
      await expectUnavailable(await fetch(url(a, 'f/basic'), { headers: auth }));
      await expectUnavailable(await fetch(`${url(a, 'f/basic')}?offset=-1&live=long-poll`, { headers: auth }));
      await expectUnavailable(await fetch(url(a, 'f/basic'), { headers: auth, method: 'DELETE' }));
      expect((await fetch(url(a, 'f/basic'), { headers: auth, method: 'HEAD' })).status).toBe(503);
      // Nothing reached the database.
      expect(await tailOf('f/basic')).toBe(1);
      expect(await tailOf('f/never')).toBeNull();
    } finally {
      await proxy.restore();
    }
    await waitReady(a);
    expect((await append(a, 'f/basic', { n: 2 })).status).toBe(204);
    const read = await fetch(`${url(a, 'f/basic')}?offset=-1`, { headers: auth });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(read.headers.get('stream-closed')).toBeNull();
  });

  it('never commits part of an append, and producers retrying through the outage land exactly once', async () => {
    expect((await create(a, 'f/load')).status).toBe(201);
    const writers = 8;
    const perWriter = 30;
    let unavailable = 0;
    const writer = async (w: number) => {
      for (let seq = 0; seq < perWriter; seq++) {
        const body = [0, 1, 2].map((part) => ({ w, seq, part }));
        const headers = { 'producer-id': `w${w}`, 'producer-epoch': '0', 'producer-seq': String(seq) };
        // Retry the same (producer, seq) until acknowledged: an append whose
        // commit raced the cut is then either deduplicated or written once.
        for (;;) {
          const res = await append(a, 'f/load', body, headers);
          if (res.status === 200 || res.status === 204) break;
          await expectUnavailable(res);
          unavailable++;
          await sleep(50);
        }
      }
    };
    const load = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    await sleep(250);
    await proxy.cut();
    await sleep(600);
    await proxy.restore();
    await load;
    expect(unavailable).toBeGreaterThan(0);

    const res = await fetch(`${url(b, 'f/load')}?offset=-1`, { headers: auth });
    const messages = (await res.json()) as { w: number; seq: number; part: number }[];
    expect(messages).toHaveLength(writers * perWriter * 3);
    const next = new Map<number, number>();
    for (let k = 0; k < messages.length; k += 3) {
      const group = messages.slice(k, k + 3);
      // Each append's three messages are adjacent and complete.
      expect(group.map((m) => m.part)).toEqual([0, 1, 2]);
      expect(new Set(group.map((m) => `${m.w}/${m.seq}`)).size).toBe(1);
      // Each producer's appends appear once, in order.
      expect(group[0]!.seq).toBe(next.get(group[0]!.w) ?? 0);
      next.set(group[0]!.w, group[0]!.seq + 1);
    }
    const producers = await sql<{ last_seq: number }[]>`SELECT last_seq::int FROM producers`;
    expect(producers.map((p) => p.last_seq)).toEqual(Array(writers).fill(perWriter - 1));
  });

  it('live readers learn what was appended during and after the outage, and nothing else', async () => {
    expect((await create(b, 'f/live')).status).toBe(201);
    expect((await append(b, 'f/live', { n: 0 })).status).toBe(204);
    const sse = await sseReader(url(a, 'f/live'), '-1', auth);
    const poll = longPollReader(url(a, 'f/live'), '-1', auth);
    try {
      expect(await sse.waitFor(1)).toEqual([{ n: 0 }]);
      expect(await poll.waitFor(1)).toEqual([{ n: 0 }]);
      await sleep(100);
      await proxy.cut();
      // Written elsewhere while A cannot hear about it.
      expect((await append(b, 'f/live', { n: 1 })).status).toBe(204);
      await sleep(500);
      expect(sse.messages).toEqual([{ n: 0 }]);
      expect(poll.messages).toEqual([{ n: 0 }]);
      await proxy.restore();
      // A's notifier reconnects and re-checks the store: nothing was missed.
      expect(await sse.waitFor(2)).toEqual([{ n: 0 }, { n: 1 }]);
      expect(await poll.waitFor(2)).toEqual([{ n: 0 }, { n: 1 }]);
      // And notifications flow again.
      expect((await append(b, 'f/live', { n: 2 })).status).toBe(204);
      expect(await sse.waitFor(3)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      expect(await poll.waitFor(3)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      await sleep(200);
      expect(sse.messages).toHaveLength(3);
      expect(poll.messages).toHaveLength(3);
    } finally {
      sse.stop();
      poll.stop();
    }
  });
});
