import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { describeSessionFiles } from './files-suite.js';
import { TEST_LIMITS, type ServerUnderTest } from './harness.js';
import { describeSessionState } from './state-suite.js';

async function startSqlite(): Promise<ServerUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-state-files-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...TEST_LIMITS });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    store: server.store,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describeSessionState('sqlite', startSqlite);
describeSessionFiles('sqlite', startSqlite);
