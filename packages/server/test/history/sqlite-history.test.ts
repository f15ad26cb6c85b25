import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { describeHistoryRetention } from './history-suite.js';

describeHistoryRetention('sqlite', async (overrides: Partial<ServerConfig> = {}) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-history-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...overrides });
  return {
    url: server.url,
    key: await adminKeyOf(server),
    store: server.store,
    // One process owns an embedded database: its two sweeps share the store.
    peer: server.store,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
