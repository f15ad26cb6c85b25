import { describe, it } from 'vitest';
import { startServerProcess } from '../support/server-process.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeInteractions } from './interaction-suite.js';
import { describeTurns, type TurnServerOptions, type TurnServers } from './turn-suite.js';

/** Two replicas on one database: racing runners and answers are spread over both. */
async function startPostgres(options: TurnServerOptions = {}): Promise<TurnServers> {
  const database = await createScratchDatabase();
  const args = ['--postgres', database.url, '--turn-sweep-interval-ms', '50', '--turn-retries', String(options.turnRetries ?? 0)];
  const first = await startServerProcess(args);
  const second = await startServerProcess(args);
  return {
    urls: [first.url, second.url],
    // The first replica made the database's admin key; the second found it there.
    key: first.adminKey!,
    stop: async () => {
      await Promise.all([first.stop(), second.stop()]);
      await database.drop();
    },
  };
}

if (await requirePostgres('turns on PostgreSQL')) {
  describeTurns('postgres', startPostgres);
  describeInteractions('postgres', startPostgres);
} else {
  describe.skip('turns on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
