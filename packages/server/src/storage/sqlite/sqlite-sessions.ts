import type Database from 'better-sqlite3';
import { sessionChannelPath, type SessionStatus } from '@tether/protocol';
import type {
  CloseSessionOutcome,
  CreateSessionOutcome,
  NewSession,
  SessionChange,
  SessionPatch,
  SessionQuery,
  SessionRecord,
  SessionRef,
  SessionStore,
} from '../session-types.js';
import type { CreateOutcome, CreateStreamRequest } from '../types.js';
import { SQLITE_ROWS, sessionFromRow, type SessionRow } from '../row-mappers.js';
import type { WriteBatcher } from './write-batcher.js';

/** Work other parts of the store do inside a session's close or delete transaction. */
export interface SessionTxHooks {
  beforeClose(projectId: string, id: string, now: number): void;
  beforeDelete(id: string): void;
}

/** The stream operations a session transaction needs, run inside that transaction. */
export interface StreamTx {
  createInTx(request: CreateStreamRequest): CreateOutcome;
  closeInTx(streamId: number, now: number): void;
  removeByIdInTx(streamId: number): void;
}

const SELECT = `SELECT s.*, o.tail AS out_tail, i.tail AS in_tail FROM sessions s
  JOIN streams o ON o.id = s.out_stream_id JOIN streams i ON i.id = s.in_stream_id`;
const EMPTY = Buffer.alloc(0);

/** Status condition for one requested status, treating passed expiries as `expired`. */
function statusCondition(status: SessionStatus): string {
  if (status === 'expired') return `(s.status = 'expired' OR (s.expires_at <= @now AND s.status <> 'closed'))`;
  if (status === 'closed') return `s.status = 'closed'`;
  return `(s.status = '${status}' AND (s.expires_at IS NULL OR s.expires_at > @now))`;
}

export class SqliteSessions implements SessionStore {
  private readonly sql;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: WriteBatcher,
    private readonly streams: StreamTx,
    private readonly hooks?: SessionTxHooks,
  ) {
    this.sql = {
      byId: db.prepare(`${SELECT} WHERE s.project_id = ? AND s.id = ?`),
      byExternal: db.prepare(`${SELECT} WHERE s.project_id = ? AND s.external_id = ?`),
      insert: db.prepare(`INSERT INTO sessions (id, project_id, external_id, type, title, agent, model, tags, metadata,
        parent_id, root_id, forked_from_session, forked_from_position, status, created_at, updated_at, last_activity_at,
        expires_at, out_stream_id, in_stream_id) VALUES (@id, @projectId, @externalId, @type, @title, @agent, @model,
        @tags, @metadata, @parentId, @rootId, @forkedFromSession, @forkedFromPosition, 'idle', @now, @now, @now,
        @expiresAt, @outStreamId, @inStreamId)`),
      insertTag: db.prepare('INSERT OR IGNORE INTO session_tags (project_id, tag, session_id) VALUES (?, ?, ?)'),
      deleteTags: db.prepare('DELETE FROM session_tags WHERE session_id = ?'),
      change: db.prepare('INSERT INTO session_changes (project_id, session_id, kind, snapshot, at) VALUES (?, ?, ?, ?, ?)'),
      close: db.prepare(`UPDATE sessions SET status = ?, closed_at = ?, closed_reason = ?, updated_at = ?,
        active_turn_id = NULL WHERE id = ?`),
      patch: db.prepare('UPDATE sessions SET title = ?, tags = ?, metadata = ?, updated_at = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM sessions WHERE id = ?'),
      deleteState: db.prepare('DELETE FROM session_state WHERE session_id = ?'),
      deleteFiles: db.prepare('DELETE FROM session_files WHERE session_id = ?'),
      changes: db.prepare('SELECT * FROM session_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      latest: db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM session_changes'),
      due: db.prepare(`SELECT project_id AS projectId, id FROM sessions WHERE expires_at <= ?
        AND status NOT IN ('closed', 'expired') ORDER BY expires_at LIMIT ?`),
      prune: db.prepare('DELETE FROM session_changes WHERE seq IN (SELECT seq FROM session_changes WHERE at < ? ORDER BY seq LIMIT ?)'),
    };
  }

  private get(projectId: string, id: string): SessionRecord | null {
    const row = this.sql.byId.get(projectId, id) as SessionRow | undefined;
    return row ? sessionFromRow(row, SQLITE_ROWS) : null;
  }

  private logChange(session: SessionRecord, kind: SessionChange['kind'], now: number): void {
    const snapshot = kind === 'session.deleted' ? JSON.stringify(session) : null;
    this.sql.change.run(session.projectId, session.id, kind, snapshot, now);
  }

  private channel(input: NewSession, channel: 'out' | 'in', source: SessionRecord | null): number | string {
    const fork = source
      ? {
          sourcePath: sessionChannelPath(source.id, channel),
          offset: channel === 'out' ? input.fork!.outPosition : input.fork!.inPosition,
          subOffset: 0,
        }
      : null;
    const outcome = this.streams.createInTx({
      path: sessionChannelPath(input.id, channel),
      contentType: 'application/json',
      ttlSeconds: null,
      expiresAt: null,
      closed: false,
      body: EMPTY,
      fork,
      now: input.now,
    });
    if (outcome.kind === 'created') return outcome.meta.id;
    return outcome.kind === 'bad-request' ? outcome.message : `cannot create the ${channel} channel (${outcome.kind})`;
  }

  createSession(input: NewSession): Promise<CreateSessionOutcome> {
    return this.writes.submit((): CreateSessionOutcome => {
      if (input.externalId !== null) {
        const row = this.sql.byExternal.get(input.projectId, input.externalId) as SessionRow | undefined;
        if (row) return { kind: 'exists', session: sessionFromRow(row, SQLITE_ROWS) };
      }
      let rootId = input.id;
      if (input.parentId !== null) {
        const parent = this.get(input.projectId, input.parentId);
        if (!parent) return { kind: 'parent-not-found' };
        rootId = parent.rootId;
      }
      const source = input.fork ? this.get(input.projectId, input.fork.sourceId) : null;
      if (input.fork && !source) return { kind: 'source-not-found' };
      const outStreamId = this.channel(input, 'out', source);
      const inStreamId = this.channel(input, 'in', source);
      // A bad offset leaves nothing behind: the savepoint around this write is rolled back.
      if (typeof outStreamId === 'string') throw new BadOffset(outStreamId);
      if (typeof inStreamId === 'string') throw new BadOffset(inStreamId);
      this.sql.insert.run({
        ...input,
        tags: JSON.stringify(input.tags),
        metadata: JSON.stringify(input.metadata),
        rootId,
        forkedFromSession: source?.id ?? null,
        forkedFromPosition: source ? (input.fork!.outPosition ?? source.outTail) : null,
        outStreamId,
        inStreamId,
      });
      for (const tag of input.tags) this.sql.insertTag.run(input.projectId, tag, input.id);
      const session = this.get(input.projectId, input.id)!;
      this.logChange(session, 'session', input.now);
      return { kind: 'created', session };
    }).catch((error: unknown) => {
      if (error instanceof BadOffset) return { kind: 'bad-offset', message: error.message };
      throw error;
    });
  }

  getSession(projectId: string, ref: SessionRef): Promise<SessionRecord | null> {
    return this.writes.read(() => {
      const row = ('id' in ref ? this.sql.byId.get(projectId, ref.id) : this.sql.byExternal.get(projectId, ref.externalId)) as
        | SessionRow
        | undefined;
      return row ? sessionFromRow(row, SQLITE_ROWS) : null;
    });
  }

  listSessions(query: SessionQuery): Promise<SessionRecord[]> {
    return this.writes.read(() => {
      const where: string[] = ['s.project_id = @projectId'];
      const params: Record<string, unknown> = { projectId: query.projectId, now: query.now, limit: query.limit };
      if (query.statuses.length) where.push(`(${query.statuses.map(statusCondition).join(' OR ')})`);
      const equal = { type: query.type, agent: query.agent, parent_id: query.parentId, root_id: query.rootId, external_id: query.externalId };
      for (const [column, value] of Object.entries(equal)) {
        if (value === null) continue;
        where.push(`s.${column} = @${column}`);
        params[column] = value;
      }
      if (query.createdAfter !== null) where.push('s.created_at > @createdAfter'), (params.createdAfter = query.createdAfter);
      if (query.createdBefore !== null) where.push('s.created_at < @createdBefore'), (params.createdBefore = query.createdBefore);
      if (query.beforeId !== null) where.push('s.id < @beforeId'), (params.beforeId = query.beforeId);
      let from = 'sessions s';
      const [firstTag, ...otherTags] = query.tags;
      if (firstTag !== undefined) {
        // Drive the scan from the first tag's index (CROSS JOIN fixes the loop order):
        // tags are usually the most selective filter.
        from = 'session_tags t CROSS JOIN sessions s ON s.id = t.session_id';
        where.push('t.project_id = @projectId AND t.tag = @tag0');
        if (query.beforeId !== null) where.push('t.session_id < @beforeId');
        params.tag0 = firstTag;
      }
      otherTags.forEach((tag, i) => {
        where.push(`EXISTS (SELECT 1 FROM session_tags x WHERE x.project_id = s.project_id AND x.tag = @tag${i + 1} AND x.session_id = s.id)`);
        params[`tag${i + 1}`] = tag;
      });
      const order = firstTag !== undefined ? 't.session_id DESC' : 's.id DESC';
      const sql = `SELECT s.*, o.tail AS out_tail, i.tail AS in_tail FROM ${from}
        JOIN streams o ON o.id = s.out_stream_id JOIN streams i ON i.id = s.in_stream_id
        WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT @limit`;
      return (this.db.prepare(sql).all(params) as SessionRow[]).map((row) => sessionFromRow(row, SQLITE_ROWS));
    });
  }

  updateSession(projectId: string, id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
    return this.writes.submit(() => {
      const session = this.get(projectId, id);
      if (!session) return null;
      const tags = patch.tags ?? session.tags;
      this.sql.patch.run(
        patch.title === undefined ? session.title : patch.title,
        JSON.stringify(tags),
        JSON.stringify(patch.metadata ?? session.metadata),
        now,
        id,
      );
      if (patch.tags) {
        this.sql.deleteTags.run(id);
        for (const tag of tags) this.sql.insertTag.run(projectId, tag, id);
      }
      const updated = this.get(projectId, id)!;
      this.logChange(updated, 'session', now);
      return updated;
    });
  }

  closeSession(
    projectId: string,
    id: string,
    close: { status: 'closed' | 'expired'; reason: string | null; now: number },
  ): Promise<CloseSessionOutcome> {
    return this.writes.submit((): CloseSessionOutcome => {
      const session = this.get(projectId, id);
      if (!session) return { kind: 'not-found' };
      if (session.status === 'closed' || session.status === 'expired') return { kind: 'already', session };
      // Turns are stopped first, while the channels are still open for their events.
      this.hooks?.beforeClose(projectId, id, close.now);
      this.sql.close.run(close.status, close.now, close.reason, close.now, id);
      this.streams.closeInTx(session.outStreamId, close.now);
      this.streams.closeInTx(session.inStreamId, close.now);
      const closed = this.get(projectId, id)!;
      this.logChange(closed, 'session', close.now);
      return { kind: 'closed', session: closed };
    });
  }

  deleteSession(projectId: string, id: string, now: number): Promise<SessionRecord | null> {
    return this.writes.submit(() => {
      const session = this.get(projectId, id);
      if (!session) return null;
      this.hooks?.beforeDelete(id);
      this.sql.deleteTags.run(id);
      this.sql.deleteState.run(id);
      this.sql.deleteFiles.run(id);
      this.sql.delete.run(id);
      this.streams.removeByIdInTx(session.outStreamId);
      this.streams.removeByIdInTx(session.inStreamId);
      this.logChange(session, 'session.deleted', now);
      return session;
    });
  }

  sessionChanges(afterSeq: number, limit: number): Promise<SessionChange[]> {
    return this.writes.read(() => {
      const rows = this.sql.changes.all(afterSeq, limit) as {
        seq: number;
        project_id: string;
        session_id: string;
        kind: SessionChange['kind'];
        snapshot: string | null;
      }[];
      return rows.map((row) => ({
        seq: row.seq,
        projectId: row.project_id,
        sessionId: row.session_id,
        kind: row.kind,
        snapshot: row.snapshot === null ? null : (JSON.parse(row.snapshot) as SessionRecord),
      }));
    });
  }

  latestSessionChange(): Promise<number> {
    return this.writes.read(() => (this.sql.latest.get() as { seq: number }).seq);
  }

  dueSessionExpiries(now: number, limit: number): Promise<{ projectId: string; id: string }[]> {
    return this.writes.read(() => this.sql.due.all(now, limit) as { projectId: string; id: string }[]);
  }

  pruneSessionChanges(before: number, limit: number): Promise<number> {
    return this.writes.submit(() => this.sql.prune.run(before, limit).changes);
  }
}

class BadOffset extends Error {}

