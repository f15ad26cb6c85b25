/**
 * The SQLite store keeps stream metadata in memory so an append reads no row
 * first. A write that appends to a channel and then fails is rolled back;
 * the cached tail must go with it, or the next append would be
 * acknowledged at an offset that was never written. A real trigger makes the
 * turn insert of a `user.message` admission fail after its channel append.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { Header } from '@tether/protocol';
import { createClient } from '@tether/client';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { header, startTestServer, type TestServer } from '../http/http-harness.js';

let t: TestServer;
let inPath: string;

const JSON_CT = { 'content-type': 'application/json' };
const message = (text: string) => JSON.stringify({ type: 'user.message', text, policy: 'enqueue' });

beforeAll(async () => {
  t = await startTestServer();
  const client = createClient({ url: t.url, apiKey: t.key });
  const { session } = await client.sessions.create({});
  inPath = `/v1/stream/sessions/${session.id}/in`;
});

afterAll(async () => {
  await t?.stop();
});

function database(): Database.Database {
  const store = t.server.store;
  expect(store).toBeInstanceOf(SqliteStore);
  return (store as unknown as { db: Database.Database }).db;
}

async function tail(): Promise<string | undefined> {
  return header(await t.send('HEAD', inPath), Header.nextOffset);
}

describe('cached stream metadata on SQLite', () => {
  it('forgets an append whose write was rolled back', async () => {
    expect((await t.send('POST', inPath, { headers: JSON_CT, body: message('first') })).status).toBe(204);
    const before = await tail();

    database().exec(`CREATE TRIGGER refuse_turns BEFORE INSERT ON turns BEGIN SELECT RAISE(ABORT, 'refused by test'); END`);
    try {
      const refused = await t.send('POST', inPath, { headers: JSON_CT, body: message('refused') });
      expect(refused.status).toBe(500);
      expect(await tail()).toBe(before);
    } finally {
      database().exec('DROP TRIGGER refuse_turns');
    }

    const next = await t.send('POST', inPath, { headers: JSON_CT, body: message('second') });
    expect(next.status).toBe(204);
    const read = await t.send('GET', `${inPath}?offset=-1`);
    const texts = (JSON.parse(read.body.toString('utf8')) as { text: string }[]).map((event) => event.text);
    expect(texts).toEqual(['first', 'second']);
    expect(header(next, Header.nextOffset)).toBe(header(read, Header.nextOffset));
  });
});
