import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeSessionApi, type ServerUnderTest } from './session-api-suite.js';
import { describeSessionWatch } from './session-watch-suite.js';

async function startPostgres(): Promise<ServerUnderTest> {
  const database = await createScratchDatabase();
  const server = await startServer({ port: 0, postgresUrl: database.url, dataDir: mkdtempSync(join(tmpdir(), 'tether-pg-')), logLevel: 'silent' });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    stop: async () => {
      await server.stop();
      await database.drop();
    },
  };
}

if (await requirePostgres('session API on PostgreSQL')) {
  describeSessionApi('postgres', startPostgres);
  describeSessionWatch('postgres', startPostgres);
} else {
  describe.skip('session API on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
