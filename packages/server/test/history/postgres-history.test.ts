import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeHistoryRetention } from './history-suite.js';

if (await requirePostgres('out history retention on PostgreSQL')) {
  describeHistoryRetention('postgres', async (overrides: Partial<ServerConfig> = {}) => {
    const database = await createScratchDatabase();
    const dataDirs = [mkdtempSync(join(tmpdir(), 'tether-history-pg-')), mkdtempSync(join(tmpdir(), 'tether-history-pg-'))];
    // Two replicas on one database: the second one's store is the other sweeper.
    const server = await startServer({ port: 0, postgresUrl: database.url, dataDir: dataDirs[0], logLevel: 'silent', ...overrides });
    const replica = await startServer({ port: 0, postgresUrl: database.url, dataDir: dataDirs[1], logLevel: 'silent', ...overrides });
    return {
      url: server.url,
      key: await adminKeyOf(server),
      store: server.store,
      peer: replica.store,
      stop: async () => {
        await Promise.all([server.stop(), replica.stop()]);
        await database.drop();
        for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      },
    };
  });
} else {
  describe.skip('out history retention on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
