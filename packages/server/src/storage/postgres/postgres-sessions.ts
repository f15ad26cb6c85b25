/**
 * Sessions on PostgreSQL: the same semantics as `sqlite/sqlite-sessions.ts`.
 * A session and its channel streams are created, closed and deleted in one
 * transaction; creates of one external id serialise on an advisory lock so
 * concurrent replicas make exactly one session.
 */
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
import { POSTGRES_ROWS, sessionFromRow, type SessionRow } from '../row-mappers.js';
import { guarded, transaction, type Db, type Query, type Tx } from './connection.js';
import { arrayLiteral } from './sql-arrays.js';
import { pathLockKey } from './stream-rows.js';

/** Work other parts of the store do inside a session's close or delete transaction. */
export interface PgSessionTxHooks {
  beforeClose(tx: Tx, projectId: string, id: string, now: number): Promise<void>;
  beforeDelete(tx: Tx, id: string): Promise<void>;
}

/** The stream operations a session transaction needs, inside that transaction. */
export interface PgStreamTx {
  createInTx(tx: Tx, request: CreateStreamRequest): Promise<CreateOutcome>;
  closeInTx(tx: Tx, streamId: number, now: number): Promise<void>;
  removeByIdInTx(tx: Tx, streamId: number): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

class BadOffset extends Error {}

// Any fixed key; every replica uses the same one.
export const CHANGE_LOG_LOCK = '7370291584721650002';

export class PostgresSessions implements SessionStore {
  constructor(
    private readonly db: Db,
    private readonly streams: PgStreamTx,
    private readonly hooks?: PgSessionTxHooks,
  ) {}

  private async get(q: Query, projectId: string, ref: SessionRef, lock = false): Promise<SessionRecord | null> {
    const where = 'id' in ref ? q`s.id = ${ref.id}` : q`s.external_id = ${ref.externalId}`;
    const rows = await q<SessionRow[]>`SELECT s.*, o.tail AS out_tail, i.tail AS in_tail FROM sessions s
      JOIN streams o ON o.id = s.out_stream_id JOIN streams i ON i.id = s.in_stream_id
      WHERE s.project_id = ${projectId} AND ${where} ${lock ? q`FOR UPDATE OF s` : q``}`;
    return rows.length ? sessionFromRow(rows[0]!, POSTGRES_ROWS) : null;
  }

  private async logChange(tx: Tx, session: SessionRecord, kind: SessionChange['kind'], now: number): Promise<void> {
    // Sequence numbers are handed out in commit order: the lock is held to commit, so a
    // watcher that has read change N can never later find a change below N appear.
    await tx`SELECT pg_advisory_xact_lock(${CHANGE_LOG_LOCK}::bigint)`;
    const snapshot = kind === 'session.deleted' ? tx.json(session as never) : null;
    await tx`INSERT INTO session_changes (project_id, session_id, kind, snapshot, at)
      VALUES (${session.projectId}, ${session.id}, ${kind}, ${snapshot}, ${now})`;
  }

  private async channel(tx: Tx, input: NewSession, channel: 'out' | 'in', source: SessionRecord | null): Promise<number> {
    const fork = source
      ? {
          sourcePath: sessionChannelPath(source.id, channel),
          offset: channel === 'out' ? input.fork!.outPosition : input.fork!.inPosition,
          subOffset: 0,
        }
      : null;
    const outcome = await this.streams.createInTx(tx, {
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
    throw new BadOffset(outcome.kind === 'bad-request' ? outcome.message : `cannot create the ${channel} channel (${outcome.kind})`);
  }

  async createSession(input: NewSession): Promise<CreateSessionOutcome> {
    try {
      return await transaction(this.db, async (tx): Promise<CreateSessionOutcome> => {
        if (input.externalId !== null) {
          await tx`SELECT pg_advisory_xact_lock(${pathLockKey(`${input.projectId}\u0000${input.externalId}`)}::bigint)`;
          const existing = await this.get(tx, input.projectId, { externalId: input.externalId });
          if (existing) return { kind: 'exists', session: existing };
        }
        let rootId = input.id;
        if (input.parentId !== null) {
          const parent = await this.get(tx, input.projectId, { id: input.parentId });
          if (!parent) return { kind: 'parent-not-found' };
          rootId = parent.rootId;
        }
        const source = input.fork ? await this.get(tx, input.projectId, { id: input.fork.sourceId }) : null;
        if (input.fork && !source) return { kind: 'source-not-found' };
        const outStreamId = await this.channel(tx, input, 'out', source);
        const inStreamId = await this.channel(tx, input, 'in', source);
        await tx`INSERT INTO sessions (id, project_id, external_id, type, title, agent, model, tags, metadata, parent_id,
            root_id, forked_from_session, forked_from_position, status, created_at, updated_at, last_activity_at,
            expires_at, out_stream_id, in_stream_id)
          VALUES (${input.id}, ${input.projectId}, ${input.externalId}, ${input.type}, ${input.title}, ${input.agent},
            ${input.model}, ${tx.json(input.tags)}, ${tx.json(input.metadata as never)}, ${input.parentId}, ${rootId},
            ${source?.id ?? null}, ${source ? (input.fork!.outPosition ?? source.outTail) : null}, 'idle', ${input.now},
            ${input.now}, ${input.now}, ${input.expiresAt}, ${outStreamId}, ${inStreamId})`;
        if (input.tags.length) {
          await tx`INSERT INTO session_tags (project_id, tag, session_id)
            SELECT ${input.projectId}, unnest(${arrayLiteral(input.tags)}::text[]), ${input.id}`;
        }
        const session = (await this.get(tx, input.projectId, { id: input.id }))!;
        await this.logChange(tx, session, 'session', input.now);
        return { kind: 'created', session };
      });
    } catch (error) {
      if (error instanceof BadOffset) return { kind: 'bad-offset', message: error.message };
      throw error;
    }
  }

  getSession(projectId: string, ref: SessionRef): Promise<SessionRecord | null> {
    return guarded(this.get(this.db, projectId, ref));
  }

  async listSessions(query: SessionQuery): Promise<SessionRecord[]> {
    const q = this.db;
    const conditions = [q`s.project_id = ${query.projectId}`];
    if (query.statuses.length) {
      const parts = query.statuses.map((status) => {
        if (status === 'expired') return q`(s.status = 'expired' OR (s.expires_at <= ${query.now} AND s.status <> 'closed'))`;
        if (status === 'closed') return q`s.status = 'closed'`;
        return q`(s.status = ${status} AND (s.expires_at IS NULL OR s.expires_at > ${query.now}))`;
      });
      conditions.push(q`(${parts.flatMap((p, i) => (i ? [q` OR `, p] : [p])).reduce((a, b) => q`${a}${b}`)})`);
    }
    if (query.type !== null) conditions.push(q`s.type = ${query.type}`);
    if (query.agent !== null) conditions.push(q`s.agent = ${query.agent}`);
    if (query.parentId !== null) conditions.push(q`s.parent_id = ${query.parentId}`);
    if (query.rootId !== null) conditions.push(q`s.root_id = ${query.rootId}`);
    if (query.externalId !== null) conditions.push(q`s.external_id = ${query.externalId}`);
    if (query.createdAfter !== null) conditions.push(q`s.created_at > ${query.createdAfter}`);
    if (query.createdBefore !== null) conditions.push(q`s.created_at < ${query.createdBefore}`);
    const [firstTag, ...otherTags] = query.tags;
    for (const tag of otherTags) {
      conditions.push(q`EXISTS (SELECT 1 FROM session_tags x WHERE x.project_id = s.project_id AND x.tag = ${tag} AND x.session_id = s.id)`);
    }
    // With a tag filter the scan is driven from that tag's index, walked backwards
    // in id order (tags are usually the most selective filter); otherwise from sessions.
    let rows: SessionRow[];
    if (firstTag !== undefined) {
      conditions.push(q`t.project_id = ${query.projectId} AND t.tag = ${firstTag}`);
      // The bound on both sides keeps a merge join from walking sessions down from the top.
      if (query.beforeId !== null) conditions.push(q`t.session_id < ${query.beforeId} AND s.id < ${query.beforeId}`);
      const where = conditions.reduce((a, b) => q`${a} AND ${b}`);
      rows = await guarded(
        q<SessionRow[]>`SELECT s.*, o.tail AS out_tail, i.tail AS in_tail FROM session_tags t
          JOIN sessions s ON s.id = t.session_id
          JOIN streams o ON o.id = s.out_stream_id JOIN streams i ON i.id = s.in_stream_id
          WHERE ${where} ORDER BY t.session_id DESC LIMIT ${query.limit}`,
      );
    } else {
      if (query.beforeId !== null) conditions.push(q`s.id < ${query.beforeId}`);
      const where = conditions.reduce((a, b) => q`${a} AND ${b}`);
      rows = await guarded(
        q<SessionRow[]>`SELECT s.*, o.tail AS out_tail, i.tail AS in_tail FROM sessions s
          JOIN streams o ON o.id = s.out_stream_id JOIN streams i ON i.id = s.in_stream_id
          WHERE ${where} ORDER BY s.id DESC LIMIT ${query.limit}`,
      );
    }
    return rows.map((row) => sessionFromRow(row, POSTGRES_ROWS));
  }

  updateSession(projectId: string, id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
    return transaction(this.db, async (tx) => {
      const session = await this.get(tx, projectId, { id }, true);
      if (!session) return null;
      const tags = patch.tags ?? session.tags;
      await tx`UPDATE sessions SET title = ${patch.title === undefined ? session.title : patch.title},
        tags = ${tx.json(tags)}, metadata = ${tx.json((patch.metadata ?? session.metadata) as never)}, updated_at = ${now}
        WHERE id = ${id}`;
      if (patch.tags) {
        await tx`DELETE FROM session_tags WHERE session_id = ${id}`;
        if (tags.length) {
          await tx`INSERT INTO session_tags (project_id, tag, session_id)
            SELECT ${projectId}, unnest(${arrayLiteral(tags)}::text[]), ${id}`;
        }
      }
      const updated = (await this.get(tx, projectId, { id }))!;
      await this.logChange(tx, updated, 'session', now);
      return updated;
    });
  }

  closeSession(
    projectId: string,
    id: string,
    close: { status: 'closed' | 'expired'; reason: string | null; now: number },
  ): Promise<CloseSessionOutcome> {
    return transaction(this.db, async (tx): Promise<CloseSessionOutcome> => {
      const session = await this.get(tx, projectId, { id }, true);
      if (!session) return { kind: 'not-found' };
      if (session.status === 'closed' || session.status === 'expired') return { kind: 'already', session };
      // Turns are stopped first, while the channels are still open for their events.
      await this.hooks?.beforeClose(tx, projectId, id, close.now);
      await tx`UPDATE sessions SET status = ${close.status}, closed_at = ${close.now}, closed_reason = ${close.reason},
        updated_at = ${close.now}, active_turn_id = NULL WHERE id = ${id}`;
      await this.streams.closeInTx(tx, session.outStreamId, close.now);
      await this.streams.closeInTx(tx, session.inStreamId, close.now);
      const closed = (await this.get(tx, projectId, { id }))!;
      await this.logChange(tx, closed, 'session', close.now);
      return { kind: 'closed', session: closed };
    });
  }

  deleteSession(projectId: string, id: string, now: number): Promise<SessionRecord | null> {
    return transaction(this.db, async (tx) => {
      const session = await this.get(tx, projectId, { id }, true);
      if (!session) return null;
      await this.hooks?.beforeDelete(tx, id);
      await tx`DELETE FROM session_tags WHERE session_id = ${id}`;
      await tx`DELETE FROM session_state WHERE session_id = ${id}`;
      await tx`DELETE FROM session_files WHERE session_id = ${id}`;
      await tx`DELETE FROM sessions WHERE id = ${id}`;
      await this.streams.removeByIdInTx(tx, session.outStreamId);
      await this.streams.removeByIdInTx(tx, session.inStreamId);
      await this.logChange(tx, session, 'session.deleted', now);
      return session;
    });
  }

  async sessionChanges(afterSeq: number, limit: number): Promise<SessionChange[]> {
    const rows = await guarded(
      this.db<{ seq: number; project_id: string; session_id: string; kind: SessionChange['kind']; snapshot: SessionRecord | null }[]>`
        SELECT seq, project_id, session_id, kind, snapshot FROM session_changes WHERE seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`,
    );
    return rows.map((r) => ({ seq: r.seq, projectId: r.project_id, sessionId: r.session_id, kind: r.kind, snapshot: r.snapshot }));
  }

  async latestSessionChange(): Promise<number> {
    const [row] = await guarded(this.db<{ seq: number }[]>`SELECT coalesce(max(seq), 0)::bigint AS seq FROM session_changes`);
    return row!.seq;
  }

  dueSessionExpiries(now: number, limit: number): Promise<{ projectId: string; id: string }[]> {
    return guarded(
      this.db<{ projectId: string; id: string }[]>`SELECT project_id AS "projectId", id FROM sessions
        WHERE expires_at <= ${now} AND status NOT IN ('closed', 'expired') ORDER BY expires_at LIMIT ${limit}`,
    );
  }

  async pruneSessionChanges(before: number, limit: number): Promise<number> {
    const result = await guarded(
      this.db`DELETE FROM session_changes WHERE seq IN (SELECT seq FROM session_changes WHERE at < ${before} ORDER BY seq LIMIT ${limit})`,
    );
    return result.count;
  }
}
