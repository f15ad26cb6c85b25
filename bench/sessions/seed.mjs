/**
 * Seeds a large number of sessions straight into a store's tables, for the
 * list benchmark. The schema is created by starting the server first, so the
 * seed writes exactly the rows the server's own code would.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ulid } from 'ulid';

const require = createRequire(import.meta.url);
const TAGS = ['billing', 'support', 'sales', 'beta', 'vip', 'internal', 'eu', 'us', 'mobile', 'web'];
const STATUSES = ['idle', 'idle', 'idle', 'idle', 'closed', 'closed', 'closed', 'running', 'waiting', 'queued'];
const DAY = 86_400_000;

/** Deterministic pseudo-random numbers so every run seeds the same data. */
function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function* sessionRows(count, now = Date.now()) {
  const next = random(42);
  const start = now - 30 * DAY;
  for (let i = 0; i < count; i++) {
    const createdAt = start + Math.floor((i / count) * 30 * DAY);
    const first = TAGS[Math.floor(next() * TAGS.length)];
    let second = TAGS[Math.floor(next() * TAGS.length)];
    if (second === first) second = TAGS[(TAGS.indexOf(first) + 1) % TAGS.length];
    yield {
      id: `ses_${ulid(createdAt)}`,
      createdAt,
      status: STATUSES[Math.floor(next() * STATUSES.length)],
      agent: `agent-${Math.floor(next() * 10)}`,
      tags: [first, second],
    };
  }
}

export function seedSqlite(dataDir, count) {
  const Database = require('better-sqlite3');
  const db = new Database(join(dataDir, 'tether.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const stream = db.prepare(`INSERT INTO streams (path, content_type, last_access_at, created_at, tail)
    VALUES (?, 'application/json', ?, ?, 0)`);
  const session = db.prepare(`INSERT INTO sessions (id, project_id, tags, metadata, root_id, status, agent, type,
    created_at, updated_at, last_activity_at, out_stream_id, in_stream_id)
    VALUES (?, 'default', ?, '{}', ?, ?, ?, 'chat', ?, ?, ?, ?, ?)`);
  const tag = db.prepare(`INSERT INTO session_tags (project_id, tag, session_id) VALUES ('default', ?, ?)`);
  const batch = db.transaction((rows) => {
    for (const r of rows) {
      const out = stream.run(`/v1/stream/sessions/${r.id}/out`, r.createdAt, r.createdAt).lastInsertRowid;
      const inn = stream.run(`/v1/stream/sessions/${r.id}/in`, r.createdAt, r.createdAt).lastInsertRowid;
      session.run(r.id, JSON.stringify(r.tags), r.id, r.status, r.agent, r.createdAt, r.createdAt, r.createdAt, out, inn);
      for (const t of r.tags) tag.run(t, r.id);
    }
  });
  let rows = [];
  for (const row of sessionRows(count)) {
    rows.push(row);
    if (rows.length === 20_000) batch(rows.splice(0));
  }
  batch(rows);
  db.exec('ANALYZE');
  db.close();
}

export async function seedPostgres(url, count) {
  const postgres = require('postgres');
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    let rows = [];
    // Rows travel as one JSON document per batch: no per-row round trips and no
    // array parameters (whose types the driver fetches per connection).
    const flush = async () => {
      if (!rows.length) return;
      const chunk = JSON.stringify(rows.splice(0));
      await sql.begin(async (tx) => {
        await tx.unsafe(
          `CREATE TEMP TABLE seed ON COMMIT DROP AS
             SELECT * FROM jsonb_to_recordset($1::text::jsonb)
             AS x(id text, "createdAt" bigint, status text, agent text, tags jsonb)`,
          [chunk],
        );
        await tx.unsafe(`
          WITH o AS (
            INSERT INTO streams (path, path_hash, content_type, last_access_at, created_at, tail)
            SELECT '/v1/stream/sessions/' || id || '/out', sha256(convert_to('/v1/stream/sessions/' || id || '/out', 'UTF8')),
              'application/json', "createdAt", "createdAt", 0 FROM seed RETURNING id AS stream_id, path),
          i AS (
            INSERT INTO streams (path, path_hash, content_type, last_access_at, created_at, tail)
            SELECT '/v1/stream/sessions/' || id || '/in', sha256(convert_to('/v1/stream/sessions/' || id || '/in', 'UTF8')),
              'application/json', "createdAt", "createdAt", 0 FROM seed RETURNING id AS stream_id, path)
          INSERT INTO sessions (id, project_id, tags, metadata, root_id, status, agent, type, created_at, updated_at,
            last_activity_at, out_stream_id, in_stream_id)
          SELECT s.id, 'default', s.tags, '{}'::jsonb, s.id, s.status, s.agent, 'chat', s."createdAt", s."createdAt",
            s."createdAt", o.stream_id, i.stream_id
          FROM seed s JOIN o ON o.path = '/v1/stream/sessions/' || s.id || '/out'
                      JOIN i ON i.path = '/v1/stream/sessions/' || s.id || '/in'`);
        await tx.unsafe(`INSERT INTO session_tags (project_id, tag, session_id)
          SELECT 'default', jsonb_array_elements_text(tags), id FROM seed`);
      });
    };
    for (const row of sessionRows(count)) {
      rows.push(row);
      if (rows.length === 20_000) await flush();
    }
    await flush();
    // A database that has been running a while has been vacuumed: index-only scans
    // need the visibility map, which a bulk load leaves empty.
    await sql`VACUUM ANALYZE`;
  } finally {
    await sql.end();
  }
}
