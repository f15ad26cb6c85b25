/**
 * PostgreSQL ranks only the newest messages of a query that matches more than
 * a couple of thousand of them (see `postgres-search.ts`): the window comes
 * from the planner's estimate, so these tests analyze the table first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/postgres.js';
import { turnApi, type TurnApi } from '../turns/turn-client.js';

const MATCHES = 3_000;

if (await requirePostgres('search window on PostgreSQL')) {
  describe('search ranks the newest messages of a very common word (postgres)', () => {
    let database: ScratchDatabase;
    let dataDir: string;
    let server: Awaited<ReturnType<typeof startServer>>;
    let api: TurnApi;
    let old: { id: string };
    let recent: { id: string };
    const search = (query: string) => api.call<any>('GET', `/v1/search?${query}`);

    beforeAll(async () => {
      database = await createScratchDatabase();
      dataDir = mkdtempSync(join(tmpdir(), 'tether-search-window-'));
      server = await startServer({ port: 0, postgresUrl: database.url, dataDir, logLevel: 'silent' });
      api = turnApi(server.url, await adminKeyOf(server));
      old = await api.newSession({ agent: 'old' });
      recent = await api.newSession({ agent: 'recent' });
      // Older messages say the word three times and outrank every newer one.
      for (const [session, text] of [[old, 'common common common old'], [recent, 'common new']] as const) {
        for (let n = 0; n < MATCHES; n += 500) {
          await api.append(session.id, 'out', Array.from({ length: 500 }, () => ({ type: 'message', role: 'assistant', text })));
        }
      }
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        await sql`ANALYZE messages`;
      } finally {
        await sql.end();
      }
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers from the newest matches, in order, and pages through the same window', async () => {
      const seen = new Set<string>();
      const scores: number[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await search(`q=common&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        for (const hit of page.body.data) {
          expect(hit.session.id).toBe(recent.id);
          seen.add(`${hit.session.id}/${hit.message.id}`);
          scores.push(hit.score);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(scores.length).toBe(seen.size);
      // The window holds about 2,000 matches: not every newer one, and none of the older ones.
      expect(seen.size).toBeGreaterThan(1_000);
      expect(seen.size).toBeLessThan(MATCHES);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    });

    it('widens the window until a page of matches passes the filters', async () => {
      const page = await search('q=common&agent=old&limit=20');
      expect(page.body.data).toHaveLength(20);
      expect(page.body.data.every((hit: any) => hit.session.id === old.id && hit.message.text === 'common common common old')).toBe(true);
    });
  });
} else {
  describe.skip('search window on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
