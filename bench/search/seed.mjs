/**
 * Seeds sessions and transcript messages straight into a store's tables for the
 * search benchmark. The server creates the schema first, so the rows are
 * indexed by the store's own FTS5 triggers / generated tsvector columns.
 * Words follow a Zipf distribution over a generated vocabulary, as words in
 * real text do; everything is deterministic, so every run seeds the same data.
 */
import { createRequire } from 'node:module';
import { ulid } from 'ulid';
import { insertSessionsPostgres, openSqlite, random, sqliteSessionWriter } from '../lib/seed.mjs';

const require = createRequire(import.meta.url);
const VOCABULARY = 20_000;
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'be', 'do', 'fa', 'gu', 'hi', 'jo', 'pe', 'qu', 'ri', 'su', 'ta', 'zo'];
const AGENTS = 10;
const TAGS = ['billing', 'support', 'sales', 'beta', 'vip', 'internal', 'eu', 'us', 'mobile', 'web'];
const STATUSES = ['idle', 'idle', 'closed', 'closed', 'running', 'waiting'];
const DAY = 86_400_000;

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
  const db = openSqlite(dataDir);
  const write = sqliteSessionWriter(db);
  const message = db.prepare(`INSERT INTO messages (id, project_id, session_id, channel, position, role, text, status, created_at, updated_at)
    VALUES (?, 'default', ?, 'out', ?, ?, ?, 'completed', ?, ?)`);
  const list = [...sessions(sessionCount, Date.now())];
  const per = Math.floor(total / sessionCount);
  db.transaction(() => {
    for (const s of list) write(s, per);
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
    for (let i = 0; i < list.length; i += 10_000) await insertSessionsPostgres(sql, list.slice(i, i + 10_000), per);
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
