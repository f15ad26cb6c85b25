import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeAuth } from './auth-suite.js';

if (await requirePostgres('auth on PostgreSQL')) {
  describeAuth('postgres', async () => {
    const database = await createScratchDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-auth-pg-'));
    const server = await startServer({ port: 0, postgresUrl: database.url, dataDir, logLevel: 'silent' });
    return {
      server,
      // A second replica on the same database, with a data directory of its own.
      sibling: () => startServer({ port: 0, postgresUrl: database.url, dataDir: mkdtempSync(join(tmpdir(), 'tether-auth-pg-')), logLevel: 'silent' }),
      stop: async () => {
        await server.stop();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
} else {
  describe.skip('auth on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
