import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { startServer } from '../../src/server.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';

// The peer's suite cannot send an Authorization header (its options are only
// baseUrl, longPollTimeoutMs and subscriptions), so it runs against a loopback
// server started with auth off, as `tether serve --insecure-no-auth` would be.
// Its CORS tests send an Origin, which only configured origins get answers for.
// The peer's suite, unchanged, against the PostgreSQL store.
if (await requirePostgres('Durable Streams conformance on PostgreSQL')) {
  const database = await createScratchDatabase();
  const server = await startServer({ port: 0, postgresUrl: database.url, dataDir: mkdtempSync(join(tmpdir(), 'tether-pg-')), longPollTimeoutMs: 1000, logLevel: 'silent', insecureNoAuth: true, corsOrigins: ['*'] });

  afterAll(async () => {
    await server.stop();
    await database.drop();
  });

  runConformanceTests({ baseUrl: server.url, longPollTimeoutMs: 1000 });
} else {
  describe.skip('Durable Streams conformance on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
