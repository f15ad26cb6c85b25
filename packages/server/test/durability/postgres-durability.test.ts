import { afterAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/postgres.js';
import { runCrashScenario } from './crash-scenario.js';

if (await requirePostgres('durability on PostgreSQL')) {
  describe('durability on PostgreSQL', () => {
    let database: ScratchDatabase;
    afterAll(() => database?.drop());

    it('keeps every acknowledged append across SIGKILL with 24 concurrent writers', async () => {
      database = await createScratchDatabase();
      const result = await runCrashScenario({ serverArgs: ['--postgres', database.url], writers: 24, appendForMs: 1500 });
      expect(result.stored).toBeGreaterThanOrEqual(result.acknowledged);
    }, 60_000);
  });
} else {
  describe.skip('durability on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
