/** How sessions look on the wire, and the opaque cursors that page them. */
import { formatOffset, sessionChannelPath, type Session } from '@tether/protocol';
import { AppError } from '../errors.js';
import { effectiveStatus } from '../storage/session-rules.js';
import type { SessionRecord } from '../storage/session-types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toApiSession(record: SessionRecord, now: number): Session {
  return {
    id: record.id,
    externalId: record.externalId,
    projectId: record.projectId,
    type: record.type,
    title: record.title,
    agent: record.agent,
    model: record.model,
    tags: record.tags,
    metadata: record.metadata,
    parentId: record.parentId,
    rootId: record.rootId,
    forkedFrom: record.forkedFrom
      ? { sessionId: record.forkedFrom.sessionId, offset: formatOffset(record.forkedFrom.position) }
      : null,
    status: effectiveStatus(record, now),
    activeTurnId: record.activeTurnId,
    pendingInteractions: record.pendingInteractions,
    usage: {
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      cachedInputTokens: record.cachedInputTokens,
      costUsd: record.costUsd,
    },
    messageCount: record.messageCount,
    turnCount: record.turnCount,
    lastAssistantText: record.lastAssistantText,
    createdAt: iso(record.createdAt)!,
    updatedAt: iso(record.updatedAt)!,
    lastActivityAt: iso(record.lastActivityAt)!,
    closedAt: iso(record.closedAt),
    closedReason: record.closedReason,
    expiresAt: iso(record.expiresAt),
    channels: {
      out: { url: sessionChannelPath(record.id, 'out'), offset: formatOffset(record.outTail) },
      in: { url: sessionChannelPath(record.id, 'in'), offset: formatOffset(record.inTail) },
    },
  };
}

const CURSOR_VERSION = 1;
const SESSION_ID = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Cursors name the last session of a page; opaque to clients, checked on the way back. */
export function encodeSessionCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, id: lastId })).toString('base64url');
}

export function decodeSessionCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; id?: unknown };
    if (value.v === CURSOR_VERSION && typeof value.id === 'string' && SESSION_ID.test(value.id)) return value.id;
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new AppError('INVALID_CURSOR', 'cursor is malformed or was not issued by this server');
}
