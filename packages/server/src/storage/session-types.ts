/**
 * The session half of the storage contract (DESIGN §3). A session row and its
 * two channel streams are created, closed and deleted in one transaction; every
 * change a watcher should see is appended to a change log in that same
 * transaction, so the monitor can resume from a sequence number.
 */
import type { SessionStatus } from '@tether/protocol';

export interface SessionRecord {
  id: string;
  projectId: string;
  externalId: string | null;
  type: string | null;
  title: string | null;
  agent: string | null;
  model: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  parentId: string | null;
  rootId: string;
  forkedFrom: { sessionId: string; position: number } | null;
  /** Stored status; `expired` is also reported once `expiresAt` has passed. */
  status: SessionStatus;
  activeTurnId: string | null;
  pendingInteractions: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
  messageCount: number;
  turnCount: number;
  lastAssistantText: string | null;
  createdAt: number;
  updatedAt: number;
  lastActivityAt: number;
  closedAt: number | null;
  closedReason: string | null;
  expiresAt: number | null;
  outStreamId: number;
  inStreamId: number;
  outTail: number;
  inTail: number;
}

export interface NewSession {
  id: string;
  projectId: string;
  externalId: string | null;
  type: string | null;
  title: string | null;
  agent: string | null;
  model: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  parentId: string | null;
  expiresAt: number | null;
  now: number;
  /** When set, the session's channels fork the source's at these positions. */
  fork: { sourceId: string; outPosition: number | null; inPosition: number | null } | null;
}

export type CreateSessionOutcome =
  | { kind: 'created'; session: SessionRecord }
  /** A session with that external id already exists (open, closed or expired). */
  | { kind: 'exists'; session: SessionRecord }
  | { kind: 'parent-not-found' }
  | { kind: 'source-not-found' }
  | { kind: 'bad-offset'; message: string };

export type SessionRef = { id: string } | { externalId: string };

export interface SessionQuery {
  projectId: string;
  statuses: SessionStatus[];
  type: string | null;
  agent: string | null;
  tags: string[];
  parentId: string | null;
  rootId: string | null;
  externalId: string | null;
  createdAfter: number | null;
  createdBefore: number | null;
  /** Only sessions with an id below this (newest first paging). */
  beforeId: string | null;
  limit: number;
  now: number;
}

export interface SessionPatch {
  title?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface SessionChange {
  seq: number;
  projectId: string;
  sessionId: string;
  kind: 'session' | 'session.deleted';
  /** For deletions, the session as it was, so watchers can apply their filters. */
  snapshot: SessionRecord | null;
}

export type CloseSessionOutcome =
  | { kind: 'closed'; session: SessionRecord }
  | { kind: 'already'; session: SessionRecord }
  | { kind: 'not-found' };

export interface SessionStore {
  createSession(input: NewSession): Promise<CreateSessionOutcome>;
  getSession(projectId: string, ref: SessionRef): Promise<SessionRecord | null>;
  /** Sessions matching the query, newest first, at most `limit`. */
  listSessions(query: SessionQuery): Promise<SessionRecord[]>;
  updateSession(projectId: string, id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null>;
  /** Closes (or expires) a session and both its channels; closedAt/closedReason are written once. */
  closeSession(
    projectId: string,
    id: string,
    close: { status: 'closed' | 'expired'; reason: string | null; now: number },
  ): Promise<CloseSessionOutcome>;
  /** Removes the session, its channels and everything it owns; the deleted record or null. */
  deleteSession(projectId: string, id: string, now: number): Promise<SessionRecord | null>;
  /** Change-log entries after `afterSeq`, oldest first. */
  sessionChanges(afterSeq: number, limit: number): Promise<SessionChange[]>;
  latestSessionChange(): Promise<number>;
  /** Open sessions whose `expiresAt` has passed. */
  dueSessionExpiries(now: number, limit: number): Promise<{ projectId: string; id: string }[]>;
  /** Drops change-log entries older than `before` (ms), at most `limit`. */
  pruneSessionChanges(before: number, limit: number): Promise<number>;
}
