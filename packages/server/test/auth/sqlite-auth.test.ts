import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server.js';
import { describeAuth } from './auth-suite.js';

describeAuth('sqlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-auth-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
  return {
    server,
    // One process owns an embedded store: the sibling is the same data directory after a restart.
    sibling: async () => {
      await server.stop();
      return startServer({ port: 0, dataDir, logLevel: 'silent' });
    },
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
