import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { describeSessionApi, type ServerUnderTest } from './session-api-suite.js';
import { describeSessionWatch } from './session-watch-suite.js';

async function startSqlite(): Promise<ServerUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-sessions-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describeSessionApi('sqlite', startSqlite);
describeSessionWatch('sqlite', startSqlite);
