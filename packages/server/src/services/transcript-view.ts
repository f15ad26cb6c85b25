/** How transcript rows look on the wire, and the opaque cursors that page them. */
import { formatOffset, type Message, type ToolCall } from '@tether/protocol';
import { AppError } from '../errors.js';
import type { MessageRecord, ToolCallRecord } from '../storage/transcript-rules.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toApiMessage(record: MessageRecord): Message {
  return {
    id: record.id,
    sessionId: record.sessionId,
    turnId: record.turnId,
    role: record.role,
    text: record.text,
    ...(record.content !== null ? { content: record.content } : {}),
    model: record.model,
    status: record.status,
    offset: formatOffset(record.position),
    channel: record.channel,
    createdAt: iso(record.createdAt)!,
    usage: record.usage,
  };
}

export function toApiToolCall(record: ToolCallRecord): ToolCall {
  return {
    id: record.id,
    sessionId: record.sessionId,
    turnId: record.turnId,
    name: record.name,
    input: record.input,
    output: record.output,
    isError: record.isError,
    durationMs: record.durationMs,
    truncated: record.truncated,
    offset: formatOffset(record.position),
    resultOffset: record.resultPosition === null ? null : formatOffset(record.resultPosition),
    createdAt: iso(record.createdAt)!,
    completedAt: iso(record.completedAt),
  };
}

const CURSOR_VERSION = 1;

function badCursor(): never {
  throw new AppError('INVALID_CURSOR', 'cursor is malformed or was not issued by this server');
}

/** A row cursor names the last row of a page by its insertion order within the store. */
export const encodeRowCursor = (seq: number): string => Buffer.from(JSON.stringify({ v: CURSOR_VERSION, seq })).toString('base64url');

export function decodeRowCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; seq?: unknown };
    if (value.v === CURSOR_VERSION && Number.isSafeInteger(value.seq) && (value.seq as number) >= 0) return value.seq as number;
  } catch {
    // any decoding failure is the same bad cursor
  }
  return badCursor();
}

/** A search cursor names the last hit of a page by its score and key. */
export const encodeSearchCursor = (score: number, key: string): string =>
  Buffer.from(JSON.stringify({ v: CURSOR_VERSION, score, key })).toString('base64url');

export function decodeSearchCursor(cursor: string): { score: number; key: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; score?: unknown; key?: unknown };
    if (value.v === CURSOR_VERSION && typeof value.score === 'number' && Number.isFinite(value.score) && typeof value.key === 'string' && /^[mts][0-9A-Za-z_]{1,40}$/.test(value.key)) {
      return { score: value.score, key: value.key };
    }
  } catch {
    // any decoding failure is the same bad cursor
  }
  return badCursor();
}
