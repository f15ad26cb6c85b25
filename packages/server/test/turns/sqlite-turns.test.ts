import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from '../support/server-process.js';
import { describeInteractions } from './interaction-suite.js';
import { describeTurns, type TurnServerOptions, type TurnServers } from './turn-suite.js';

async function startSqlite(options: TurnServerOptions = {}): Promise<TurnServers> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-turns-'));
  const server = await startServerProcess([
    '--data-dir',
    dataDir,
    '--turn-sweep-interval-ms',
    '50',
    '--turn-retries',
    String(options.turnRetries ?? 0),
  ]);
  return {
    urls: [server.url],
    key: server.adminKey!,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describeTurns('sqlite', startSqlite);
describeInteractions('sqlite', startSqlite);
