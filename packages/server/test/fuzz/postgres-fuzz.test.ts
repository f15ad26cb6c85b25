import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { createScratchDatabase, requirePostgres } from '../support/postgres.js';
import { FUZZ_CONFIG, VOLATILE_COLUMNS } from './fuzz-config.js';
import { describeFuzz } from './fuzz-suite.js';

if (await requirePostgres('fuzzing on PostgreSQL')) {
  describeFuzz('postgres', async () => {
    const database = await createScratchDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-fuzz-pg-'));
    const server = await startServer({ port: 0, postgresUrl: database.url, dataDir, ...FUZZ_CONFIG });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const tables = await sql<{ table_name: string }[]>`SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
    const parts: string[] = [];
    for (const { table_name: table } of tables) {
      const volatile = VOLATILE_COLUMNS[table] ?? [];
      const columns = await sql<{ column_name: string }[]>`SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ${table} ORDER BY ordinal_position`;
      const kept = columns.map((c) => `"${c.column_name}"`).filter((c) => !volatile.includes(c.slice(1, -1)));
      parts.push(`(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (SELECT ${kept.join(', ')} FROM "${table}") r)`);
    }
    // One round trip per fingerprint: a digest of every table's rows.
    const query = `SELECT ${parts.join(' || ')} AS digest`;
    return {
      server,
      fingerprint: async () => ((await sql.unsafe(query)) as unknown as { digest: string }[])[0]!.digest,
      stop: async () => {
        await sql.end({ timeout: 1 });
        await server.stop();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
} else {
  describe.skip('fuzzing on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
