/**
 * A number too large for a double becomes Infinity (`limit=1e309` coerced from
 * a query, `1e309` parsed from JSON). It must be refused as bad input, not
 * reach a store that cannot bind it (which answered 500; the fuzz test found it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { adminKeyOf, withKey } from '../support/credentials.js';

describe('numbers that overflow to Infinity', () => {
  let server: RunningServer;
  let key: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-infinity-'));
  beforeAll(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
    key = await adminKeyOf(server);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(server.url + path, { method, headers: withKey(key, body ? { 'content-type': 'application/json' } : {}), body });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
  };

  it('are refused with 400 VALIDATION_FAILED in queries and JSON bodies', async () => {
    const created = await call('POST', '/v1/sessions', '{}');
    const id = (created.body as unknown as { session: { id: string } }).session.id;
    for (const [method, path, body] of [
      ['GET', '/v1/sessions?limit=1e309'],
      ['GET', `/v1/sessions/${id}/turns?limit=1e309`],
      ['GET', `/v1/sessions/${id}/messages?limit=-1e309`],
      ['POST', '/v1/runners/claim', '{"runnerId":"r","waitMs":1e309}'],
    ] as const) {
      const res = await call(method, path, body);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 400, 'VALIDATION_FAILED']);
    }
    // Large but finite values still meet the schema's own bounds.
    expect((await call('GET', '/v1/sessions?limit=1e308')).body.error?.code).toBe('VALIDATION_FAILED');
    expect((await call('GET', '/v1/sessions?limit=2')).status).toBe(200);
  });
});
