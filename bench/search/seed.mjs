/**
 * Seeds sessions and transcript messages straight into a store's tables for the
 * search benchmark. The server creates the schema first, so the rows are
 * indexed by the store's own FTS5 triggers / generated tsvector columns.
 * Words follow a Zipf distribution over a generated vocabulary, as words in
 * real text do; everything is deterministic, so every run seeds the same data.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ulid } from 'ulid';

const require = createRequire(import.meta.url);
const VOCABULARY = 20_000;
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'be', 'do', 'fa', 'gu', 'hi', 'jo', 'pe', 'qu', 'ri', 'su', 'ta', 'zo'];
const AGENTS = 10;
const TAGS = ['billing', 'support', 'sales', 'beta', 'vip', 'internal', 'eu', 'us', 'mobile', 'web'];
const STATUSES = ['idle', 'idle', 'closed', 'closed', 'running', 'waiting'];
const DAY = 86_400_000;

function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Word of rank `n`: distinct, pronounceable, 2–4 syllables. */
const word = (n) => {
  let s = '';
  let x = n + 400; // skip the shortest forms
  do {
    s += SYLLABLES[x % SYLLABLES.length];
    x = Math.floor(x / SYLLABLES.length);
  } while (x > 0);
  return s;
};
const WORDS = Array.from({ length: VOCABULARY }, (_, n) => word(n));
const CUMULATIVE = (() => {
  const weights = WORDS.map((_, n) => 1 / (n + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return Float64Array.from(weights, (w) => (sum += w / total));
})();

function zipf(next) {
  const r = next();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return WORDS[lo];
}

function sentence(next, min, max) {
  const length = min + Math.floor(next() * (max - min + 1));
  return Array.from({ length }, () => zipf(next)).join(' ');
}

function* sessions(count, now) {
  const next = random(7);
  for (let i = 0; i < count; i++) {
    const createdAt = now - 30 * DAY + Math.floor((i / count) * 30 * DAY);
    yield {
      id: `ses_${ulid(createdAt)}`,
      createdAt,
      title: sentence(next, 3, 6),
      agent: `agent-${Math.floor(next() * AGENTS)}`,
      status: STATUSES[Math.floor(next() * STATUSES.length)],
      tags: [TAGS[Math.floor(next() * TAGS.length)]],
    };
  }
}

function* messages(sessionList, total) {
  const next = random(11);
  const per = Math.floor(total / sessionList.length);
  let n = 0;
  for (const [index, session] of sessionList.entries()) {
    const count = index === sessionList.length - 1 ? total - n : per;
    for (let position = 0; position < count; position++, n++) {
      yield {
        id: `m${position}`,
        sessionId: session.id,
        position,
        role: position % 2 ? 'assistant' : 'user',
        text: sentence(next, 8, 40),
        createdAt: session.createdAt + position * 1000,
      };
    }
  }
}

/** `count` query strings: words of every frequency but the ~100 most common, pairs, phrases, prefixes and filters. */
export function queryMix(count) {
  const next = random(99);
  const pick = () => WORDS[100 + Math.floor(next() * (VOCABULARY - 100))];
  const kinds = [
    () => [`q=${pick()}`, 'words'],
    () => [`q=${pick()}+${pick()}`, 'two-words'],
    () => [`q=${encodeURIComponent(`"${pick()} ${pick()}"`)}`, 'phrase'],
    () => [`q=${pick().slice(0, 5)}*`, 'prefix'],
    () => [`q=${pick()}&agent=agent-${Math.floor(next() * AGENTS)}`, 'filtered'],
    () => [`q=${pick()}&status=closed&tag=${TAGS[Math.floor(next() * TAGS.length)]}`, 'filtered'],
  ];
  return Array.from({ length: count }, () => {
    const [query, kind] = kinds[Math.floor(next() * kinds.length)]();
    return { query: `${query}&limit=20`, kind };
  });
}

export function seedSearchSqlite(dataDir, total, sessionCount) {
  const Database = require('better-sqlite3');
  const db = new Database(join(dataDir, 'tether.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const stream = db.prepare(`INSERT INTO streams (path, content_type, last_access_at, created_at, tail) VALUES (?, 'application/json', ?, ?, 0)`);
  const session = db.prepare(`INSERT INTO sessions (id, project_id, title, tags, metadata, root_id, status, agent, type,
    created_at, updated_at, last_activity_at, out_stream_id, in_stream_id, message_count)
    VALUES (?, 'default', ?, ?, '{}', ?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?)`);
  const tag = db.prepare(`INSERT INTO session_tags (project_id, tag, session_id) VALUES ('default', ?, ?)`);
  const message = db.prepare(`INSERT INTO messages (id, project_id, session_id, channel, position, role, text, status, created_at, updated_at)
    VALUES (?, 'default', ?, 'out', ?, ?, ?, 'completed', ?, ?)`);
  const list = [...sessions(sessionCount, Date.now())];
  const per = Math.floor(total / sessionCount);
  db.transaction(() => {
    for (const s of list) {
      const out = stream.run(`/v1/stream/sessions/${s.id}/out`, s.createdAt, s.createdAt).lastInsertRowid;
      const inn = stream.run(`/v1/stream/sessions/${s.id}/in`, s.createdAt, s.createdAt).lastInsertRowid;
      session.run(s.id, s.title, JSON.stringify(s.tags), s.id, s.status, s.agent, s.createdAt, s.createdAt, s.createdAt, out, inn, per);
      for (const t of s.tags) tag.run(t, s.id);
    }
  })();
  const batch = db.transaction((rows) => {
    for (const m of rows) message.run(m.id, m.sessionId, m.position, m.role, m.text, m.createdAt, m.createdAt);
  });
  let rows = [];
  for (const m of messages(list, total)) {
    rows.push(m);
    if (rows.length === 50_000) batch(rows.splice(0));
  }
  batch(rows);
  db.exec(`INSERT INTO messages_fts (messages_fts) VALUES ('optimize')`);
  db.exec('ANALYZE');
  db.close();
}

export async function seedSearchPostgres(url, total, sessionCount) {
  const postgres = require('postgres');
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    const list = [...sessions(sessionCount, Date.now())];
    const per = Math.floor(total / sessionCount);
    for (let i = 0; i < list.length; i += 10_000) {
      const chunk = JSON.stringify(list.slice(i, i + 10_000));
      await sql.begin(async (tx) => {
        await tx.unsafe(`CREATE TEMP TABLE seed ON COMMIT DROP AS SELECT * FROM jsonb_to_recordset($1::text::jsonb)
          AS x(id text, "createdAt" bigint, title text, status text, agent text, tags jsonb)`, [chunk]);
        await tx.unsafe(`
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
            s."createdAt", o.stream_id, i.stream_id, ${per}
          FROM seed s JOIN o ON o.path = '/v1/stream/sessions/' || s.id || '/out'
                      JOIN i ON i.path = '/v1/stream/sessions/' || s.id || '/in'`);
        await tx.unsafe(`INSERT INTO session_tags (project_id, tag, session_id) SELECT 'default', jsonb_array_elements_text(tags), id FROM seed`);
      });
    }
    let rows = [];
    const flush = async () => {
      if (!rows.length) return;
      const chunk = JSON.stringify(rows.splice(0));
      await sql.unsafe(`INSERT INTO messages (id, project_id, session_id, channel, position, role, text, status, created_at, updated_at)
        SELECT id, 'default', "sessionId", 'out', position, role, text, 'completed', "createdAt", "createdAt"
        FROM jsonb_to_recordset($1::text::jsonb) AS x(id text, "sessionId" text, position bigint, role text, text text, "createdAt" bigint)`, [chunk]);
    };
    for (const m of messages(list, total)) {
      rows.push(m);
      if (rows.length === 25_000) await flush();
    }
    await flush();
    await sql`VACUUM ANALYZE`;
  } finally {
    await sql.end();
  }
}

/** Whether the database holds exactly what `seedSearchPostgres` writes, and nothing else. */
export async function isSeededPostgres(url, total, sessionCount) {
  const postgres = require('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM sessions)::int AS sessions,
      (SELECT count(*) FROM tool_calls)::int AS tools`;
    return row.messages === total && row.sessions === sessionCount && row.tools === 0;
  } finally {
    await sql.end();
  }
}
