import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { describeSearchAndImport } from './search-import-suite.js';
import { describeTranscripts, type TranscriptServer } from './transcript-suite.js';

async function startSqlite(overrides: Partial<ServerConfig> = {}): Promise<TranscriptServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-transcripts-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...overrides });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describeTranscripts('sqlite', startSqlite);
describeSearchAndImport('sqlite', startSqlite);
