import { afterAll, describe, it } from 'vitest';
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { startServer } from '../../src/server.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';

// The peer's suite, unchanged, against the PostgreSQL store.
if (await requirePostgres('Durable Streams conformance on PostgreSQL')) {
  const database = await createScratchDatabase();
  const server = await startServer({ port: 0, postgresUrl: database.url, longPollTimeoutMs: 1000, logLevel: 'silent' });

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
