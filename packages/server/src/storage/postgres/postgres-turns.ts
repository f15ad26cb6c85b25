/**
 * Turns and interactions on PostgreSQL, for any number of replicas. A
 * mutation holds its session's row lock (`FOR UPDATE`) from the snapshot to
 * the commit, so two replicas never decide on the same session at once; a
 * claim picks its session with `SKIP LOCKED`, so racing runners spread over
 * the queue instead of queueing behind one row. Channel streams are locked in
 * path-hash order, as append batches lock them, so the two never deadlock.
 */
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
import type { AppendOutcome, AppendRequest } from '../types.js';
import { runAppendBatch } from './append-batch.js';
import { guarded, transaction, type Db, type Tx } from './connection.js';
import { CHANGE_LOG_LOCK } from './postgres-sessions.js';
import { arrayLiteral } from './sql-arrays.js';
import { selectByPath } from './stream-rows.js';
import {
  headFromRow,
  interactionFromRow,
  saveInteraction,
  saveTurn,
  turnFromRow,
  type HeadRow,
  type InteractionRow,
  type TurnRow,
} from './turn-rows.js';
import { AppendRefused, jsonRequest } from '../event-appends.js';

type Snapshot = TurnSnapshot & { head: HeadRow };


export class PostgresTurns implements TurnStore {
  constructor(
    private readonly db: Db,
    private readonly forget: (streamId: number) => void,
  ) {}

  private async snapshot(tx: Tx, projectId: string, sessionId: string, query: SnapshotQuery, now: number): Promise<Snapshot | null> {
    const [head] = await tx<HeadRow[]>`SELECT id, project_id, status, expires_at, agent, active_turn_id, turn_count,
        pending_interactions, lease_epoch, out_stream_id, in_stream_id
      FROM sessions WHERE project_id = ${projectId} AND id = ${sessionId} FOR UPDATE`;
    if (!head) return null;
    const byKey =
      query.turnId !== undefined
        ? tx<TurnRow[]>`SELECT * FROM turns WHERE session_id = ${sessionId} AND id = ${query.turnId}`
        : query.idempotencyKey !== undefined
          ? tx<TurnRow[]>`SELECT * FROM turns WHERE session_id = ${sessionId} AND idempotency_key = ${query.idempotencyKey}`
          : Promise.resolve([] as TurnRow[]);
    const ids = query.interactionIds ?? [];
    // Sent together: the driver pipelines them on the transaction's connection.
    const [open, turn, pending, interactions] = await Promise.all([
      tx<TurnRow[]>`SELECT * FROM turns WHERE session_id = ${sessionId} AND status IN ('queued', 'running', 'waiting')`,
      byKey,
      tx<InteractionRow[]>`SELECT * FROM interactions WHERE session_id = ${sessionId} AND status = 'pending' ORDER BY seq`,
      ids.length
        ? tx<InteractionRow[]>`SELECT * FROM interactions WHERE session_id = ${sessionId}
            AND interaction_id = ANY(${arrayLiteral(ids)}::text[])`
        : Promise.resolve([] as InteractionRow[]),
    ]);
    return {
      head,
      session: headFromRow(head),
      openTurns: open.map(turnFromRow).sort(runOrder),
      turn: turn[0] ? turnFromRow(turn[0]) : null,
      pending: pending.map(interactionFromRow),
      interactions: interactions.map(interactionFromRow),
      now,
    };
  }

  private async load(tx: Tx, projectId: string, sessionId: string, query: SnapshotQuery, now: number): Promise<Snapshot> {
    const snapshot = await this.snapshot(tx, projectId, sessionId, query, now);
    if (!snapshot) throw new AppError('SESSION_NOT_FOUND', `no session ${sessionId}`);
    return snapshot;
  }

  /**
   * Locks both channels in the order append batches lock streams and returns
   * their tails — only when the plan writes to them (events, a new producer
   * epoch), so a heartbeat never holds up the runner's own appends.
   */
  private async lockChannels(tx: Tx, head: HeadRow, plan: Decision<unknown>['plan']): Promise<Map<number, number>> {
    if (!plan.appendIn.length && !plan.appendOut.length && plan.leaseEpoch === null) return new Map();
    const rows = await tx<{ id: number; tail: number }[]>`SELECT id, tail FROM streams
      WHERE id IN (${head.out_stream_id}, ${head.in_stream_id}) ORDER BY path_hash FOR UPDATE`;
    return new Map(rows.map((r) => [r.id, r.tail]));
  }

  private async apply<R>(tx: Tx, snapshot: Snapshot, decision: Decision<R>, tails: Map<number, number>, logChange = true): Promise<MutationResult<R>> {
    const { plan, result } = decision;
    const { head, now } = snapshot;
    const writes: Promise<unknown>[] = [];
    for (const turn of plan.turns) writes.push(saveTurn(tx, turn));
    for (const interaction of plan.interactions) writes.push(saveInteraction(tx, interaction));
    const after = sessionAfter(snapshot, plan);
    const before = snapshot.session;
    const { visible: sessionChanged, write: writeSession } = sessionChanges(before, after);
    if (writeSession) {
      writes.push(tx`UPDATE sessions SET status = ${after.status}, active_turn_id = ${after.activeTurnId},
        turn_count = ${after.turnCount}, pending_interactions = ${after.pendingInteractions}, lease_epoch = ${after.leaseEpoch},
        updated_at = ${now}, last_activity_at = ${now} WHERE id = ${head.id}`);
    }
    if (plan.leaseEpoch !== null) {
      // The new epoch fences whoever held the lease before: their next append to `out` is 403.
      writes.push(tx`INSERT INTO producers (stream_id, producer_id, epoch, last_seq, updated_at)
        VALUES (${head.out_stream_id}, ${RUNNER_PRODUCER_ID}, ${plan.leaseEpoch}, -1, ${now})
        ON CONFLICT (stream_id, producer_id) DO UPDATE SET epoch = excluded.epoch, last_seq = -1, updated_at = excluded.updated_at`);
    }
    await Promise.all(writes);
    const requests: AppendRequest[] = [];
    if (plan.appendIn.length) requests.push(jsonRequest(sessionChannelPath(head.id, 'in'), plan.appendIn, now));
    if (plan.appendOut.length) requests.push(jsonRequest(sessionChannelPath(head.id, 'out'), plan.appendOut, now));
    // Events for a channel already closed (a late completion) are dropped: the turn's row still says it.
    for (const outcome of requests.length ? await runAppendBatch(tx, requests, this.forget) : []) {
      if (outcome.kind === 'appended') tails.set(outcome.meta.id, outcome.meta.tail);
    }
    if (sessionChanged && logChange) {
      // The same lock the session store takes, so change-log order is commit order;
      // taken and used in one statement, since every round trip here is one more
      // the lock is held for.
      await tx`WITH ordered AS (SELECT pg_advisory_xact_lock(${CHANGE_LOG_LOCK}::bigint))
        INSERT INTO session_changes (project_id, session_id, kind, snapshot, at)
        SELECT ${head.project_id}, ${head.id}, 'session', NULL, ${now} FROM ordered`;
    }
    return {
      result,
      outStreamId: head.out_stream_id,
      inStreamId: head.in_stream_id,
      outTail: tails.get(head.out_stream_id) ?? 0,
      inTail: tails.get(head.in_stream_id) ?? 0,
      sessionChanged,
      claimable: after.status === 'queued',
      agent: snapshot.session.agent,
    };
  }

  mutate<R>(projectId: string, sessionId: string, query: SnapshotQuery, now: number, decide: Decide<R>): Promise<MutationResult<R>> {
    return transaction(this.db, async (tx) => {
      const snapshot = await this.load(tx, projectId, sessionId, query, now);
      const decision = decide(snapshot);
      return this.apply(tx, snapshot, decision, await this.lockChannels(tx, snapshot.head, decision.plan));
    });
  }

  /** Runs the session-close decision inside the close's own transaction. */
  async closeInTx(tx: Tx, projectId: string, sessionId: string, now: number, decide: Decide<null>): Promise<void> {
    const snapshot = await this.snapshot(tx, projectId, sessionId, {}, now);
    if (!snapshot) return;
    const decision = decide(snapshot);
    await this.apply(tx, snapshot, decision, await this.lockChannels(tx, snapshot.head, decision.plan), false);
  }

  async deleteInTx(tx: Tx, sessionId: string): Promise<void> {
    await tx`DELETE FROM turns WHERE session_id = ${sessionId}`;
    await tx`DELETE FROM interactions WHERE session_id = ${sessionId}`;
  }

  async appendProjected<R>(
    projectId: string,
    sessionId: string,
    request: AppendRequest,
    query: SnapshotQuery,
    decide: Decide<R>,
  ): Promise<{ outcome: AppendOutcome; mutation: MutationResult<R> | null }> {
    try {
      return await transaction(this.db, async (tx) => {
        const snapshot = await this.load(tx, projectId, sessionId, query, request.now);
        const decision = decide(snapshot);
        // The raw append writes to a channel, so both are locked (in order) whatever the plan holds.
        const tails = await this.lockChannels(tx, snapshot.head, { ...decision.plan, leaseEpoch: 0 });
        if (decision.skipAppend) {
          const mutation = await this.apply(tx, snapshot, decision, tails);
          const meta = (await selectByPath(tx, request.path, 'none'))!;
          return { outcome: { kind: 'appended', meta, producer: null } as AppendOutcome, mutation };
        }
        const [outcome] = await runAppendBatch(tx, [request], this.forget);
        if (!outcome || outcome.kind !== 'appended') throw new AppendRefused(outcome ?? { kind: 'not-found' });
        tails.set(outcome.meta.id, outcome.meta.tail);
        return { outcome, mutation: await this.apply(tx, snapshot, decision, tails) };
      });
    } catch (error) {
      if (error instanceof AppendRefused) return { outcome: error.outcome, mutation: null };
      throw error;
    }
  }

  async claim<R>(filter: ClaimFilter, decide: Decide<R | null>): Promise<MutationResult<R> | null> {
    const candidates = (q: Db | Tx, lock: boolean) => {
      const agents = filter.agents.length ? q`AND s.agent = ANY(${arrayLiteral(filter.agents)}::text[])` : q``;
      return q<{ project_id: string; id: string }[]>`SELECT s.project_id, s.id
        FROM turns t JOIN sessions s ON s.id = t.session_id
        WHERE t.status = 'queued' AND s.status = 'queued' AND s.project_id = ${filter.projectId}
          AND (s.expires_at IS NULL OR s.expires_at > ${filter.now}) ${agents}
        ORDER BY t.queued_at, t.id LIMIT 1 ${lock ? q`FOR UPDATE OF s SKIP LOCKED` : q``}`;
    };
    // Every waiting claimer wakes on every admitted turn; those that find the
    // queue empty should cost one plain read, not a transaction.
    if ((await guarded(candidates(this.db, false))).length === 0) return null;
    return transaction(this.db, async (tx) => {
      const [row] = await candidates(tx, true);
      if (!row) return null;
      const snapshot = await this.load(tx, row.project_id, row.id, {}, filter.now);
      const decision = decide(snapshot);
      if (decision.result === null) return null;
      return (await this.apply(tx, snapshot, decision, await this.lockChannels(tx, snapshot.head, decision.plan))) as MutationResult<R>;
    });
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await guarded(this.db<{ status: string; n: string }[]>`SELECT status, count(*) AS n FROM turns GROUP BY status`);
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  lapsedLeases(now: number, limit: number, all = false): Promise<{ projectId: string; sessionId: string }[]> {
    const due = all ? this.db`` : this.db`AND lease_expires_at <= ${now}`;
    return guarded(
      this.db<{ projectId: string; sessionId: string }[]>`SELECT DISTINCT project_id AS "projectId", session_id AS "sessionId"
        FROM turns WHERE status IN ('running', 'waiting') ${due} LIMIT ${limit}`,
    );
  }

  dueInteractions(now: number, limit: number): Promise<{ projectId: string; sessionId: string }[]> {
    return guarded(
      this.db<{ projectId: string; sessionId: string }[]>`SELECT DISTINCT project_id AS "projectId", session_id AS "sessionId"
        FROM interactions WHERE status = 'pending' AND timeout_at <= ${now} LIMIT ${limit}`,
    );
  }

  async getTurn(projectId: string, sessionId: string, turnId: string): Promise<TurnRecord | null> {
    const [row] = await guarded(
      this.db<TurnRow[]>`SELECT * FROM turns WHERE project_id = ${projectId} AND session_id = ${sessionId} AND id = ${turnId}`,
    );
    return row ? turnFromRow(row) : null;
  }

  async listTurns(query: TurnListQuery): Promise<TurnRecord[]> {
    const before = query.beforeSeq === null ? this.db`` : this.db`AND seq < ${query.beforeSeq}`;
    const rows = await guarded(
      this.db<TurnRow[]>`SELECT * FROM turns WHERE session_id = ${query.sessionId} ${before} ORDER BY seq DESC LIMIT ${query.limit}`,
    );
    return rows.map(turnFromRow);
  }

  async getInteraction(projectId: string, sessionId: string, interactionId: string): Promise<InteractionRecord | null> {
    const [row] = await guarded(
      this.db<InteractionRow[]>`SELECT * FROM interactions WHERE project_id = ${projectId} AND session_id = ${sessionId}
        AND interaction_id = ${interactionId}`,
    );
    return row ? interactionFromRow(row) : null;
  }

  async listInteractions(query: InteractionQuery): Promise<InteractionRecord[]> {
    const q = this.db;
    const session = query.sessionId === null ? q`` : q`AND session_id = ${query.sessionId}`;
    const after = query.afterSeq === null ? q`` : q`AND seq > ${query.afterSeq}`;
    const statuses = query.statuses.length ? q`AND status = ANY(${arrayLiteral(query.statuses)}::text[])` : q``;
    const rows = await guarded(
      q<InteractionRow[]>`SELECT * FROM interactions WHERE project_id = ${query.projectId} ${session} ${after} ${statuses}
        ORDER BY seq LIMIT ${query.limit}`,
    );
    return rows.map(interactionFromRow);
  }
}
