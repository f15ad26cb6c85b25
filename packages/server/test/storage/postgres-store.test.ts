import postgres from 'postgres';
import { afterAll, describe, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { describeStoreSuite } from './store-suite.js';

const available = await requirePostgres('storage suite on PostgreSQL');

if (available) {
  const database = await createScratchDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });

  afterAll(async () => {
    await sql.end({ timeout: 1 });
    await database.drop();
  });

  // One database for the file; every test starts from empty tables.
  describeStoreSuite('postgres', async () => {
    const store = await PostgresStore.open({ url: database.url, poolSize: 4, statementTimeoutMs: 10_000, durability: 'fsync' });
    await sql`TRUNCATE streams, stream_rows, producers, api_keys, projects, server_secrets RESTART IDENTITY`;
    return { store, cleanup: () => store.close() };
  });
} else {
  describe.skip('Store contract: postgres', () => {
    it('needs PostgreSQL');
  });
}
