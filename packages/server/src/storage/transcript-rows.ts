/** Transcript rows mapped to records once for both drivers (see `row-mappers.ts` for dialects). */
import type { TurnUsage } from '@tether/protocol';
import type { RowDialect } from './row-mappers.js';
import type { MessageRecord, ToolCallRecord, TranscriptChannel, UsageFigures } from './transcript-rules.js';

export interface MessageRow {
  seq: number;
  id: string;
  project_id: string;
  session_id: string;
  turn_id: string | null;
  channel: string;
  position: number;
  role: string;
  text: string;
  content: unknown;
  model: string | null;
  status: string;
  usage: unknown;
  created_at: number;
  updated_at: number;
}

export interface ToolCallRow {
  seq: number;
  id: string;
  project_id: string;
  session_id: string;
  turn_id: string | null;
  name: string;
  input: unknown;
  output: unknown;
  is_error: unknown;
  duration_ms: number | null;
  truncated: unknown;
  position: number;
  result_position: number | null;
  created_at: number;
  completed_at: number | null;
}

export const messageFromRow = (row: MessageRow, dialect: RowDialect): MessageRecord => ({
  seq: row.seq,
  id: row.id,
  projectId: row.project_id,
  sessionId: row.session_id,
  turnId: row.turn_id,
  channel: row.channel as TranscriptChannel,
  position: row.position,
  role: row.role,
  text: row.text,
  content: dialect.json(row.content),
  model: row.model,
  status: row.status as MessageRecord['status'],
  usage: dialect.json(row.usage) as UsageFigures | null,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const toolCallFromRow = (row: ToolCallRow, dialect: RowDialect): ToolCallRecord => ({
  seq: row.seq,
  id: row.id,
  projectId: row.project_id,
  sessionId: row.session_id,
  turnId: row.turn_id,
  name: row.name,
  input: dialect.json(row.input),
  output: dialect.json(row.output),
  isError: dialect.flag(row.is_error),
  durationMs: row.duration_ms,
  truncated: dialect.flag(row.truncated),
  position: row.position,
  resultPosition: row.result_position,
  createdAt: row.created_at,
  completedAt: row.completed_at,
});

/** JSON columns as text (SQLite stores it; PostgreSQL casts it `::text::jsonb`). */
export const jsonText = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export interface UsageTotalsRow {
  turn_id: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_usd: number;
}

export const usageFromRow = (row: UsageTotalsRow): TurnUsage => ({
  turnId: row.turn_id,
  inputTokens: Number(row.input_tokens),
  outputTokens: Number(row.output_tokens),
  cachedInputTokens: Number(row.cached_input_tokens),
  costUsd: Number(row.cost_usd),
});
