/**
 * Full-text search on SQLite's FTS5 tables (migration 5). Ranking is staged:
 * each index gives its best-scoring candidates first (cheap: scores come from
 * the index alone), and only those are joined with their rows and sessions
 * for the filters. A page is answered once enough hits score above every
 * truncated candidate list's lowest score, which keeps the order exact; until
 * then the candidate lists grow eightfold, up to every match.
 */
import type Database from 'better-sqlite3';
import { fts5Query } from '../search-query.js';
import type { SearchQuery, SearchRow } from '../transcript-types.js';

/** Hit kinds in their tie-break order, as cursor-key letters and as API names. */
const KINDS = ['m', 's', 't'] as const;
const KIND_NAMES = ['message', 'title', 'tool'] as const;
const KEY = /^([mst])(\d{1,15})$/;
const SOURCES = [
  { k: 0, fts: 'messages_fts', table: 'messages', key: 'seq', session: 'session_id', text: 'text' },
  { k: 1, fts: 'sessions_fts', table: 'sessions', key: 'rowid', session: 'id', text: 'title' },
  { k: 2, fts: 'tool_calls_fts', table: 'tool_calls', key: 'seq', session: 'session_id', text: 'name' },
] as const;
const FIRST_CANDIDATES = 256;
const ALL = -1;

interface Hit {
  k: number;
  ref: number;
  score: number;
  sessionId: string;
}

export function searchSqlite(db: Database.Database, query: SearchQuery): SearchRow[] {
  const match = fts5Query(query.terms);
  if (!match) return [];
  const where = ['s.project_id = @projectId'];
  const params: Record<string, unknown> = { match, projectId: query.projectId };
  if (query.sessionId !== null) where.push('s.id = @sessionId'), (params.sessionId = query.sessionId);
  if (query.agent !== null) where.push('s.agent = @agent'), (params.agent = query.agent);
  if (query.type !== null) where.push('s.type = @type'), (params.type = query.type);
  if (query.createdAfter !== null) where.push('s.created_at > @createdAfter'), (params.createdAfter = query.createdAfter);
  if (query.createdBefore !== null) where.push('s.created_at < @createdBefore'), (params.createdBefore = query.createdBefore);
  if (query.statuses.length) {
    where.push(`s.status IN (${query.statuses.map((_, n) => `@status${n}`).join(', ')})`);
    query.statuses.forEach((status, n) => (params[`status${n}`] = status));
  }
  query.tags.forEach((tag, n) => {
    where.push(`EXISTS (SELECT 1 FROM session_tags g WHERE g.project_id = s.project_id AND g.tag = @tag${n} AND g.session_id = s.id)`);
    params[`tag${n}`] = tag;
  });
  if (query.tool !== null) {
    where.push('EXISTS (SELECT 1 FROM tool_calls f WHERE f.name = @tool AND f.session_id = s.id)');
    params.tool = query.tool;
  }
  let resume = '';
  if (query.after) {
    const after = KEY.exec(query.after.key);
    if (!after) return [];
    params.afterScore = query.after.score;
    params.afterK = KINDS.indexOf(after[1] as (typeof KINDS)[number]);
    params.afterRef = Number(after[2]);
    resume = 'AND (c.score < @afterScore OR (c.score = @afterScore AND (@k > @afterK OR (@k = @afterK AND c.ref > @afterRef))))';
  }

  for (let candidates = Math.max(FIRST_CANDIDATES, query.limit * 16); ; candidates *= 8) {
    const limit = candidates > 1_000_000 ? ALL : candidates;
    const hits: Hit[] = [];
    let floor = -Infinity;
    for (const source of SOURCES) {
      const ranked = db
        .prepare(`SELECT c.ref, c.score FROM (SELECT rowid AS ref, -bm25(${source.fts}) AS score FROM ${source.fts}
            WHERE ${source.fts} MATCH @match) c WHERE 1 ${resume} ORDER BY c.score DESC, c.ref LIMIT @limit`)
        .all({ ...params, k: source.k, limit }) as { ref: number; score: number }[];
      if (!ranked.length) continue;
      if (limit !== ALL && ranked.length === limit) floor = Math.max(floor, ranked.at(-1)!.score);
      const kept = db
        .prepare(`SELECT r.${source.key} AS ref, r.${source.session} AS sessionId FROM ${source.table} r
            JOIN sessions s ON s.id = r.${source.session}
            WHERE r.${source.key} IN (SELECT value FROM json_each(@refs)) AND ${where.join(' AND ')}`)
        .all({ ...params, refs: JSON.stringify(ranked.map((c) => c.ref)) }) as { ref: number; sessionId: string }[];
      const sessionOf = new Map(kept.map((row) => [row.ref, row.sessionId]));
      for (const c of ranked) {
        const sessionId = sessionOf.get(c.ref);
        if (sessionId !== undefined) hits.push({ k: source.k, ref: c.ref, score: c.score, sessionId });
      }
    }
    hits.sort((a, b) => b.score - a.score || a.k - b.k || a.ref - b.ref);
    // Hits at or below a truncated list's floor may have unseen neighbours that outrank them.
    const exact = hits.filter((hit) => hit.score > floor);
    if (exact.length >= query.limit || floor === -Infinity) return withTexts(db, exact.slice(0, query.limit));
  }
}

function withTexts(db: Database.Database, hits: Hit[]): SearchRow[] {
  const texts = new Map<string, string>();
  for (const source of SOURCES) {
    const refs = hits.filter((hit) => hit.k === source.k).map((hit) => hit.ref);
    if (!refs.length) continue;
    const rows = db
      .prepare(`SELECT ${source.key} AS ref, ${source.text} AS text FROM ${source.table} WHERE ${source.key} IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(refs)) as { ref: number; text: string | null }[];
    for (const row of rows) texts.set(`${source.k}:${row.ref}`, row.text ?? '');
  }
  return hits.map((hit) => ({
    kind: KIND_NAMES[hit.k]!,
    sessionId: hit.sessionId,
    key: `${KINDS[hit.k]}${hit.ref}`,
    score: hit.score,
    text: texts.get(`${hit.k}:${hit.ref}`) ?? '',
    messageSeq: hit.k === 0 ? hit.ref : null,
  }));
}
