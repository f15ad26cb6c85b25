/**
 * Rows of the session, turn and interaction tables, mapped to records once for
 * both drivers. The drivers differ only in how a column arrives: SQLite keeps
 * JSON as text and booleans as 0/1, PostgreSQL hands back parsed jsonb and
 * real booleans; a `RowDialect` says which.
 */
import type { SessionStatus } from '@tether/protocol';
import type { FileInfo } from './session-data-types.js';
import type { SessionRecord } from './session-types.js';
import type { StreamMeta } from './types.js';
import type { BusyPolicy, InteractionRecord, SessionHead, TurnRecord } from './turn-types.js';

export interface RowDialect {
  json(value: unknown): unknown;
  flag(value: unknown): boolean;
}

export const SQLITE_ROWS: RowDialect = {
  json: (value) => (value === null || value === undefined ? null : JSON.parse(value as string)),
  flag: (value) => value === 1,
};

export const POSTGRES_ROWS: RowDialect = {
  json: (value) => value ?? null,
  flag: (value) => value === true,
};

export interface SessionRow {
  id: string;
  project_id: string;
  external_id: string | null;
  type: string | null;
  title: string | null;
  agent: string | null;
  model: string | null;
  tags: unknown;
  metadata: unknown;
  parent_id: string | null;
  root_id: string;
  forked_from_session: string | null;
  forked_from_position: number | null;
  status: SessionStatus;
  active_turn_id: string | null;
  pending_interactions: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_usd: number;
  message_count: number;
  turn_count: number;
  last_assistant_text: string | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
  closed_at: number | null;
  closed_reason: string | null;
  expires_at: number | null;
  out_stream_id: number;
  in_stream_id: number;
  out_tail: number;
  in_tail: number;
}

export function sessionFromRow(row: SessionRow, dialect: RowDialect): SessionRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    externalId: row.external_id,
    type: row.type,
    title: row.title,
    agent: row.agent,
    model: row.model,
    tags: dialect.json(row.tags) as string[],
    metadata: dialect.json(row.metadata) as Record<string, unknown>,
    parentId: row.parent_id,
    rootId: row.root_id,
    forkedFrom:
      row.forked_from_session === null ? null : { sessionId: row.forked_from_session, position: row.forked_from_position ?? 0 },
    status: row.status,
    activeTurnId: row.active_turn_id,
    pendingInteractions: row.pending_interactions,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedInputTokens: row.cached_input_tokens,
    costUsd: row.cost_usd,
    messageCount: row.message_count,
    turnCount: row.turn_count,
    lastAssistantText: row.last_assistant_text,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastActivityAt: row.last_activity_at,
    closedAt: row.closed_at,
    closedReason: row.closed_reason,
    expiresAt: row.expires_at,
    outStreamId: row.out_stream_id,
    inStreamId: row.in_stream_id,
    outTail: row.out_tail,
    inTail: row.in_tail,
  };
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
  interrupt_requested: unknown;
  cancel_requested: unknown;
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
  choices: unknown;
  schema: unknown;
  timeout_at: number | null;
  status: InteractionRecord['status'];
  response: unknown;
  requested_at: number;
  resolved_at: number | null;
}

export function turnFromRow(row: TurnRow, dialect: RowDialect): TurnRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    sessionId: row.session_id,
    seq: row.seq,
    status: row.status,
    priority: row.priority,
    content: dialect.json(row.content),
    policy: row.policy,
    idempotencyKey: row.idempotency_key,
    runnerId: row.runner_id,
    leaseEpoch: row.lease_epoch,
    leaseExpiresAt: row.lease_expires_at,
    leaseMs: row.lease_ms,
    attempts: row.attempts,
    interruptRequested: dialect.flag(row.interrupt_requested),
    cancelRequested: dialect.flag(row.cancel_requested),
    error: dialect.json(row.error),
    reason: row.reason,
    createdAt: row.created_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    updatedAt: row.updated_at,
  };
}

export function interactionFromRow(row: InteractionRow, dialect: RowDialect): InteractionRecord {
  return {
    seq: row.seq,
    projectId: row.project_id,
    sessionId: row.session_id,
    turnId: row.turn_id,
    id: row.interaction_id,
    kind: row.kind,
    prompt: row.prompt,
    choices: dialect.json(row.choices) as unknown[] | null,
    schema: dialect.json(row.schema) as Record<string, unknown> | null,
    timeoutAt: row.timeout_at,
    status: row.status,
    response: dialect.json(row.response),
    requestedAt: row.requested_at,
    resolvedAt: row.resolved_at,
  };
}

export interface FileRow {
  path: string;
  content_type: string;
  size: number;
  etag: string;
  created_at: number;
  updated_at: number;
  data?: Buffer;
}

export function fileFromRow(row: FileRow): FileInfo {
  return {
    path: row.path,
    contentType: row.content_type,
    size: row.size,
    etag: row.etag,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The session columns a turn transaction locks and decides on. */
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

/** A `streams` row as both drivers select it (`closed`/`soft_deleted` are 0/1 on SQLite, booleans on PostgreSQL). */
export interface StreamRow {
  id: number;
  path: string | null;
  content_type: string;
  ttl_seconds: number | null;
  expires_at: number | null;
  last_access_at: number;
  created_at: number;
  closed: number | boolean;
  tail: number;
  fork_source_id: number | null;
  fork_source_path: string | null;
  fork_position: number | null;
  soft_deleted: number | boolean;
  stream_seq: string | null;
  closed_by_producer: string | null;
  closed_by_epoch: number | null;
  closed_by_seq: number | null;
  trim_pos: number;
}

export function streamMetaFromRow(row: StreamRow, dialect: RowDialect): StreamMeta {
  return {
    id: row.id,
    path: row.path ?? '',
    contentType: row.content_type,
    ttlSeconds: row.ttl_seconds,
    expiresAt: row.expires_at,
    lastAccessAt: row.last_access_at,
    createdAt: row.created_at,
    closed: dialect.flag(row.closed),
    tail: row.tail,
    fork:
      row.fork_source_id === null
        ? null
        : { sourceId: row.fork_source_id, sourcePath: row.fork_source_path ?? '', position: row.fork_position ?? 0 },
    softDeleted: dialect.flag(row.soft_deleted),
    streamSeq: row.stream_seq,
    closedBy:
      row.closed_by_producer === null
        ? null
        : { id: row.closed_by_producer, epoch: row.closed_by_epoch ?? 0, seq: row.closed_by_seq ?? 0 },
    trimmedTo: row.trim_pos ?? 0,
  };
}
