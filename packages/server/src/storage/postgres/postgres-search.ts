/**
 * Full-text search on PostgreSQL's tsvector columns (migration 5). Titles and
 * tool calls are staged as on SQLite (see `sqlite/sqlite-search.ts`): each
 * table gives its best-ranked matches of the project first, and only those are
 * joined with their sessions for the filters; the candidate lists grow until
 * the page's order is exact. Messages are ranked in one statement with the
 * filters applied, over the newest messages only when a query matches very
 * many of them (see `messageHits`).
 */
import type postgres from 'postgres';
import type { Db } from './connection.js';
import { tsQuery } from '../search-query.js';
import type { SearchQuery, SearchRow } from '../transcript-types.js';
import { arrayLiteral } from './sql-arrays.js';

/** Hit kinds in their tie-break order, as cursor-key letters and as API names. */
const KINDS = ['m', 's', 't'] as const;
const KIND_NAMES = ['message', 'title', 'tool'] as const;
const KEY = /^([mst])(\d{1,15}|ses_[0-9A-Z]{26})$/;
const FIRST_CANDIDATES = 256;
/** Above this many estimated matches, only the newest messages are ranked (see messageHits). */
const RANKED_MATCHES = 2_000;

interface Hit {
  k: number;
  ref: string;
  score: number;
  sessionId: string;
  text: string;
}

type Fragment = postgres.PendingQuery<postgres.Row[]>;
type Resume = (k: number, score: Fragment, ref: Fragment) => Fragment;

/** Refs sort as the keys do: message and tool sequence numbers zero-padded, titles by session id. */
const pad = (seq: number | string) => String(seq).padStart(15, '0');

export async function searchPostgres(db: Db, query: SearchQuery): Promise<SearchRow[]> {
  const q = tsQuery(query.terms);
  if (!q) return [];
  const filters = [db`s.project_id = ${query.projectId}`];
  if (query.sessionId !== null) filters.push(db`s.id = ${query.sessionId}`);
  if (query.agent !== null) filters.push(db`s.agent = ${query.agent}`);
  if (query.type !== null) filters.push(db`s.type = ${query.type}`);
  if (query.createdAfter !== null) filters.push(db`s.created_at > ${query.createdAfter}`);
  if (query.createdBefore !== null) filters.push(db`s.created_at < ${query.createdBefore}`);
  if (query.statuses.length) filters.push(db`s.status = ANY(${arrayLiteral(query.statuses)}::text[])`);
  for (const tag of query.tags) {
    filters.push(db`EXISTS (SELECT 1 FROM session_tags g WHERE g.project_id = s.project_id AND g.tag = ${tag} AND g.session_id = s.id)`);
  }
  if (query.tool !== null) filters.push(db`EXISTS (SELECT 1 FROM tool_calls f WHERE f.name = ${query.tool} AND f.session_id = s.id)`);
  const where = filters.reduce((acc, condition) => db`${acc} AND ${condition}`);
  let after: { score: number; k: number; ref: string } | null = null;
  if (query.after) {
    const key = KEY.exec(query.after.key);
    if (!key) return [];
    const k = KINDS.indexOf(key[1] as (typeof KINDS)[number]);
    after = { score: query.after.score, k, ref: k === 1 ? key[2]! : pad(key[2]!) };
  }
  // Rows after the cursor: lower score, or the same score and a later (kind, ref).
  const resume: Resume = (k, score, ref) =>
    after ? db`AND (${score} < ${after.score}::float8 OR (${score} = ${after.score}::float8 AND (${k}::int > ${after.k}::int OR (${k}::int = ${after.k}::int AND ${ref} > ${after.ref}))))` : db``;

  // Ranked once, alongside the first round of titles and tool calls.
  const messageList = messageHits(db, q, query, filters.length > 1 ? where : null, resume);
  for (let candidates = Math.max(FIRST_CANDIDATES, query.limit * 16); ; candidates *= 8) {
    const limit = candidates > 1_000_000 ? null : candidates;
    const cap = limit === null ? db`` : db`LIMIT ${limit}`;
    // The query is parsed once per statement (a CTE), not once per ranked row.
    const [messages, titles, tools] = await Promise.all([
      messageList,
      db<{ ref: string; score: number; session_id: string; text: string; passes: boolean }[]>`
        WITH q AS MATERIALIZED (SELECT to_tsquery('simple', ${q}) AS query)
        SELECT s.id AS ref, ts_rank(s.title_search, q.query)::float8 AS score, s.id AS session_id,
          s.title AS text, true AS passes
        FROM q, sessions s WHERE s.title_search @@ q.query AND ${where}
          ${resume(1, db`ts_rank(s.title_search, q.query)::float8`, db`s.id`)}
        ORDER BY score DESC, s.id ${cap}`,
      db<{ ref: string; score: number; session_id: string; text: string; passes: boolean }[]>`
        WITH q AS MATERIALIZED (SELECT to_tsquery('simple', ${q}) AS query),
        c AS (
          SELECT t.seq, t.session_id, t.name, ts_rank(t.search, q.query)::float8 AS score FROM q, tool_calls t
          WHERE t.search @@ q.query AND t.project_id = ${query.projectId}
            ${resume(2, db`ts_rank(t.search, q.query)::float8`, db`lpad(t.seq::text, 15, '0')`)}
          ORDER BY score DESC, t.seq ${cap})
        SELECT lpad(c.seq::text, 15, '0') AS ref, c.score, c.session_id, c.name AS text,
          EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id AND ${where}) AS passes
        FROM c ORDER BY c.score DESC, c.seq`,
    ]);
    let floor = -Infinity;
    const hits: Hit[] = [...messages];
    [titles, tools].forEach((rows, n) => {
      if (limit !== null && rows.length === limit) floor = Math.max(floor, rows.at(-1)!.score);
      for (const row of rows) if (row.passes) hits.push({ k: n + 1, ref: row.ref, score: row.score, sessionId: row.session_id, text: row.text });
    });
    hits.sort((a, b) => b.score - a.score || a.k - b.k || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    // Hits at or below a truncated list's floor may have unseen neighbours that outrank them.
    const page = hits.filter((hit) => hit.score > floor).slice(0, query.limit);
    if (page.length >= query.limit || floor === -Infinity) return toRows(page);
  }
}

/**
 * The best message hits past the cursor, up to a page, filters applied as the
 * matches are ranked (each ranked row is read anyway, and so is its session id).
 *
 * A query matching more than RANKED_MATCHES messages (the planner's estimate
 * from the index statistics) ranks only the newest messages: a window of
 * sequence numbers sized to hold about that many matches, found through a
 * BRIN index on `seq`, and widened until at least a page of its matches
 * passes the filters. Ranking every match of a common word would read most of
 * the table. The window depends on the query and filters only, never on the
 * cursor, so every page of a search ranks the same messages.
 */
async function messageHits(db: Db, q: string, query: SearchQuery, where: Fragment | null, resume: Resume): Promise<Hit[]> {
  let from: number | null = null;
  let span = 0;
  let newest = 0;
  if (query.sessionId === null) {
    const [[plan], [{ last }]] = await Promise.all([
      db<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[]>`
        EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE search @@ to_tsquery('simple', ${q})`,
      db<{ last: number | null }[]>`SELECT max(seq) AS last FROM messages`,
    ]);
    const estimate = plan!['QUERY PLAN'][0].Plan['Plan Rows'];
    if (estimate > RANKED_MATCHES && last !== null) {
      newest = last;
      span = Math.ceil((last * RANKED_MATCHES) / estimate);
      from = last - span;
      if (from <= 0) from = null;
    }
  }
  for (;;) {
    const rows = await db<{ total: number; seq: number | null; session_id: string | null; score: number | null; text: string | null }[]>`
      WITH q AS MATERIALIZED (SELECT to_tsquery('simple', ${q}) AS query),
      c AS MATERIALIZED (
        SELECT m.seq, m.session_id, ts_rank(m.search, q.query)::float8 AS score FROM q, messages m
        WHERE m.search @@ q.query AND m.project_id = ${query.projectId}
          ${from === null ? db`` : db`AND m.seq > ${from}`}
          ${query.sessionId === null ? db`` : db`AND m.session_id = ${query.sessionId}`}
          ${where === null ? db`` : db`AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = m.session_id AND ${where})`}),
      top AS (
        SELECT c.seq, c.session_id, c.score FROM c
        WHERE true ${resume(0, db`c.score`, db`lpad(c.seq::text, 15, '0')`)}
        ORDER BY c.score DESC, c.seq LIMIT ${query.limit})
      SELECT (SELECT count(*) FROM c)::int AS total, top.seq, top.session_id, top.score, m.text
      FROM (SELECT 1) one LEFT JOIN top ON true LEFT JOIN messages m ON m.seq = top.seq
      ORDER BY top.score DESC, top.seq`;
    if (from === null || rows[0]!.total >= query.limit) {
      return rows
        .filter((row) => row.seq !== null)
        .map((row) => ({ k: 0, ref: pad(row.seq!), score: row.score!, sessionId: row.session_id!, text: row.text! }));
    }
    // Too few of the window's matches pass the filters: widen it in proportion.
    span *= Math.min(16, Math.max(2, Math.ceil((query.limit * 2) / Math.max(rows[0]!.total, 1))));
    from = newest - span;
    if (from <= 0) from = null;
  }
}

function toRows(hits: Hit[]): SearchRow[] {
  return hits.map((hit) => ({
    kind: KIND_NAMES[hit.k]!,
    sessionId: hit.sessionId,
    key: `${KINDS[hit.k]}${hit.k === 1 ? hit.ref : Number(hit.ref)}`,
    score: hit.score,
    text: hit.text ?? '',
    messageSeq: hit.k === 0 ? Number(hit.ref) : null,
  }));
}
