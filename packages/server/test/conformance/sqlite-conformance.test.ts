import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { startServer } from '../../src/server.js';

// The peer's suite cannot send an Authorization header (its options are only
// baseUrl, longPollTimeoutMs and subscriptions), so it runs against a loopback
// server started with auth off, as `tether serve --insecure-no-auth` would be.
// Its CORS tests send an Origin, which only configured origins get answers for.
// The peer's suite, unchanged, against a file-backed SQLite store.
const dataDir = mkdtempSync(join(tmpdir(), 'tether-conformance-'));
const server = await startServer({ port: 0, dataDir, longPollTimeoutMs: 1000, logLevel: 'silent', insecureNoAuth: true, corsOrigins: ['*'] });

afterAll(async () => {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

runConformanceTests({ baseUrl: server.url, longPollTimeoutMs: 1000 });
