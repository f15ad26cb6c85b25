import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeSearchAndImport } from './search-import-suite.js';
import { describeTranscripts, type TranscriptServer } from './transcript-suite.js';

async function startPostgres(overrides: Partial<ServerConfig> = {}): Promise<TranscriptServer> {
  const database = await createScratchDatabase();
  // The admin key file goes to a scratch directory, not the working directory.
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-transcripts-pg-'));
  const server = await startServer({ port: 0, postgresUrl: database.url, dataDir, logLevel: 'silent', ...overrides });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    stop: async () => {
      await server.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
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
