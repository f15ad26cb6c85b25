/**
 * Writes sessions straight into a store's tables, for the benchmarks that need
 * a large store. The server creates the schema first, so a session gets exactly
 * the rows the server's own code would give it: the session, its two channel
 * streams and its tags. A row is `{id, createdAt, status, agent, tags, title?}`.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Deterministic pseudo-random numbers (xorshift32) so every run seeds the same data. */
export function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** The SQLite database of a data directory, set up for bulk loading. */
export function openSqlite(dataDir) {
  const Database = require('better-sqlite3');
  const db = new Database(join(dataDir, 'tether.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  return db;
}

/** A function that writes one session row (with its streams and tags) on `db`; run it inside a transaction. */
export function sqliteSessionWriter(db) {
  const stream = db.prepare(`INSERT INTO streams (path, content_type, last_access_at, created_at, tail)
    VALUES (?, 'application/json', ?, ?, 0)`);
  const session = db.prepare(`INSERT INTO sessions (id, project_id, title, tags, metadata, root_id, status, agent, type,
    created_at, updated_at, last_activity_at, out_stream_id, in_stream_id, message_count)
    VALUES (?, 'default', ?, ?, '{}', ?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?)`);
  const tag = db.prepare(`INSERT INTO session_tags (project_id, tag, session_id) VALUES ('default', ?, ?)`);
  return (r, messageCount = 0) => {
    const out = stream.run(`/v1/stream/sessions/${r.id}/out`, r.createdAt, r.createdAt).lastInsertRowid;
    const inn = stream.run(`/v1/stream/sessions/${r.id}/in`, r.createdAt, r.createdAt).lastInsertRowid;
    session.run(r.id, r.title ?? null, JSON.stringify(r.tags), r.id, r.status, r.agent, r.createdAt, r.createdAt, r.createdAt, out, inn, messageCount);
    for (const t of r.tags) tag.run(t, r.id);
  };
}

/**
 * Writes session rows on PostgreSQL in one transaction. They travel as one
 * JSON document: no per-row round trips and no array parameters (whose types
 * the driver fetches per connection).
 */
export async function insertSessionsPostgres(sql, rows, messageCount = 0) {
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `CREATE TEMP TABLE seed ON COMMIT DROP AS
         SELECT * FROM jsonb_to_recordset($1::text::jsonb)
         AS x(id text, "createdAt" bigint, title text, status text, agent text, tags jsonb)`,
      [JSON.stringify(rows)],
    );
    await tx.unsafe(
      `
      WITH o AS (
        INSERT INTO streams (path, path_hash, content_type, last_access_at, created_at, tail)
        SELECT '/v1/stream/sessions/' || id || '/out', sha256(convert_to('/v1/stream/sessions/' || id || '/out', 'UTF8')),
          'application/json', "createdAt", "createdAt", 0 FROM seed RETURNING id AS stream_id, path),
      i AS (
        INSERT INTO streams (path, path_hash, content_type, last_access_at, created_at, tail)
        SELECT '/v1/stream/sessions/' || id || '/in', sha256(convert_to('/v1/stream/sessions/' || id || '/in', 'UTF8')),
          'application/json', "createdAt", "createdAt", 0 FROM seed RETURNING id AS stream_id, path)
      INSERT INTO sessions (id, project_id, title, tags, metadata, root_id, status, agent, type, created_at, updated_at,
        last_activity_at, out_stream_id, in_stream_id, message_count)
      SELECT s.id, 'default', s.title, s.tags, '{}'::jsonb, s.id, s.status, s.agent, 'chat', s."createdAt", s."createdAt",
        s."createdAt", o.stream_id, i.stream_id, $1::integer
      FROM seed s JOIN o ON o.path = '/v1/stream/sessions/' || s.id || '/out'
                  JOIN i ON i.path = '/v1/stream/sessions/' || s.id || '/in'`,
      [messageCount],
    );
    await tx.unsafe(`INSERT INTO session_tags (project_id, tag, session_id)
      SELECT 'default', jsonb_array_elements_text(tags), id FROM seed`);
  });
}
