/** Decisions about session state and files shared by both drivers. */
import type { SessionStatus } from '@tether/protocol';
import { effectiveStatus, isOpen } from './session-rules.js';
import type { Preconditions, SessionRefusal } from './session-data-types.js';

/**
 * Whether a write's preconditions hold (RFC 9110 §13.1.1–2) against what is
 * stored now: `tag` is the current validator, `exists` whether anything is
 * stored. State reports tag "0" with exists=false before its first write, so
 * `If-Match: "0"` means "only if nothing was written yet".
 */
export function preconditionsHold(conditions: Preconditions, current: { tag: string | null; exists: boolean }): boolean {
  const { ifMatch, ifNoneMatch } = conditions;
  if (ifMatch !== null) {
    const ok = ifMatch === '*' ? current.exists : current.tag !== null && ifMatch.includes(current.tag);
    if (!ok) return false;
  }
  if (ifNoneMatch !== null) {
    const matched = ifNoneMatch === '*' ? current.exists : current.tag !== null && ifNoneMatch.includes(current.tag);
    if (matched) return false;
  }
  return true;
}

/** The refusal for a write to this session, or null when it may be written. */
export function refuseWrite(
  session: { status: SessionStatus; expiresAt: number | null } | null,
  now: number,
): SessionRefusal | null {
  if (!session) return { kind: 'no-session' };
  if (isOpen(session, now)) return null;
  return { kind: 'not-writable', status: effectiveStatus(session, now) };
}
