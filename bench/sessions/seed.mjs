/**
 * Seeds a large number of sessions straight into a store's tables, for the
 * list benchmark. The schema is created by starting the server first, so the
 * seed writes exactly the rows the server's own code would.
 */
import { createRequire } from 'node:module';
import { ulid } from 'ulid';
import { insertSessionsPostgres, openSqlite, random, sqliteSessionWriter } from '../lib/seed.mjs';

const require = createRequire(import.meta.url);
const TAGS = ['billing', 'support', 'sales', 'beta', 'vip', 'internal', 'eu', 'us', 'mobile', 'web'];
const STATUSES = ['idle', 'idle', 'idle', 'idle', 'closed', 'closed', 'closed', 'running', 'waiting', 'queued'];
const DAY = 86_400_000;

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
  const db = openSqlite(dataDir);
  const write = sqliteSessionWriter(db);
  const batch = db.transaction((rows) => {
    for (const r of rows) write(r);
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
    for (const row of sessionRows(count)) {
      rows.push(row);
      if (rows.length === 20_000) await insertSessionsPostgres(sql, rows.splice(0));
    }
    if (rows.length) await insertSessionsPostgres(sql, rows);
    // A database that has been running a while has been vacuumed: index-only scans
    // need the visibility map, which a bulk load leaves empty.
    await sql`VACUUM ANALYZE`;
  } finally {
    await sql.end();
  }
}
