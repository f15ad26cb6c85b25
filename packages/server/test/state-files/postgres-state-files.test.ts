import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeSessionFiles } from './files-suite.js';
import { TEST_LIMITS, type ServerUnderTest } from './harness.js';
import { describeSessionState } from './state-suite.js';

async function startPostgres(): Promise<ServerUnderTest> {
  const database = await createScratchDatabase();
  const server = await startServer({ port: 0, postgresUrl: database.url, dataDir: mkdtempSync(join(tmpdir(), 'tether-pg-')), logLevel: 'silent', ...TEST_LIMITS });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    store: server.store,
    stop: async () => {
      await server.stop();
      await database.drop();
    },
  };
}

if (await requirePostgres('session state and files on PostgreSQL')) {
  describeSessionState('postgres', startPostgres);
  describeSessionFiles('postgres', startPostgres);
} else {
  describe.skip('session state and files on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
