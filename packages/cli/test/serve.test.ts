import { mkdtempSync, rmSync } from 'node:fs';
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
    });
  });

  it('reads every flag', () => {
    const config = parseServeArgs(
      ['--host', '0.0.0.0', '--port', '0', '--data-dir', 'd', '--durability', 'relaxed', '--long-poll-timeout-ms', '500', '--log-level', 'debug'],
      {},
    );
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, dataDir: 'd', durability: 'relaxed', longPollTimeoutMs: 500, logLevel: 'debug' });
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

  it('exits with the usage code on a bad flag', async () => {
    await expect(startServerProcess(['--durability', 'maybe'])).rejects.toThrow(/exited with 2/);
  });
});
