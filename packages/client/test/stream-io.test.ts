/**
 * The SDK's stream plumbing against a real Tether server: the idempotent
 * producer's header sequencing and the live SSE reader's resumption.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@tether/server';
import { HttpClient, IdempotentProducer, TetherError, followChannel, watchSessions, type FetchLike, type WatchEvent } from '../src/index.js';

let server: RunningServer;
let dataDir: string;
const unique = () => Math.random().toString(36).slice(2, 10);
const auth = () => ({ authorization: `Bearer ${server.createdAdminKey!}` });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tether-client-io-'));
  // Short SSE responses, so the reader's reconnect-and-resume path runs in every test.
  server = await startServer({ port: 0, dataDir, logLevel: 'silent', sseMaxDurationMs: 300 });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function createStream(): Promise<string> {
  const path = `/v1/stream/client-test/${unique()}`;
  const res = await fetch(server.url + path, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' } });
  expect(res.status).toBe(201);
  return path;
}

async function readAll(path: string): Promise<unknown[]> {
  const res = await fetch(`${server.url}${path}?offset=-1`, { headers: auth() });
  return (await res.json()) as unknown[];
}

describe('IdempotentProducer', () => {
  it('sends Producer-Id/Epoch and a Producer-Seq counting from 0, in call order', async () => {
    const path = await createStream();
    const seen: Record<string, string | null>[] = [];
    const recording: FetchLike = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({ id: headers.get('producer-id'), epoch: headers.get('producer-epoch'), seq: headers.get('producer-seq') });
      return fetch(input, init);
    };
    const producer = new IdempotentProducer(new HttpClient({ url: server.url, apiKey: server.createdAdminKey!, fetch: recording }), { path, id: 'runner-a', epoch: 3 });
    // Not awaited one by one: the producer itself must keep them in order.
    const results = await Promise.all([0, 1, 2, 3, 4].map((n) => producer.append({ type: 'custom.n', n })));
    expect(results.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(results.every((r) => !r.duplicate && typeof r.offset === 'string')).toBe(true);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((n) => ({ id: 'runner-a', epoch: '3', seq: String(n) })));
    expect(await readAll(path)).toEqual([0, 1, 2, 3, 4].map((n) => ({ type: 'custom.n', n })));
  });

  it('retries a request whose answer was lost with the same seq, and the server keeps it once', async () => {
    const path = await createStream();
    let dropNext = true;
    // The request reaches the server; the connection dies before the answer comes back.
    const lossy: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      if (dropNext && init?.method === 'POST') {
        dropNext = false;
        throw new TypeError('fetch failed: socket hang up');
      }
      return response;
    };
    const producer = new IdempotentProducer(new HttpClient({ url: server.url, apiKey: server.createdAdminKey!, fetch: lossy }), { path, id: 'p', epoch: 0 });
    const first = await producer.append({ type: 'custom.once' });
    expect(first).toMatchObject({ seq: 0, duplicate: true });
    const second = await producer.append({ type: 'custom.twice' });
    expect(second).toMatchObject({ seq: 1, duplicate: false });
    expect(await readAll(path)).toEqual([{ type: 'custom.once' }, { type: 'custom.twice' }]);
  });

  it('spends no seq on a rejected event', async () => {
    const path = await createStream();
    const producer = new IdempotentProducer(new HttpClient({ url: server.url, apiKey: server.createdAdminKey! }), { path, id: 'p', epoch: 0 });
    await expect(producer.append([])).rejects.toMatchObject({ status: 400 });
    expect(producer.seq).toBe(0);
    expect(await producer.append({ type: 'custom.ok' })).toMatchObject({ seq: 0 });
  });

  it('is fenced by a newer epoch: 403, and every later append fails the same way', async () => {
    const path = await createStream();
    const http = new HttpClient({ url: server.url, apiKey: server.createdAdminKey! });
    const old = new IdempotentProducer(http, { path, id: 'shared', epoch: 1 });
    await old.append({ type: 'custom.old' });
    const successor = new IdempotentProducer(http, { path, id: 'shared', epoch: 2 });
    await successor.append({ type: 'custom.new' });
    const fenced = await old.append({ type: 'custom.late' }).catch((error) => error);
    expect(fenced).toBeInstanceOf(TetherError);
    expect(fenced).toMatchObject({ code: 'PRODUCER_FENCED', status: 403 });
    expect(old.fencedBy).toBe(fenced);
    await expect(old.append({ type: 'custom.later' })).rejects.toBe(fenced);
    expect(await readAll(path)).toEqual([{ type: 'custom.old' }, { type: 'custom.new' }]);
  });
});

describe('followChannel', () => {
  it('reads live across the server ending SSE responses, resuming without loss or repeats', async () => {
    const path = await createStream();
    const http = new HttpClient({ url: server.url, apiKey: server.createdAdminKey! });
    const stop = new AbortController();
    let reconnects = 0;
    const received: unknown[] = [];
    const reading = (async () => {
      for await (const batch of followChannel(http, { path, offset: '-1', signal: stop.signal, onReconnect: () => reconnects++ })) {
        received.push(...batch.events);
        expect(batch.offset).toMatch(/^\d{16}_\d{16}$/);
        if (received.length === 12) stop.abort();
      }
    })();
    for (let i = 0; i < 12; i++) {
      const posted = await fetch(server.url + path, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
      expect(posted.status, await posted.text()).toBe(204);
      await new Promise((resolve) => setTimeout(resolve, 70));
    }
    await reading;
    expect(received).toEqual(Array.from({ length: 12 }, (_, i) => ({ i })));
    expect(reconnects).toBeGreaterThan(0);
  });

  it('resumes from a given offset and ends when the stream is closed', async () => {
    const path = await createStream();
    const post = (body: unknown, close = false) =>
      fetch(server.url + path, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json', ...(close ? { 'stream-closed': 'true' } : {}) },
        body: JSON.stringify(body),
      });
    const first = await post({ n: 1 });
    const after = first.headers.get('stream-next-offset')!;
    await post({ n: 2 });
    await post({ n: 3 }, true);
    const batches = [];
    for await (const batch of followChannel(new HttpClient({ url: server.url, apiKey: server.createdAdminKey! }), { path, offset: after })) batches.push(batch);
    expect(batches.flatMap((b) => b.events)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(batches.at(-1)).toMatchObject({ closed: true, upToDate: true });
  });

  it('reconnects a connection that went silent, and still delivers what comes next', async () => {
    const path = await createStream();
    const stop = new AbortController();
    const reasons: (string | undefined)[] = [];
    const got: unknown[] = [];
    const reading = (async () => {
      // Tether's keep-alives come every 15 s: 100 ms of silence (the server here ends responses after 300 ms) looks like a dead connection.
      for await (const batch of followChannel(new HttpClient({ url: server.url, apiKey: server.createdAdminKey! }), {
        path,
        offset: 'now',
        signal: stop.signal,
        idleTimeoutMs: 100,
        onReconnect: (error) => reasons.push(error?.message),
      })) {
        got.push(...batch.events);
        stop.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 700));
    await fetch(server.url + path, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"late":true}' });
    await reading;
    expect(reasons).toContain('SSE connection went silent');
    expect(got).toEqual([{ late: true }]);
  });

  it('throws a typed error for a stream that does not exist', async () => {
    const reading = followChannel(new HttpClient({ url: server.url, apiKey: server.createdAdminKey! }), { path: '/v1/stream/client-test/missing' }).next();
    await expect(reading).rejects.toMatchObject({ name: 'TetherError', code: 'STREAM_NOT_FOUND', status: 404 });
  });
});

describe('watchSessions', () => {
  it('reconnects a watch that went silent and resumes with Last-Event-ID: nothing repeated, nothing missed', async () => {
    const tag = `watch-${unique()}`;
    const create = async () => {
      const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ tags: [tag] }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { session: { id: string } }).session.id;
    };
    const existing = await create();
    const stop = new AbortController();
    const reasons: (string | undefined)[] = [];
    const seen: WatchEvent[] = [];
    const resumeIds: (string | null)[] = [];
    const recording: FetchLike = async (input, init) => {
      resumeIds.push(new Headers(init?.headers).get('last-event-id'));
      return fetch(input, init);
    };
    const http = new HttpClient({ url: server.url, apiKey: server.createdAdminKey!, fetch: recording });
    // Keep-alives come every 15 s: 300 ms of quiet after `ready` looks like a dead connection.
    const watching = (async () => {
      for await (const event of watchSessions(http, `/v1/sessions/watch?tag=${tag}`, {
        signal: stop.signal,
        idleTimeoutMs: 300,
        onReconnect: (error) => reasons.push(error?.message),
      })) {
        seen.push(event);
      }
    })();
    try {
      const deadline = Date.now() + 20_000;
      while (reasons.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const fresh = await create();
      while (!seen.some((e) => e.type === 'session' && e.session.id === fresh) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      stop.abort();
      await watching;
    }
    expect(reasons.slice(0, 2)).toEqual(['SSE connection went silent', 'SSE connection went silent']);
    // The first connection asks for a snapshot; the later ones resume from the last event seen.
    expect(resumeIds[0]).toBeNull();
    expect(resumeIds.length).toBeGreaterThanOrEqual(3);
    expect(resumeIds.at(-1)).toMatch(/^\d+$/);
    const sessions = seen.filter((e): e is Extract<WatchEvent, { type: 'session' }> => e.type === 'session').map((e) => e.session.id);
    expect(sessions.filter((id) => id === existing)).toHaveLength(1);
    expect(sessions.at(-1)).not.toBe(existing);
    expect(sessions.filter((id) => id !== existing)).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'ready').length).toBeGreaterThanOrEqual(3);
  });
});
