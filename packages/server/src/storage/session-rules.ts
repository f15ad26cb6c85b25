/** Session decisions shared by both drivers and the services. */
import type { SessionStatus } from '@tether/protocol';
import type { SessionQuery, SessionRecord } from './session-types.js';

export const TERMINAL_STATUSES: readonly SessionStatus[] = ['closed', 'expired'];

/** The status a reader sees: an open session past its `expiresAt` is `expired`. */
export function effectiveStatus(session: Pick<SessionRecord, 'status' | 'expiresAt'>, now: number): SessionStatus {
  if (TERMINAL_STATUSES.includes(session.status)) return session.status;
  if (session.expiresAt !== null && now >= session.expiresAt) return 'expired';
  return session.status;
}

export function isOpen(session: Pick<SessionRecord, 'status' | 'expiresAt'>, now: number): boolean {
  return !TERMINAL_STATUSES.includes(effectiveStatus(session, now));
}

/** Whether a session matches list filters; the watch monitor applies it to changes. */
export function matchesQuery(
  session: SessionRecord,
  query: Omit<SessionQuery, 'beforeId' | 'limit' | 'projectId'> & { projectId: string },
): boolean {
  if (session.projectId !== query.projectId) return false;
  if (query.statuses.length && !query.statuses.includes(effectiveStatus(session, query.now))) return false;
  if (query.type !== null && session.type !== query.type) return false;
  if (query.agent !== null && session.agent !== query.agent) return false;
  if (query.parentId !== null && session.parentId !== query.parentId) return false;
  if (query.rootId !== null && session.rootId !== query.rootId) return false;
  if (query.externalId !== null && session.externalId !== query.externalId) return false;
  if (query.createdAfter !== null && !(session.createdAt > query.createdAfter)) return false;
  if (query.createdBefore !== null && !(session.createdAt < query.createdBefore)) return false;
  return query.tags.every((tag) => session.tags.includes(tag));
}
