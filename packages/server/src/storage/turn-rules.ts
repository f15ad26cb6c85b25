/**
 * Turn decisions as pure functions of a session's snapshot (see
 * `turn-types.ts`). Each returns the plan to write and what to answer, or
 * throws an `AppError` to refuse with nothing written. Both drivers run them
 * inside their own transaction, holding the session's lock, so "at most one
 * running turn" and "exactly one claim" are decided here once.
 */
import { AppError } from '../errors.js';
import { effectiveStatus } from './session-rules.js';
import {
  OPEN_TURN_STATUSES,
  type BusyPolicy,
  type Decision,
  type InteractionRecord,
  type InteractionWrite,
  type SessionHead,
  type TurnPlan,
  type TurnRecord,
  type TurnSnapshot,
  type TurnStatus,
} from './turn-types.js';
import type { SessionStatus } from '@tether/protocol';

export const DEFAULT_LEASE_MS = 30_000;

export function emptyPlan(): TurnPlan {
  return { appendIn: [], appendOut: [], turns: [], interactions: [], leaseEpoch: null };
}

const isActive = (turn: TurnRecord) => turn.status === 'running' || turn.status === 'waiting';
export const isOpenTurn = (status: TurnStatus) => OPEN_TURN_STATUSES.includes(status);

/** Run order: the running or waiting turn, then queued ones by priority, then arrival. */
export function runOrder(a: TurnRecord, b: TurnRecord): number {
  const rank = (t: TurnRecord) => (isActive(t) ? 0 : 1);
  return rank(a) - rank(b) || b.priority - a.priority || a.seq - b.seq;
}

function mergeById<T>(key: (item: T) => string, base: T[], updates: T[]): T[] {
  const merged = new Map(base.map((item) => [key(item), item]));
  for (const item of updates) merged.set(key(item), item);
  return [...merged.values()];
}

/** Whether a plan changes what watchers see of the session, and whether its row needs writing. */
export function sessionChanges(
  before: SessionHead,
  after: ReturnType<typeof sessionAfter>,
): { visible: boolean; write: boolean } {
  const visible =
    after.status !== before.status ||
    after.activeTurnId !== before.activeTurnId ||
    after.turnCount !== before.turnCount ||
    after.pendingInteractions !== before.pendingInteractions;
  return { visible, write: visible || after.leaseEpoch !== before.leaseEpoch };
}

/** The session fields a plan leads to; drivers write them with the plan. */
export function sessionAfter(
  snapshot: TurnSnapshot,
  plan: TurnPlan,
): { status: SessionStatus; activeTurnId: string | null; turnCount: number; pendingInteractions: number; leaseEpoch: number } {
  const { session } = snapshot;
  const known = new Set([...snapshot.openTurns.map((t) => t.id), ...(snapshot.turn ? [snapshot.turn.id] : [])]);
  const added = plan.turns.filter((t) => !known.has(t.id)).length;
  const open = mergeById((t) => t.id, snapshot.openTurns, plan.turns)
    .filter((t) => isOpenTurn(t.status))
    .sort(runOrder);
  const pending = mergeById((i) => i.id, snapshot.pending as InteractionWrite[], plan.interactions).filter(
    (i) => i.status === 'pending',
  ).length;
  const closed = session.status === 'closed' || session.status === 'expired';
  const head = open[0];
  const status: SessionStatus = closed
    ? session.status
    : !head
      ? 'idle'
      : head.status === 'queued'
        ? 'queued'
        : head.status === 'waiting'
          ? 'waiting'
          : 'running';
  return {
    status,
    activeTurnId: closed ? session.activeTurnId : (head?.id ?? null),
    turnCount: session.turnCount + added,
    pendingInteractions: pending,
    leaseEpoch: plan.leaseEpoch ?? session.leaseEpoch,
  };
}

export function assertOpen(session: SessionHead, now: number): void {
  const status = effectiveStatus(session, now);
  if (status === 'closed') throw new AppError('SESSION_CLOSED', `session ${session.id} is closed`, { sessionId: session.id });
  if (status === 'expired') throw new AppError('SESSION_EXPIRED', `session ${session.id} has expired`, { sessionId: session.id });
}

function requireTurn(snapshot: TurnSnapshot, turnId: string): TurnRecord {
  const turn = snapshot.turn;
  if (!turn || turn.id !== turnId) throw new AppError('TURN_NOT_FOUND', `no turn ${turnId} in session ${snapshot.session.id}`);
  return turn;
}

/**
 * Cancels the pending interactions of `turnId`, telling the client (`out`)
 * and the runner (`in`); the turn no longer waits on them.
 */
export function cancelPending(snapshot: TurnSnapshot, plan: TurnPlan, turnId: string, status: 'cancelled' | 'expired'): void {
  for (const interaction of snapshot.pending) {
    if (interaction.turnId !== turnId) continue;
    plan.interactions.push(closeInteraction(interaction, status, snapshot.now));
    plan.appendOut.push({ type: 'interaction.resolved', interactionId: interaction.id, status });
    plan.appendIn.push({ type: 'interaction.response', interactionId: interaction.id, status });
  }
}

export function closeInteraction(interaction: InteractionRecord, status: 'cancelled' | 'expired', now: number): InteractionWrite {
  const { seq: _seq, ...rest } = interaction;
  return { ...rest, status, resolvedAt: now };
}

/** A stop request (interrupt, cancel, close) to the running turn: flagged, told through `in`. */
function requestStop(snapshot: TurnSnapshot, plan: TurnPlan, turn: TurnRecord, reason: 'interrupt' | 'cancel' | 'session_closed'): TurnRecord {
  const already = reason === 'interrupt' ? turn.interruptRequested : turn.cancelRequested;
  const updated: TurnRecord = {
    ...turn,
    status: 'running',
    interruptRequested: turn.interruptRequested || reason === 'interrupt',
    cancelRequested: turn.cancelRequested || reason !== 'interrupt',
    updatedAt: snapshot.now,
  };
  if (!already) plan.appendIn.push({ type: 'control.interrupt', turnId: turn.id, reason });
  cancelPending(snapshot, plan, turn.id, 'cancelled');
  plan.turns.push(updated);
  return updated;
}

export interface AdmitInput {
  turnId: string;
  content: unknown;
  policy: BusyPolicy;
  idempotencyKey: string | null;
  /** The messages route appends the `user.message` itself; a raw append brings its own. */
  appendMessage: boolean;
}

export function decideAdmit(snapshot: TurnSnapshot, input: AdmitInput): Decision<{ turn: TurnRecord; created: boolean }> {
  const plan = emptyPlan();
  if (input.idempotencyKey !== null && snapshot.turn?.idempotencyKey === input.idempotencyKey) {
    return { plan, result: { turn: snapshot.turn, created: false }, skipAppend: true };
  }
  const { session, now } = snapshot;
  assertOpen(session, now);
  const active = snapshot.openTurns[0];
  let priority = 0;
  if (active) {
    if (input.policy === 'reject') {
      throw new AppError('SESSION_BUSY', `session ${session.id} has an active turn`, { activeTurnId: active.id });
    }
    if (input.policy === 'interrupt') {
      priority = 1;
      if (isActive(active)) requestStop(snapshot, plan, active, 'interrupt');
    }
  }
  const turn: TurnRecord = {
    id: input.turnId,
    projectId: session.projectId,
    sessionId: session.id,
    seq: session.turnCount + 1,
    status: 'queued',
    priority,
    content: input.content,
    policy: input.policy,
    idempotencyKey: input.idempotencyKey,
    runnerId: null,
    leaseEpoch: null,
    leaseExpiresAt: null,
    leaseMs: null,
    attempts: 0,
    interruptRequested: false,
    cancelRequested: false,
    error: null,
    reason: null,
    createdAt: now,
    queuedAt: now,
    startedAt: null,
    endedAt: null,
    updatedAt: now,
  };
  if (input.appendMessage) plan.appendIn.push({ type: 'user.message', content: input.content, turnId: turn.id });
  plan.turns.push(turn);
  return { plan, result: { turn, created: true } };
}

export interface Claimed {
  turn: TurnRecord;
  epoch: number;
  expiresAt: number;
}

/** Gives the session's next queued turn to a runner; null when it has none to give. */
export function decideClaim(snapshot: TurnSnapshot, input: { runnerId: string; leaseMs: number }): Decision<Claimed | null> {
  const plan = emptyPlan();
  const { session, now } = snapshot;
  const next = snapshot.openTurns[0];
  if (effectiveStatus(session, now) !== session.status || !next || next.status !== 'queued') return { plan, result: null };
  const epoch = session.leaseEpoch + 1;
  const turn: TurnRecord = {
    ...next,
    status: 'running',
    runnerId: input.runnerId,
    leaseEpoch: epoch,
    leaseExpiresAt: now + input.leaseMs,
    leaseMs: input.leaseMs,
    attempts: next.attempts + 1,
    startedAt: next.startedAt ?? now,
    updatedAt: now,
  };
  plan.turns.push(turn);
  plan.leaseEpoch = epoch;
  return { plan, result: { turn, epoch, expiresAt: turn.leaseExpiresAt! } };
}

/** A runner waiting for work on this replica, offered a turn as it is admitted. */
export interface Claimant {
  runnerId: string;
  leaseMs: number;
}

/**
 * Admission that hands the new turn straight to a waiting runner when nothing
 * is ahead of it, in the same transaction: the runner's claim needs no second
 * commit and no wake-up round trip. `claimant` is asked only when the turn
 * could be claimed at once, and may answer null (nobody is waiting).
 */
export function decideAdmitAndClaim(
  snapshot: TurnSnapshot,
  input: AdmitInput,
  claimant: (agent: string | null) => Claimant | null,
): Decision<{ turn: TurnRecord; created: boolean; claimed: Claimed | null }> {
  const admitted = decideAdmit(snapshot, input);
  const { turn, created } = admitted.result;
  if (!created || snapshot.openTurns.length > 0) return { ...admitted, result: { turn, created, claimed: null } };
  const runner = claimant(snapshot.session.agent);
  if (!runner) return { ...admitted, result: { turn, created, claimed: null } };
  const claim = decideClaim({ ...snapshot, openTurns: [turn] }, runner);
  if (!claim.result) return { ...admitted, result: { turn, created, claimed: null } };
  const plan = admitted.plan;
  plan.turns = plan.turns.map((t) => (t.id === turn.id ? claim.result!.turn : t));
  plan.leaseEpoch = claim.plan.leaseEpoch;
  return { plan, result: { turn: claim.result.turn, created, claimed: claim.result } };
}

/** The running turn whose lease `epoch` is still current, or LEASE_LOST. */
function requireLease(snapshot: TurnSnapshot, turnId: string, epoch: number): TurnRecord {
  const turn = requireTurn(snapshot, turnId);
  const current =
    isActive(turn) &&
    turn.leaseEpoch === epoch &&
    snapshot.session.leaseEpoch === epoch &&
    (turn.leaseExpiresAt ?? 0) > snapshot.now;
  if (!current) {
    throw new AppError('LEASE_LOST', `the lease on turn ${turnId} is no longer held at epoch ${epoch}`, {
      turnId,
      status: turn.status,
      currentEpoch: snapshot.session.leaseEpoch,
    });
  }
  return turn;
}

export function decideHeartbeat(snapshot: TurnSnapshot, input: { turnId: string; epoch: number; leaseMs: number | null }): Decision<TurnRecord> {
  const plan = emptyPlan();
  const turn = requireLease(snapshot, input.turnId, input.epoch);
  const leaseMs = input.leaseMs ?? turn.leaseMs ?? DEFAULT_LEASE_MS;
  const updated: TurnRecord = { ...turn, leaseMs, leaseExpiresAt: snapshot.now + leaseMs, updatedAt: snapshot.now };
  plan.turns.push(updated);
  return { plan, result: updated };
}

export type EndStatus = 'completed' | 'failed' | 'interrupted' | 'cancelled';

export function decideComplete(
  snapshot: TurnSnapshot,
  input: { turnId: string; epoch: number; status: EndStatus; error: unknown },
): Decision<TurnRecord> {
  const plan = emptyPlan();
  const existing = requireTurn(snapshot, input.turnId);
  // A retried completion (its answer was lost) is answered again, not refused.
  if (existing.status === input.status && existing.leaseEpoch === input.epoch) return { plan, result: existing };
  const turn = requireLease(snapshot, input.turnId, input.epoch);
  const ended = endTurn(snapshot, plan, turn, input.status, input.error ?? null, null);
  return { plan, result: ended };
}

function endTurn(snapshot: TurnSnapshot, plan: TurnPlan, turn: TurnRecord, status: EndStatus, error: unknown, reason: string | null): TurnRecord {
  const { now } = snapshot;
  const ended: TurnRecord = { ...turn, status, error, reason, leaseExpiresAt: null, endedAt: now, updatedAt: now };
  cancelPending(snapshot, plan, turn.id, 'cancelled');
  const event: Record<string, unknown> = { type: `turn.${status}`, turnId: turn.id };
  if (error !== null && error !== undefined) event.error = error;
  if (reason !== null) event.reason = reason;
  plan.appendOut.push(event);
  plan.turns.push(ended);
  return ended;
}

export function decideCancel(snapshot: TurnSnapshot, input: { turnId: string }): Decision<TurnRecord> {
  const plan = emptyPlan();
  const turn = requireTurn(snapshot, input.turnId);
  if (!isOpenTurn(turn.status)) return { plan, result: turn };
  if (turn.status === 'queued') return { plan, result: endTurn(snapshot, plan, turn, 'cancelled', null, 'cancelled') };
  return { plan, result: requestStop(snapshot, plan, turn, 'cancel') };
}

export function decideInterrupt(snapshot: TurnSnapshot): Decision<TurnRecord> {
  const plan = emptyPlan();
  const turn = snapshot.openTurns.find(isActive);
  if (!turn) throw new AppError('SESSION_NOT_RUNNING', `session ${snapshot.session.id} has no running turn`);
  return { plan, result: requestStop(snapshot, plan, turn, 'interrupt') };
}

/**
 * A `control.interrupt` a client appended to `in` itself: the running turn is
 * flagged as if the interrupt route had been called; with none running it is
 * only stored.
 */
export function decideRawInterrupt(snapshot: TurnSnapshot): Decision<null> {
  const plan = emptyPlan();
  const turn = snapshot.openTurns.find(isActive);
  if (turn) {
    plan.turns.push({ ...turn, status: 'running', interruptRequested: true, updatedAt: snapshot.now });
    cancelPending(snapshot, plan, turn.id, 'cancelled');
  }
  return { plan, result: null };
}

/**
 * Lapsed leases: the turn is interrupted (or queued again while it has
 * retries left), and the epoch moves on so the lapsed runner is fenced off
 * `out`. `all` treats every running turn as lapsed (a crashed single server).
 */
export function decideLapse(snapshot: TurnSnapshot, input: { retries: number; all: boolean }): Decision<number> {
  const plan = emptyPlan();
  const { now } = snapshot;
  const lapsed = snapshot.openTurns.filter((t) => isActive(t) && (input.all || (t.leaseExpiresAt ?? 0) <= now));
  for (const turn of lapsed) {
    const reason = input.all ? 'server_restart' : 'lease_expired';
    if (turn.attempts <= input.retries && !turn.cancelRequested) {
      cancelPending(snapshot, plan, turn.id, 'cancelled');
      plan.turns.push({ ...turn, status: 'queued', runnerId: null, leaseEpoch: null, leaseExpiresAt: null, reason, updatedAt: now });
    } else {
      endTurn(snapshot, plan, turn, turn.cancelRequested ? 'cancelled' : 'interrupted', null, reason);
    }
  }
  if (lapsed.length) plan.leaseEpoch = snapshot.session.leaseEpoch + 1;
  return { plan, result: lapsed.length };
}

/** Session close: queued turns are cancelled, the running one is asked to stop. */
export function decideClose(snapshot: TurnSnapshot): Decision<null> {
  const plan = emptyPlan();
  for (const turn of snapshot.openTurns) {
    if (turn.status === 'queued') endTurn(snapshot, plan, turn, 'cancelled', null, 'session_closed');
    else requestStop(snapshot, plan, turn, 'session_closed');
  }
  return { plan, result: null };
}
