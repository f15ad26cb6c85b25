/** Turn and interaction rows as SQLite stores them: JSON as text, booleans as 0/1. */
import type { BusyPolicy, InteractionRecord, InteractionWrite, TurnRecord } from '../turn-types.js';

export interface TurnRow {
  id: string;
  project_id: string;
  session_id: string;
  seq: number;
  status: TurnRecord['status'];
  priority: number;
  content: string;
  policy: BusyPolicy;
  idempotency_key: string | null;
  runner_id: string | null;
  lease_epoch: number | null;
  lease_expires_at: number | null;
  lease_ms: number | null;
  attempts: number;
  interrupt_requested: number;
  cancel_requested: number;
  error: string | null;
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
  choices: string | null;
  schema: string | null;
  timeout_at: number | null;
  status: InteractionRecord['status'];
  response: string | null;
  requested_at: number;
  resolved_at: number | null;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const text = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function turnFromRow(row: TurnRow): TurnRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    sessionId: row.session_id,
    seq: row.seq,
    status: row.status,
    priority: row.priority,
    content: parse(row.content),
    policy: row.policy,
    idempotencyKey: row.idempotency_key,
    runnerId: row.runner_id,
    leaseEpoch: row.lease_epoch,
    leaseExpiresAt: row.lease_expires_at,
    leaseMs: row.lease_ms,
    attempts: row.attempts,
    interruptRequested: row.interrupt_requested === 1,
    cancelRequested: row.cancel_requested === 1,
    error: parse(row.error),
    reason: row.reason,
    createdAt: row.created_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    updatedAt: row.updated_at,
  };
}

export function turnParams(turn: TurnRecord): Record<string, unknown> {
  return {
    ...turn,
    content: JSON.stringify(turn.content ?? null),
    error: text(turn.error),
    interruptRequested: turn.interruptRequested ? 1 : 0,
    cancelRequested: turn.cancelRequested ? 1 : 0,
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
    choices: parse(row.choices) as unknown[] | null,
    schema: parse(row.schema) as Record<string, unknown> | null,
    timeoutAt: row.timeout_at,
    status: row.status,
    response: parse(row.response),
    requestedAt: row.requested_at,
    resolvedAt: row.resolved_at,
  };
}

export function interactionParams(interaction: InteractionWrite): Record<string, unknown> {
  return {
    ...interaction,
    choices: text(interaction.choices),
    schema: text(interaction.schema),
    response: text(interaction.response),
  };
}
