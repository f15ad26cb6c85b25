import { describe, it } from 'vitest';
import type { ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeSearchAndImport } from './search-import-suite.js';
import { describeTranscripts, type TranscriptServer } from './transcript-suite.js';

async function startPostgres(overrides: Partial<ServerConfig> = {}): Promise<TranscriptServer> {
  const database = await createScratchDatabase();
  const server = await startServer({ port: 0, postgresUrl: database.url, logLevel: 'silent', ...overrides });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      await database.drop();
    },
  };
}

if (await requirePostgres('transcripts on PostgreSQL')) {
  describeTranscripts('postgres', startPostgres);
  describeSearchAndImport('postgres', startPostgres);
} else {
  describe.skip('transcripts on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
