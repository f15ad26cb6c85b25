import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from '../src/serve.js';
import { startServerProcess } from '../../server/test/support/server-process.js';

describe('tether serve flags', () => {
  it('has the documented defaults', () => {
    const config = parseServeArgs([], {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4437,
      dataDir: './.tether',
      durability: 'fsync',
      longPollTimeoutMs: 20_000,
      logLevel: 'info',
      postgresUrl: null,
      insecureNoAuth: false,
      corsOrigins: [],
      rateLimitPerSecond: 1000,
      rateLimitBurst: 2000,
    });
  });

  it('reads the auth and limit flags', () => {
    const config = parseServeArgs(
      ['--insecure-no-auth', '--cors-origin', 'https://a.example', '--cors-origin', 'https://b.example', '--rate-limit', '5', '--rate-limit-burst', '10', '--max-live-readers-per-key', '3'],
      {},
    );
    expect(config).toMatchObject({
      insecureNoAuth: true,
      corsOrigins: ['https://a.example', 'https://b.example'],
      rateLimitPerSecond: 5,
      rateLimitBurst: 10,
      maxLiveReadersPerKey: 3,
    });
    expect(parseServeArgs([], { TETHER_CORS_ORIGINS: 'https://a.example, https://c.example' }).corsOrigins).toEqual(['https://a.example', 'https://c.example']);
  });

  it('allows --insecure-no-auth only on a loopback host', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) expect(parseServeArgs(['--insecure-no-auth', '--host', host], {}).insecureNoAuth).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.5', '::']) expect(() => parseServeArgs(['--insecure-no-auth', '--host', host], {})).toThrow(/loopback/);
  });

  it('reads every flag', () => {
    const config = parseServeArgs(
      ['--host', '0.0.0.0', '--port', '0', '--data-dir', 'd', '--durability', 'relaxed', '--long-poll-timeout-ms', '500', '--log-level', 'debug'],
      {},
    );
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, dataDir: 'd', durability: 'relaxed', longPollTimeoutMs: 500, logLevel: 'debug' });
  });

  it('reads the retention flags in days; keeps everything without them', () => {
    expect(parseServeArgs([], {})).toMatchObject({ retainClosedSessionsMs: null, retainOutHistoryMs: null });
    expect(parseServeArgs(['--retain-out-days', '7', '--retain-closed-days', '30'], {})).toMatchObject({
      retainOutHistoryMs: 7 * 86_400_000,
      retainClosedSessionsMs: 30 * 86_400_000,
    });
    expect(() => parseServeArgs(['--retain-out-days', '0'], {})).toThrow(/retain-out-days/);
    expect(() => parseServeArgs(['--retain-out-days', 'week'], {})).toThrow(/retain-out-days/);
  });

  it('rejects bad values as usage errors', () => {
    expect(() => parseServeArgs(['--durability', 'sometimes'], {})).toThrow(/durability/);
    expect(() => parseServeArgs(['--port', '-1'], {})).toThrow();
    expect(() => parseServeArgs(['--port', 'eighty'], {})).toThrow(/port/);
    expect(() => parseServeArgs(['--log-level', 'loud'], {})).toThrow(/log-level/);
    expect(() => parseServeArgs(['--no-such-flag'], {})).toThrow();
  });
});

describe('tether serve process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-serve-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints its URL, answers health checks, and warns loudly when durability is relaxed', async () => {
    const server = await startServerProcess(['--data-dir', dataDir, '--durability', 'relaxed']);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', store: 'sqlite' });
      expect(server.output()).toMatch(/durability relaxed/i);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('prints an admin key once on first start and keeps it, mode 0600, in the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-serve-key-'));
    try {
      const first = await startServerProcess(['--data-dir', dir]);
      let key: string;
      try {
        key = first.adminKey!;
        expect(key).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
        expect(readFileSync(join(dir, 'admin-key'), 'utf8')).toBe(`${key}\n`);
        expect(statSync(join(dir, 'admin-key')).mode & 0o777).toBe(0o600);
        expect((await fetch(`${first.url}/v1/sessions`)).status).toBe(401);
        expect((await fetch(`${first.url}/v1/sessions`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      } finally {
        expect(await first.stop()).toBe(0);
      }
      const second = await startServerProcess(['--data-dir', dir]);
      try {
        expect(second.adminKey).toBeNull();
        expect(second.output()).not.toContain(key);
        expect((await fetch(`${second.url}/v1/sessions`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says loudly when auth is off, and then needs no credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-serve-insecure-'));
    const server = await startServerProcess(['--data-dir', dir, '--insecure-no-auth']);
    try {
      expect(server.output()).toMatch(/WARNING: --insecure-no-auth: authentication is OFF/);
      expect(server.adminKey).toBeNull();
      expect((await fetch(`${server.url}/v1/sessions`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits with the usage code on a bad flag', async () => {
    await expect(startServerProcess(['--durability', 'maybe'])).rejects.toThrow(/exited with 2/);
  });
});
