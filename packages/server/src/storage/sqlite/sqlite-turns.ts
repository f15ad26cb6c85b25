/**
 * Turns and interactions on SQLite. Every mutation is one write of the
 * group-commit batcher: SQLite has one writer, so the snapshot a decision
 * sees cannot change before its plan is written, and a refused decision
 * rolls back only its own savepoint.
 */
import type Database from 'better-sqlite3';
import { sessionChannelPath } from '@tether/protocol';
import { AppError } from '../../errors.js';
import { runOrder, sessionAfter, sessionChanges } from '../turn-rules.js';
import {
  RUNNER_PRODUCER_ID,
  type ClaimFilter,
  type Decide,
  type Decision,
  type InteractionQuery,
  type InteractionRecord,
  type MutationResult,
  type SnapshotQuery,
  type TurnListQuery,
  type TurnRecord,
  type TurnSnapshot,
  type TurnStore,
} from '../turn-types.js';
import type { AppendOutcome, AppendRequest, StreamMeta } from '../types.js';
import { interactionFromRow, interactionParams, turnFromRow, turnParams, type InteractionRow, type TurnRow } from './turn-rows.js';
import type { WriteBatcher } from './write-batcher.js';
import { AppendRefused, jsonRequest } from '../event-appends.js';
import { headFromRow, type HeadRow } from '../row-mappers.js';

/** The stream operations a turn mutation needs, inside its transaction. */
export interface TurnStreamTx {
  appendInTx(request: AppendRequest): AppendOutcome;
  setProducerInTx(streamId: number, producerId: string, epoch: number, lastSeq: number, now: number): void;
  metaByIdInTx(id: number): StreamMeta | null;
}

export class SqliteTurns implements TurnStore {
  private readonly sql;
  private readonly claimQueries = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly writes: WriteBatcher,
    private readonly streams: TurnStreamTx,
  ) {
    this.sql = {
      head: db.prepare(`SELECT id, project_id, status, expires_at, agent, active_turn_id, turn_count, pending_interactions,
        lease_epoch, out_stream_id, in_stream_id FROM sessions WHERE project_id = ? AND id = ?`),
      openTurns: db.prepare(`SELECT * FROM turns WHERE session_id = ? AND status IN ('queued', 'running', 'waiting')`),
      turnById: db.prepare('SELECT * FROM turns WHERE session_id = ? AND id = ?'),
      turnByKey: db.prepare('SELECT * FROM turns WHERE session_id = ? AND idempotency_key = ?'),
      pending: db.prepare(`SELECT * FROM interactions WHERE session_id = ? AND status = 'pending' ORDER BY seq`),
      interaction: db.prepare('SELECT * FROM interactions WHERE session_id = ? AND interaction_id = ?'),
      upsertTurn: db.prepare(`INSERT INTO turns (id, project_id, session_id, seq, status, priority, content, policy,
          idempotency_key, runner_id, lease_epoch, lease_expires_at, lease_ms, attempts, interrupt_requested,
          cancel_requested, error, reason, created_at, queued_at, started_at, ended_at, updated_at)
        VALUES (@id, @projectId, @sessionId, @seq, @status, @priority, @content, @policy, @idempotencyKey, @runnerId,
          @leaseEpoch, @leaseExpiresAt, @leaseMs, @attempts, @interruptRequested, @cancelRequested, @error, @reason,
          @createdAt, @queuedAt, @startedAt, @endedAt, @updatedAt)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, priority = excluded.priority,
          runner_id = excluded.runner_id, lease_epoch = excluded.lease_epoch, lease_expires_at = excluded.lease_expires_at,
          lease_ms = excluded.lease_ms, attempts = excluded.attempts, interrupt_requested = excluded.interrupt_requested,
          cancel_requested = excluded.cancel_requested, error = excluded.error, reason = excluded.reason,
          started_at = excluded.started_at, ended_at = excluded.ended_at, updated_at = excluded.updated_at`),
      upsertInteraction: db.prepare(`INSERT INTO interactions (project_id, session_id, turn_id, interaction_id, kind,
          prompt, choices, schema, timeout_at, status, response, requested_at, resolved_at)
        VALUES (@projectId, @sessionId, @turnId, @id, @kind, @prompt, @choices, @schema, @timeoutAt, @status, @response,
          @requestedAt, @resolvedAt)
        ON CONFLICT (session_id, interaction_id) DO UPDATE SET status = excluded.status, response = excluded.response,
          resolved_at = excluded.resolved_at`),
      updateSession: db.prepare(`UPDATE sessions SET status = @status, active_turn_id = @activeTurnId,
        turn_count = @turnCount, pending_interactions = @pendingInteractions, lease_epoch = @leaseEpoch,
        updated_at = @now, last_activity_at = @now WHERE id = @id`),
      change: db.prepare(`INSERT INTO session_changes (project_id, session_id, kind, snapshot, at) VALUES (?, ?, 'session', NULL, ?)`),
      lapsed: db.prepare(`SELECT DISTINCT project_id AS projectId, session_id AS sessionId FROM turns
        WHERE status IN ('running', 'waiting') AND lease_expires_at <= ? LIMIT ?`),
      allActive: db.prepare(`SELECT DISTINCT project_id AS projectId, session_id AS sessionId FROM turns
        WHERE status IN ('running', 'waiting') LIMIT ?`),
      dueInteractions: db.prepare(`SELECT DISTINCT project_id AS projectId, session_id AS sessionId FROM interactions
        WHERE status = 'pending' AND timeout_at <= ? LIMIT ?`),
      listTurns: db.prepare(`SELECT * FROM turns WHERE session_id = @sessionId AND (@beforeSeq IS NULL OR seq < @beforeSeq)
        ORDER BY seq DESC LIMIT @limit`),
      deleteTurns: db.prepare('DELETE FROM turns WHERE session_id = ?'),
      deleteInteractions: db.prepare('DELETE FROM interactions WHERE session_id = ?'),
    };
  }

  private snapshot(projectId: string, sessionId: string, query: SnapshotQuery, now: number): (TurnSnapshot & { head: HeadRow }) | null {
    const head = this.sql.head.get(projectId, sessionId) as HeadRow | undefined;
    if (!head) return null;
    const session = headFromRow(head);
    const turnRow = (query.turnId !== undefined
      ? this.sql.turnById.get(sessionId, query.turnId)
      : query.idempotencyKey !== undefined
        ? this.sql.turnByKey.get(sessionId, query.idempotencyKey)
        : undefined) as TurnRow | undefined;
    const interactions = (query.interactionIds ?? [])
      .map((id) => this.sql.interaction.get(sessionId, id) as InteractionRow | undefined)
      .filter((row): row is InteractionRow => row !== undefined)
      .map(interactionFromRow);
    return {
      head,
      session,
      openTurns: (this.sql.openTurns.all(sessionId) as TurnRow[]).map(turnFromRow).sort(runOrder),
      turn: turnRow ? turnFromRow(turnRow) : null,
      pending: (this.sql.pending.all(sessionId) as InteractionRow[]).map(interactionFromRow),
      interactions,
      now,
    };
  }

  private load(projectId: string, sessionId: string, query: SnapshotQuery, now: number) {
    const snapshot = this.snapshot(projectId, sessionId, query, now);
    if (!snapshot) throw new AppError('SESSION_NOT_FOUND', `no session ${sessionId}`);
    return snapshot;
  }

  private apply<R>(snapshot: TurnSnapshot & { head: HeadRow }, decision: Decision<R>, logChange = true): MutationResult<R> {
    const { plan, result } = decision;
    const { head, now } = snapshot;
    for (const turn of plan.turns) this.sql.upsertTurn.run(turnParams(turn));
    for (const interaction of plan.interactions) this.sql.upsertInteraction.run(interactionParams(interaction));
    const after = sessionAfter(snapshot, plan);
    const before = snapshot.session;
    const { visible: sessionChanged, write: writeSession } = sessionChanges(before, after);
    if (writeSession) {
      this.sql.updateSession.run({ ...after, now, id: head.id });
    }
    if (plan.leaseEpoch !== null) {
      // The new epoch fences whoever held the lease before: their next append to `out` is 403.
      this.streams.setProducerInTx(head.out_stream_id, RUNNER_PRODUCER_ID, plan.leaseEpoch, -1, now);
    }
    // Events for a channel that is already closed (a late completion) are dropped: the turn's row still says it.
    if (plan.appendIn.length) this.streams.appendInTx(jsonRequest(sessionChannelPath(head.id, 'in'), plan.appendIn, now));
    if (plan.appendOut.length) this.streams.appendInTx(jsonRequest(sessionChannelPath(head.id, 'out'), plan.appendOut, now));
    if (sessionChanged && logChange) this.sql.change.run(head.project_id, head.id, now);
    return {
      result,
      outStreamId: head.out_stream_id,
      inStreamId: head.in_stream_id,
      outTail: this.streams.metaByIdInTx(head.out_stream_id)?.tail ?? 0,
      inTail: this.streams.metaByIdInTx(head.in_stream_id)?.tail ?? 0,
      sessionChanged,
      claimable: after.status === 'queued',
      agent: snapshot.session.agent,
    };
  }

  mutate<R>(projectId: string, sessionId: string, query: SnapshotQuery, now: number, decide: Decide<R>): Promise<MutationResult<R>> {
    return this.writes.submit(() => {
      const snapshot = this.load(projectId, sessionId, query, now);
      return this.apply(snapshot, decide(snapshot));
    });
  }

  /** Runs the session-close decision inside the close's own transaction. */
  closeInTx(projectId: string, sessionId: string, now: number, decide: Decide<null>): void {
    const snapshot = this.snapshot(projectId, sessionId, {}, now);
    if (snapshot) this.apply(snapshot, decide(snapshot), false);
  }

  deleteInTx(sessionId: string): void {
    this.sql.deleteTurns.run(sessionId);
    this.sql.deleteInteractions.run(sessionId);
  }

  async appendProjected<R>(
    projectId: string,
    sessionId: string,
    request: AppendRequest,
    query: SnapshotQuery,
    decide: Decide<R>,
  ): Promise<{ outcome: AppendOutcome; mutation: MutationResult<R> | null }> {
    try {
      return await this.writes.submit(() => {
        const snapshot = this.load(projectId, sessionId, query, request.now);
        const decision = decide(snapshot);
        if (decision.skipAppend) {
          const mutation = this.apply(snapshot, decision);
          const meta = this.streams.metaByIdInTx(request.path.endsWith('/in') ? snapshot.head.in_stream_id : snapshot.head.out_stream_id)!;
          return { outcome: { kind: 'appended', meta, producer: null } as AppendOutcome, mutation };
        }
        const outcome = this.streams.appendInTx(request);
        if (outcome.kind !== 'appended') throw new AppendRefused(outcome);
        return { outcome, mutation: this.apply(snapshot, decision) };
      });
    } catch (error) {
      if (error instanceof AppendRefused) return { outcome: error.outcome, mutation: null };
      throw error;
    }
  }

  private claimQuery(agents: number): Database.Statement {
    let statement = this.claimQueries.get(agents);
    if (!statement) {
      const filter = agents ? `AND s.agent IN (${Array(agents).fill('?').join(', ')})` : '';
      // CROSS JOIN keeps the queue as the outer loop, read in order from its
      // partial index: left to itself the planner would walk every session of
      // the agent (the project and agent filters match an index of sessions)
      // and sort all their turns, which made each claim cost O(sessions).
      statement = this.db.prepare(`SELECT t.project_id AS projectId, t.session_id AS sessionId
        FROM turns t CROSS JOIN sessions s ON s.id = t.session_id
        WHERE t.status = 'queued' AND t.project_id = ? AND s.status = 'queued' AND (s.expires_at IS NULL OR s.expires_at > ?) ${filter}
        ORDER BY t.queued_at, t.id LIMIT 1`);
      this.claimQueries.set(agents, statement);
    }
    return statement;
  }

  async claim<R>(filter: ClaimFilter, decide: Decide<R | null>): Promise<MutationResult<R> | null> {
    // Every waiting claimer wakes on every admitted turn; those that find the
    // queue empty must not each cost a write transaction and an fsync.
    if (!this.claimQuery(filter.agents.length).get(filter.projectId, filter.now, ...filter.agents)) return null;
    return this.writes.submit(() => {
      const row = this.claimQuery(filter.agents.length).get(filter.projectId, filter.now, ...filter.agents) as
        | { projectId: string; sessionId: string }
        | undefined;
      if (!row) return null;
      const snapshot = this.load(row.projectId, row.sessionId, {}, filter.now);
      const decision = decide(snapshot);
      if (decision.result === null) return null;
      return this.apply(snapshot, decision) as MutationResult<R>;
    });
  }

  countByStatus(): Promise<Record<string, number>> {
    return this.writes.read(() => {
      const rows = this.db.prepare('SELECT status, count(*) AS n FROM turns GROUP BY status').all() as { status: string; n: number }[];
      return Object.fromEntries(rows.map((row) => [row.status, row.n]));
    });
  }

  lapsedLeases(now: number, limit: number, all = false): Promise<{ projectId: string; sessionId: string }[]> {
    return this.writes.read(() => (all ? this.sql.allActive.all(limit) : this.sql.lapsed.all(now, limit)) as { projectId: string; sessionId: string }[]);
  }

  dueInteractions(now: number, limit: number): Promise<{ projectId: string; sessionId: string }[]> {
    return this.writes.read(() => this.sql.dueInteractions.all(now, limit) as { projectId: string; sessionId: string }[]);
  }

  getTurn(projectId: string, sessionId: string, turnId: string): Promise<TurnRecord | null> {
    return this.writes.read(() => {
      const row = this.sql.turnById.get(sessionId, turnId) as TurnRow | undefined;
      return row && row.project_id === projectId ? turnFromRow(row) : null;
    });
  }

  listTurns(query: TurnListQuery): Promise<TurnRecord[]> {
    return this.writes.read(() => (this.sql.listTurns.all(query) as TurnRow[]).map(turnFromRow));
  }

  getInteraction(projectId: string, sessionId: string, interactionId: string): Promise<InteractionRecord | null> {
    return this.writes.read(() => {
      const row = this.sql.interaction.get(sessionId, interactionId) as InteractionRow | undefined;
      return row && row.project_id === projectId ? interactionFromRow(row) : null;
    });
  }

  listInteractions(query: InteractionQuery): Promise<InteractionRecord[]> {
    return this.writes.read(() => {
      const where = ['i.project_id = @projectId'];
      const params: Record<string, unknown> = { projectId: query.projectId, limit: query.limit };
      if (query.sessionId !== null) where.push('i.session_id = @sessionId'), (params.sessionId = query.sessionId);
      if (query.afterSeq !== null) where.push('i.seq > @afterSeq'), (params.afterSeq = query.afterSeq);
      if (query.statuses.length) {
        where.push(`i.status IN (${query.statuses.map((_, n) => `@s${n}`).join(', ')})`);
        query.statuses.forEach((status, n) => (params[`s${n}`] = status));
      }
      const sql = `SELECT i.* FROM interactions i WHERE ${where.join(' AND ')} ORDER BY i.seq LIMIT @limit`;
      return (this.db.prepare(sql).all(params) as InteractionRow[]).map(interactionFromRow);
    });
  }
}
