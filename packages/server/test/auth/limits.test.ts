/**
 * Limits and the edges of authentication that do not depend on the store:
 * rate limits, the live-read cap, CORS, size limits, the token never logged,
 * and an app that refuses a route without an access rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { resolveConfig, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { systemClock } from '../../src/services/clock.js';
import { LocalNotifier } from '../../src/services/live-hub.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { adminKeyOf } from '../support/credentials.js';
import { send } from './auth-client.js';

const dirs: string[] = [];
const running: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(overrides: Partial<ServerConfig> = {}, logger?: pino.Logger) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-limits-'));
  dirs.push(dataDir);
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...overrides }, logger);
  running.push(server);
  return { server, url: server.url, key: await adminKeyOf(server) };
}

describe('limits', () => {
  it('answers 429 with Retry-After once a credential has used its burst, per credential', async () => {
    const { url, key } = await start({ rateLimitPerSecond: 1, rateLimitBurst: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await send(url, 'GET', '/v1/sessions', key));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const limited = statuses[3]!;
    expect(JSON.parse(limited.text).error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Public routes and other credentials are not held back by this one.
    expect((await send(url, 'GET', '/healthz', null)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await send(url, 'GET', '/v1/sessions', key)).status).toBe(200);
  });

  it('caps open live reads per credential and frees a slot when a reader leaves', async () => {
    const { url, key } = await start({ maxLiveReadersPerKey: 2, longPollTimeoutMs: 30_000 });
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    expect((await fetch(`${url}/v1/stream/cap`, { method: 'PUT', headers })).status).toBe(201);
    const readers = [new AbortController(), new AbortController()];
    const polls = readers.map((controller) =>
      fetch(`${url}/v1/stream/cap?offset=now&live=long-poll`, { headers, signal: controller.signal }).catch(() => null),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await send(url, 'GET', '/v1/stream/cap?offset=now&live=long-poll', key);
    expect([third.status, JSON.parse(third.text).error.code]).toEqual([429, 'RATE_LIMITED']);
    // Catch-up reads are not live reads.
    expect((await send(url, 'GET', '/v1/stream/cap?offset=-1', key)).status).toBe(200);
    readers[0]!.abort();
    await polls[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = fetch(`${url}/v1/stream/cap?offset=now&live=long-poll`, { headers });
    await fetch(`${url}/v1/stream/cap`, { method: 'POST', headers, body: '{"wake":1}' });
    expect((await again).status).toBe(200);
    readers[1]!.abort();
    await polls[1];
  });

  it('refuses oversized bodies (413) and request heads (431)', async () => {
    const { url, key } = await start({ maxMessageBytes: 1024 });
    const big = await send(url, 'POST', '/v1/sessions', key, { body: JSON.stringify({ title: 'x'.repeat(2000) }), headers: { 'content-type': 'application/json' } });
    expect([big.status, JSON.parse(big.text).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const head = await fetch(`${url}/v1/sessions`, { headers: { authorization: `Bearer ${key}`, 'x-padding': 'y'.repeat(20 * 1024) } });
    expect(head.status).toBe(431);
    expect(((await head.json()) as { error: { code: string } }).error.code).toBe('HEADERS_TOO_LARGE');
  });

  it('answers CORS only for configured origins', async () => {
    const closed = await start();
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/v1/sessions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    const refused = await preflight(closed.url, 'https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect((await send(closed.url, 'GET', '/v1/sessions', closed.key, { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();

    const open = await start({ corsOrigins: ['https://app.example'] });
    const allowed = await preflight(open.url, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    expect((await preflight(open.url, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never writes a ?token= credential to the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const { url, key } = await start({ logLevel: 'debug' }, pino({ level: 'debug' }, sink));
    const created = JSON.parse((await send(url, 'POST', '/v1/sessions', key, { body: '{}', headers: { 'content-type': 'application/json' } })).text);
    const res = await fetch(`${url}/v1/stream/sessions/${created.session.id}/out?offset=-1&token=${created.token}`);
    expect(res.status).toBe(200);
    const bad = await fetch(`${url}/v1/sessions/${created.session.id}?token=${created.token}x`);
    expect(bad.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const log = lines.join('');
    expect(log).toContain(`/v1/stream/sessions/${created.session.id}/out`);
    expect(log).not.toContain(created.token);
    expect(log).not.toContain(key);
  });

  it('starts without auth only on a loopback address', async () => {
    await expect(startServer({ port: 0, host: '0.0.0.0', insecureNoAuth: true, logLevel: 'silent' })).rejects.toThrow(/loopback/);
  });
});

describe('/metrics', () => {
  it('counts requests by route and status, appends, live readers and turns by status', async () => {
    const { url, key } = await start();
    const headers = { 'content-type': 'application/json' };
    await send(url, 'PUT', '/v1/stream/m', key, { headers });
    for (let i = 0; i < 3; i++) await send(url, 'POST', '/v1/stream/m', key, { body: `{"i":${i}}`, headers });
    await send(url, 'GET', '/v1/sessions', null);
    const { session } = JSON.parse((await send(url, 'POST', '/v1/sessions', key, { body: '{"agent":"m"}', headers })).text);
    await send(url, 'POST', `/v1/sessions/${session.id}/messages`, key, { body: '{"content":"hi"}', headers });
    const poll = fetch(`${url}/v1/stream/m?offset=now&live=long-poll`, { headers: { authorization: `Bearer ${key}` } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const metrics = await send(url, 'GET', '/metrics', key);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const line = (pattern: string) => metrics.text.split('\n').find((l) => l.startsWith(pattern));
    expect(line('tether_http_requests_total{method="POST",route="/v1/stream/*",status="204"}')).toMatch(/ 3$/);
    expect(line('tether_http_requests_total{method="GET",route="/v1/sessions",status="401"}')).toMatch(/ 1$/);
    expect(line('tether_http_request_duration_seconds_count{method="POST",route="/v1/stream/*"}')).toMatch(/ 3$/);
    expect(line('tether_appends_total')).toBe('tether_appends_total 3');
    expect(line('tether_live_readers')).toBe('tether_live_readers 1');
    expect(line('tether_turns{status="queued"}')).toBe('tether_turns{status="queued"} 1');
    await send(url, 'POST', '/v1/stream/m', key, { body: '{"wake":1}', headers });
    await poll;
  });
});

describe('access rules', () => {
  it('refuses to register a route that declares none', async () => {
    const store = new SqliteStore({ filename: ':memory:', durability: 'fsync' });
    const { app } = await buildApp({
      config: resolveConfig(),
      store,
      notifier: new LocalNotifier(),
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });
    try {
      expect(() => app.get('/v1/unguarded', async () => 'open')).toThrow(/declares no access rule/);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
