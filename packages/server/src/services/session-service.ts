/**
 * Sessions (DESIGN §3): create idempotently by external id, read, list, patch,
 * close, expire, delete and fork. Every change wakes the monitor's watchers
 * and the readers of the session's channels.
 */
import { monotonicFactory } from 'ulid';
import {
  MAX_METADATA_BYTES,
  SESSION_ID_PREFIX,
  parseOffset,
  type CreateSessionInput,
  type Session,
  type SessionStatus,
} from '@tether/protocol';
import { AppError } from '../errors.js';
import { effectiveStatus, isOpen } from '../storage/session-rules.js';
import type { NewSession, SessionQuery, SessionRecord, SessionStore } from '../storage/session-types.js';
import type { Clock } from './clock.js';
import type { Notifier } from './live-hub.js';
import { decodeSessionCursor, encodeSessionCursor, toApiSession } from './session-view.js';

/** Notifier key on which session changes are announced (stream ids start at 1). */
export const SESSION_CHANGES_KEY = 0;

export type { CreateSessionInput };

export interface ListSessionsInput {
  status?: SessionStatus[];
  type?: string;
  agent?: string;
  tag?: string[];
  parentId?: string;
  rootId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
}

export interface SessionServiceDeps {
  sessions: SessionStore;
  notifier: Notifier;
  clock: Clock;
  /** Runs once a fork exists (its transcript is rebuilt from the history it shares). */
  afterFork?: (projectId: string, sessionId: string) => Promise<void>;
}

function checkMetadata(metadata: Record<string, unknown> | undefined): void {
  if (metadata !== undefined && Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
    throw new AppError('VALIDATION_FAILED', `metadata is larger than ${MAX_METADATA_BYTES} bytes`, { field: 'metadata' });
  }
}

export class SessionService {
  private readonly ulid = monotonicFactory();

  constructor(private readonly deps: SessionServiceDeps) {}

  private now(): number {
    return this.deps.clock.now();
  }

  newId(): string {
    return SESSION_ID_PREFIX + this.ulid(this.now());
  }

  private announce(record: SessionRecord, channels?: { closed: boolean; deleted: boolean }): void {
    const { notifier } = this.deps;
    if (channels) {
      notifier.publish({ streamId: record.outStreamId, tail: record.outTail, ...channels });
      notifier.publish({ streamId: record.inStreamId, tail: record.inTail, ...channels });
    }
    notifier.publish({ streamId: SESSION_CHANGES_KEY, tail: 0, closed: false, deleted: false });
  }

  /** Finds a session by id (`ses_…`) or external id. */
  async resolve(projectId: string, ref: string): Promise<SessionRecord> {
    const ref_ = ref.startsWith(SESSION_ID_PREFIX) ? { id: ref } : { externalId: ref };
    const record = await this.deps.sessions.getSession(projectId, ref_);
    if (!record) throw new AppError('SESSION_NOT_FOUND', `no session ${ref}`);
    return record;
  }

  view(record: SessionRecord): Session {
    return toApiSession(record, this.now());
  }

  async create(projectId: string, input: CreateSessionInput): Promise<{ session: Session; created: boolean }> {
    checkMetadata(input.metadata);
    if (input.ttlSeconds !== undefined && input.expiresAt !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'give ttlSeconds or expiresAt, not both', { field: 'expiresAt' });
    }
    if (input.rootId !== undefined) {
      // rootId is derived from the parent; a caller may state it, but only correctly.
      const parent = input.parentId === undefined ? null : await this.resolve(projectId, input.parentId);
      if (!parent || parent.rootId !== input.rootId) {
        throw new AppError('VALIDATION_FAILED', 'rootId must be the root of parentId', { field: 'rootId' });
      }
    }
    const now = this.now();
    const expiresAt = input.ttlSeconds !== undefined ? now + input.ttlSeconds * 1000 : input.expiresAt ? Date.parse(input.expiresAt) : null;
    const request: NewSession = {
      id: this.newId(),
      projectId,
      externalId: input.externalId ?? null,
      type: input.type ?? null,
      title: input.title ?? null,
      agent: input.agent ?? null,
      model: input.model ?? null,
      tags: input.tags ?? [],
      metadata: input.metadata ?? {},
      parentId: input.parentId ?? null,
      expiresAt,
      now,
      fork: null,
    };
    const outcome = await this.deps.sessions.createSession(request);
    if (outcome.kind === 'parent-not-found') {
      throw new AppError('SESSION_NOT_FOUND', `no parent session ${input.parentId}`, { field: 'parentId' });
    }
    if (outcome.kind !== 'created' && outcome.kind !== 'exists') throw new AppError('INTERNAL', `unexpected ${outcome.kind}`);
    const { session } = outcome;
    if (outcome.kind === 'exists') {
      const status = effectiveStatus(session, now);
      if (status === 'closed') throw new AppError('SESSION_CLOSED', `session ${session.id} is closed`, { sessionId: session.id });
      if (status === 'expired') throw new AppError('SESSION_EXPIRED', `session ${session.id} has expired`, { sessionId: session.id });
      return { session: this.view(session), created: false };
    }
    this.announce(session);
    return { session: this.view(session), created: true };
  }

  async get(projectId: string, ref: string): Promise<Session> {
    return this.view(await this.resolve(projectId, ref));
  }

  toQuery(projectId: string, input: ListSessionsInput, defaultLimit = 50): SessionQuery {
    const time = (value: string | undefined) => (value === undefined ? null : Date.parse(value));
    return {
      projectId,
      statuses: input.status ?? [],
      type: input.type ?? null,
      agent: input.agent ?? null,
      tags: input.tag ?? [],
      parentId: input.parentId ?? null,
      rootId: input.rootId ?? null,
      externalId: input.externalId ?? null,
      createdAfter: time(input.createdAfter),
      createdBefore: time(input.createdBefore),
      beforeId: input.cursor === undefined ? null : decodeSessionCursor(input.cursor),
      limit: input.limit ?? defaultLimit,
      now: this.now(),
    };
  }

  async list(projectId: string, input: ListSessionsInput): Promise<{ data: Session[]; nextCursor: string | null }> {
    const query = this.toQuery(projectId, input);
    // One extra row tells whether another page exists without a count query.
    const rows = await this.deps.sessions.listSessions({ ...query, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeSessionCursor(page.at(-1)!.id) : null;
    return { data: page.map((r) => toApiSession(r, query.now)), nextCursor };
  }

  async patch(projectId: string, ref: string, patch: { title?: string | null; tags?: string[]; metadata?: Record<string, unknown> }): Promise<Session> {
    checkMetadata(patch.metadata);
    const record = await this.resolve(projectId, ref);
    const updated = await this.deps.sessions.updateSession(projectId, record.id, patch, this.now());
    if (!updated) throw new AppError('SESSION_NOT_FOUND', `no session ${ref}`);
    this.announce(updated);
    return this.view(updated);
  }

  async close(projectId: string, ref: string, reason: string | null, status: 'closed' | 'expired' = 'closed'): Promise<Session> {
    const record = await this.resolve(projectId, ref);
    const outcome = await this.deps.sessions.closeSession(projectId, record.id, { status, reason, now: this.now() });
    if (outcome.kind === 'not-found') throw new AppError('SESSION_NOT_FOUND', `no session ${ref}`);
    if (outcome.kind === 'closed') this.announce(outcome.session, { closed: true, deleted: false });
    return this.view(outcome.session);
  }

  async delete(projectId: string, ref: string): Promise<void> {
    const record = await this.resolve(projectId, ref);
    const deleted = await this.deps.sessions.deleteSession(projectId, record.id, this.now());
    if (!deleted) throw new AppError('SESSION_NOT_FOUND', `no session ${ref}`);
    this.announce(deleted, { closed: true, deleted: true });
  }

  async fork(projectId: string, ref: string, input: { offset?: string; inOffset?: string; title?: string }): Promise<Session> {
    const source = await this.resolve(projectId, ref);
    const position = (value: string | undefined, field: string) => {
      if (value === undefined) return null;
      const parsed = parseOffset(value);
      if (parsed === null) throw new AppError('INVALID_OFFSET', `${field} is not a valid offset`, { field });
      return parsed;
    };
    const now = this.now();
    const outcome = await this.deps.sessions.createSession({
      id: this.newId(),
      projectId,
      externalId: null,
      type: source.type,
      title: input.title ?? source.title,
      agent: source.agent,
      model: source.model,
      tags: source.tags,
      metadata: source.metadata,
      parentId: null,
      expiresAt: null,
      now,
      fork: { sourceId: source.id, outPosition: position(input.offset, 'offset'), inPosition: position(input.inOffset, 'inOffset') },
    });
    if (outcome.kind === 'bad-offset') throw new AppError('INVALID_OFFSET', outcome.message, { field: 'offset' });
    if (outcome.kind !== 'created') throw new AppError('SESSION_NOT_FOUND', `no session ${ref}`);
    if (this.deps.afterFork) {
      await this.deps.afterFork(projectId, outcome.session.id);
      const forked = await this.deps.sessions.getSession(projectId, { id: outcome.session.id });
      if (forked) outcome.session = forked;
    }
    this.announce(outcome.session);
    return this.view(outcome.session);
  }

  /** Expires sessions whose time has come; run by the sweeper on every replica. */
  async expireDue(limit: number): Promise<number> {
    const due = await this.deps.sessions.dueSessionExpiries(this.now(), limit);
    for (const { projectId, id } of due) await this.close(projectId, id, 'expired', 'expired');
    return due.length;
  }

  /** Rejects writes to a closed or expired session with its stable code. */
  assertWritable(record: SessionRecord): void {
    if (isOpen(record, this.now())) return;
    const status = effectiveStatus(record, this.now());
    throw new AppError(status === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_CLOSED', `session ${record.id} is ${status}`);
  }
}
