/** Turn and interaction rows as PostgreSQL stores them (JSON as jsonb), and their upserts. */
import { POSTGRES_ROWS, headFromRow, interactionFromRow as mapInteraction, turnFromRow as mapTurn, type HeadRow, type InteractionRow, type TurnRow } from '../row-mappers.js';
import type { BusyPolicy, InteractionRecord, InteractionWrite, TurnRecord } from '../turn-types.js';
import type { Tx } from './connection.js';

export type { HeadRow, InteractionRow, TurnRow };
export { headFromRow };

/**
 * JSON text for a jsonb parameter, cast `::text::jsonb` in the query: with a
 * bare `::jsonb` the driver would infer the parameter as jsonb and encode the
 * text a second time.
 */
const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function saveTurn(tx: Tx, t: TurnRecord): Promise<unknown> {
  return tx`INSERT INTO turns (id, project_id, session_id, seq, status, priority, content, policy, idempotency_key,
      runner_id, lease_epoch, lease_expires_at, lease_ms, attempts, interrupt_requested, cancel_requested, error, reason,
      created_at, queued_at, started_at, ended_at, updated_at)
    VALUES (${t.id}, ${t.projectId}, ${t.sessionId}, ${t.seq}, ${t.status}, ${t.priority},
      ${JSON.stringify(t.content ?? null)}::text::jsonb, ${t.policy}, ${t.idempotencyKey}, ${t.runnerId}, ${t.leaseEpoch},
      ${t.leaseExpiresAt}, ${t.leaseMs}, ${t.attempts}, ${t.interruptRequested}, ${t.cancelRequested},
      ${json(t.error)}::text::jsonb, ${t.reason}, ${t.createdAt}, ${t.queuedAt}, ${t.startedAt}, ${t.endedAt}, ${t.updatedAt})
    ON CONFLICT (id) DO UPDATE SET status = excluded.status, priority = excluded.priority, runner_id = excluded.runner_id,
      lease_epoch = excluded.lease_epoch, lease_expires_at = excluded.lease_expires_at, lease_ms = excluded.lease_ms,
      attempts = excluded.attempts, interrupt_requested = excluded.interrupt_requested,
      cancel_requested = excluded.cancel_requested, error = excluded.error, reason = excluded.reason,
      started_at = excluded.started_at, ended_at = excluded.ended_at, updated_at = excluded.updated_at`;
}

export function saveInteraction(tx: Tx, i: InteractionWrite): Promise<unknown> {
  return tx`INSERT INTO interactions (project_id, session_id, turn_id, interaction_id, kind, prompt, choices, schema,
      timeout_at, status, response, requested_at, resolved_at)
    VALUES (${i.projectId}, ${i.sessionId}, ${i.turnId}, ${i.id}, ${i.kind}, ${i.prompt}, ${json(i.choices)}::text::jsonb,
      ${json(i.schema)}::text::jsonb, ${i.timeoutAt}, ${i.status}, ${json(i.response)}::text::jsonb, ${i.requestedAt}, ${i.resolvedAt})
    ON CONFLICT (session_id, interaction_id) DO UPDATE SET status = excluded.status, response = excluded.response,
      resolved_at = excluded.resolved_at`;
}

/** Maps rows with this driver's column encodings. */
export const turnFromRow = (row: TurnRow): TurnRecord => mapTurn(row, POSTGRES_ROWS);
export const interactionFromRow = (row: InteractionRow): InteractionRecord => mapInteraction(row, POSTGRES_ROWS);
