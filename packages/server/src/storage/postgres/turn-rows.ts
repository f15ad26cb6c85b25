/** Turn and interaction rows as PostgreSQL stores them (JSON as jsonb), and their upserts. */
import type { BusyPolicy, InteractionRecord, InteractionWrite, SessionHead, TurnRecord } from '../turn-types.js';
import type { Tx } from './connection.js';

export interface HeadRow {
  id: string;
  project_id: string;
  status: SessionHead['status'];
  expires_at: number | null;
  agent: string | null;
  active_turn_id: string | null;
  turn_count: number;
  pending_interactions: number;
  lease_epoch: number;
  out_stream_id: number;
  in_stream_id: number;
}

export interface TurnRow {
  id: string;
  project_id: string;
  session_id: string;
  seq: number;
  status: TurnRecord['status'];
  priority: number;
  content: unknown;
  policy: BusyPolicy;
  idempotency_key: string | null;
  runner_id: string | null;
  lease_epoch: number | null;
  lease_expires_at: number | null;
  lease_ms: number | null;
  attempts: number;
  interrupt_requested: boolean;
  cancel_requested: boolean;
  error: unknown;
  reason: string | null;
  created_at: number;
  queued_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
}

export interface InteractionRow {
  seq: number;
  project_id: string;
  session_id: string;
  turn_id: string;
  interaction_id: string;
  kind: InteractionRecord['kind'];
  prompt: string;
  choices: unknown[] | null;
  schema: Record<string, unknown> | null;
  timeout_at: number | null;
  status: InteractionRecord['status'];
  response: unknown;
  requested_at: number;
  resolved_at: number | null;
}

export function headFromRow(row: HeadRow): SessionHead {
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status,
    expiresAt: row.expires_at,
    agent: row.agent,
    activeTurnId: row.active_turn_id,
    turnCount: row.turn_count,
    pendingInteractions: row.pending_interactions,
    leaseEpoch: row.lease_epoch,
  };
}

export function turnFromRow(row: TurnRow): TurnRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    sessionId: row.session_id,
    seq: row.seq,
    status: row.status,
    priority: row.priority,
    content: row.content,
    policy: row.policy,
    idempotencyKey: row.idempotency_key,
    runnerId: row.runner_id,
    leaseEpoch: row.lease_epoch,
    leaseExpiresAt: row.lease_expires_at,
    leaseMs: row.lease_ms,
    attempts: row.attempts,
    interruptRequested: row.interrupt_requested,
    cancelRequested: row.cancel_requested,
    error: row.error,
    reason: row.reason,
    createdAt: row.created_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    updatedAt: row.updated_at,
  };
}

export function interactionFromRow(row: InteractionRow): InteractionRecord {
  return {
    seq: row.seq,
    projectId: row.project_id,
    sessionId: row.session_id,
    turnId: row.turn_id,
    id: row.interaction_id,
    kind: row.kind,
    prompt: row.prompt,
    choices: row.choices,
    schema: row.schema,
    timeoutAt: row.timeout_at,
    status: row.status,
    response: row.response,
    requestedAt: row.requested_at,
    resolvedAt: row.resolved_at,
  };
}

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
