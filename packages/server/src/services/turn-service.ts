/**
 * Turns and runners (DESIGN §4) without HTTP: admitting input, the claim
 * long-poll, leases, completion, stop requests and the lease sweeper. The
 * rules live in `storage/turn-rules.ts`; this service resolves sessions,
 * hands the store a decision, and wakes whoever the change concerns.
 */
import { monotonicFactory } from 'ulid';
import { SESSION_ID_PREFIX } from '@tether/protocol';
import { AppError } from '../errors.js';
import {
  DEFAULT_LEASE_MS,
  decideAdmitAndClaim,
  decideCancel,
  decideClaim,
  decideComplete,
  decideHeartbeat,
  decideInterrupt,
  decideLapse,
  decideRawInterrupt,
  type AdmitInput,
  type Claimed,
  type Claimant,
  type EndStatus,
} from '../storage/turn-rules.js';
import { decideExpire } from '../storage/interaction-rules.js';
import type { BusyPolicy, Decide, MutationResult, TurnRecord, TurnSnapshot } from '../storage/turn-types.js';
import type { AppendOutcome, AppendRequest, Store } from '../storage/types.js';
import type { Clock } from './clock.js';
import type { Notifier } from './live-hub.js';
import { SESSION_CHANGES_KEY, type SessionService } from './session-service.js';
import { ClaimWaiters, type Sleeper } from './claim-waiters.js';

/**
 * Notifier key on which claimable turns are announced, so waiting claimers
 * on every replica wake (stream ids start at 1, session changes use 0).
 */
export const RUNNER_WAKE_KEY = -1;

/**
 * The wake key of claimers that want only `agent`'s turns (-2 and below):
 * a turn wakes the claimers of its agent and those that take any agent,
 * not every waiting runner. Two agents may share a key; that only costs a
 * needless look at the queue.
 */
export function agentWakeKey(agent: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < agent.length; i++) hash = Math.imul(hash ^ agent.charCodeAt(i), 0x01000193) >>> 0;
  return -2 - (hash % 1_000_000_007);
}

export interface TurnSettings {
  /** Times a turn whose lease lapsed is queued again before it is interrupted. */
  turnRetries: number;
  /** Longest a claim may wait. */
  maxClaimWaitMs: number;
  /** Claimers look at the queue this often even without a wake-up (a lost notification, a skipped lock). */
  claimPollMs: number;
  sweepBatchSize: number;
}

export interface TurnServiceDeps {
  store: Store;
  sessions: SessionService;
  notifier: Notifier;
  clock: Clock;
  settings: TurnSettings;
}

export interface ClaimInput {
  runnerId: string;
  agents?: string[];
  waitMs?: number;
  leaseMs?: number;
}

export class TurnService {
  private readonly ulid = monotonicFactory();

  private readonly waiters: ClaimWaiters;

  constructor(private readonly deps: TurnServiceDeps) {
    this.waiters = new ClaimWaiters(deps.notifier);
  }

  private now(): number {
    return this.deps.clock.now();
  }

  /**
   * The session id a ref names. An id is taken as it is — the mutation's own
   * lookup answers SESSION_NOT_FOUND — which spares the hot paths (heartbeats,
   * completions) a read; an external id is resolved.
   */
  private async sessionIdOf(projectId: string, ref: string): Promise<string> {
    if (ref.startsWith(SESSION_ID_PREFIX)) return ref;
    return (await this.deps.sessions.resolve(projectId, ref)).id;
  }

  newTurnId(): string {
    return `turn_${this.ulid(this.now())}`;
  }

  /** Wakes the channels' readers, the monitor and waiting claimers, as the change warrants. */
  publish(mutation: MutationResult<unknown>): void {
    const { notifier } = this.deps;
    notifier.publish({ streamId: mutation.outStreamId, tail: mutation.outTail, closed: false, deleted: false });
    notifier.publish({ streamId: mutation.inStreamId, tail: mutation.inTail, closed: false, deleted: false });
    if (mutation.sessionChanged) notifier.publish({ streamId: SESSION_CHANGES_KEY, tail: 0, closed: false, deleted: false });
    if (mutation.claimable) {
      notifier.publish({ streamId: RUNNER_WAKE_KEY, tail: 0, closed: false, deleted: false });
      if (mutation.agent !== null) notifier.publish({ streamId: agentWakeKey(mutation.agent), tail: 0, closed: false, deleted: false });
    }
  }

  /**
   * An admission that may hand its turn to a claimer sleeping on this replica
   * (see `decideAdmitAndClaim`). The claimer is chosen once, however often the
   * store runs the decision, and woken when the outcome is known.
   */
  private handOff(input: AdmitInput) {
    let taken: Sleeper | null | undefined;
    const claimant = (agent: string | null): Claimant | null => {
      if (taken === undefined) {
        const keys = agent === null ? [RUNNER_WAKE_KEY] : [agentWakeKey(agent), RUNNER_WAKE_KEY];
        taken = this.waiters.take(keys, agent);
      }
      return taken;
    };
    return {
      decide: (snapshot: TurnSnapshot) => decideAdmitAndClaim(snapshot, input, claimant),
      /** After the commit: the claimer gets the turn it was given, or looks at the queue again. */
      settle: (claimed: Claimed | null | undefined) => taken?.end(claimed ?? true),
    };
  }

  async sendMessage(
    projectId: string,
    ref: string,
    input: { content: unknown; policy?: BusyPolicy; idempotencyKey?: string },
  ): Promise<{ turn: TurnRecord; created: boolean; sessionId: string }> {
    const sessionId = await this.sessionIdOf(projectId, ref);
    const key = input.idempotencyKey ?? null;
    const admit = this.handOff({ turnId: this.newTurnId(), content: input.content, policy: input.policy ?? 'reject', idempotencyKey: key, appendMessage: true });
    let claimed: Claimed | null = null;
    try {
      const mutation = await this.deps.store.turns.mutate(projectId, sessionId, key === null ? {} : { idempotencyKey: key }, this.now(), admit.decide);
      claimed = mutation.result.claimed;
      this.publish(mutation);
      return { turn: mutation.result.turn, created: mutation.result.created, sessionId };
    } finally {
      admit.settle(claimed);
    }
  }

  /** A `user.message` appended straight to `in`: the append and its turn commit together. */
  async admitRaw(projectId: string, sessionId: string, request: AppendRequest, event: Record<string, unknown>): Promise<AppendOutcome> {
    const policy = event.policy ?? 'reject';
    if (policy !== 'reject' && policy !== 'enqueue' && policy !== 'interrupt') {
      throw new AppError('INVALID_EVENT', '`policy` must be reject, enqueue or interrupt');
    }
    const key = event.idempotencyKey ?? null;
    if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
      throw new AppError('INVALID_EVENT', '`idempotencyKey` must be a string of 1 to 256 characters');
    }
    const content = event.content ?? event.text;
    const admit = this.handOff({ turnId: this.newTurnId(), content, policy, idempotencyKey: key, appendMessage: false });
    let claimed: Claimed | null = null;
    try {
      const { outcome, mutation } = await this.deps.store.turns.appendProjected(
        projectId,
        sessionId,
        request,
        key === null ? {} : { idempotencyKey: key },
        admit.decide,
      );
      if (mutation) {
        claimed = mutation.result.claimed;
        this.publish(mutation);
      }
      return outcome;
    } finally {
      admit.settle(claimed);
    }
  }

  /** A `control.interrupt` appended straight to `in`: stored together with the flag it sets. */
  async interruptRaw(projectId: string, sessionId: string, request: AppendRequest): Promise<AppendOutcome> {
    const { outcome, mutation } = await this.deps.store.turns.appendProjected(projectId, sessionId, request, {}, decideRawInterrupt);
    if (mutation) this.publish(mutation);
    return outcome;
  }

  /**
   * Long-poll for work. Subscribes before looking at the queue, so a turn
   * admitted between the look and the wait still wakes this claimer.
   */
  async claim(projectId: string, input: ClaimInput, signal: AbortSignal): Promise<(Claimed & { sessionId: string; projectId: string }) | null> {
    const { settings } = this.deps;
    const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
    const deadline = this.now() + Math.min(input.waitMs ?? 25_000, settings.maxClaimWaitMs);
    const agents = input.agents ?? [];
    const keys = agents.length ? [...new Set(agents.map(agentWakeKey))] : [RUNNER_WAKE_KEY];
    this.waiters.prepare(keys);
    for (;;) {
      const mutation = await this.deps.store.turns.claim({ projectId, agents, now: this.now() }, (snapshot) =>
        decideClaim(snapshot, { runnerId: input.runnerId, leaseMs }),
      );
      if (mutation) {
        this.publish({ ...mutation, claimable: false });
        const claimed = mutation.result as Claimed;
        return { ...claimed, sessionId: claimed.turn.sessionId, projectId: claimed.turn.projectId };
      }
      const left = deadline - this.now();
      if (left <= 0 || signal.aborted) return null;
      // A wake is not a promise of work (another replica may win the turn), and
      // the poll interval bounds how long a missed announcement can go unseen.
      const woken = await this.waiters.sleep({
        keys,
        agents,
        runnerId: input.runnerId,
        leaseMs,
        timeoutMs: Math.min(left, settings.claimPollMs),
        signal,
      });
      if (typeof woken === 'object') return { ...woken, sessionId: woken.turn.sessionId, projectId: woken.turn.projectId };
    }
  }

  private async mutateTurn<R>(projectId: string, ref: string, turnId: string, decide: Decide<R>): Promise<R> {
    const sessionId = await this.sessionIdOf(projectId, ref);
    const mutation = await this.deps.store.turns.mutate(projectId, sessionId, { turnId }, this.now(), decide);
    this.publish(mutation);
    return mutation.result;
  }

  heartbeat(projectId: string, ref: string, turnId: string, input: { epoch: number; leaseMs?: number }): Promise<TurnRecord> {
    return this.mutateTurn(projectId, ref, turnId, (snapshot) =>
      decideHeartbeat(snapshot, { turnId, epoch: input.epoch, leaseMs: input.leaseMs ?? null }),
    );
  }

  complete(projectId: string, ref: string, turnId: string, input: { epoch: number; status: EndStatus; error?: unknown }): Promise<TurnRecord> {
    return this.mutateTurn(projectId, ref, turnId, (snapshot) =>
      decideComplete(snapshot, { turnId, epoch: input.epoch, status: input.status, error: input.error ?? null }),
    );
  }

  cancel(projectId: string, ref: string, turnId: string): Promise<TurnRecord> {
    return this.mutateTurn(projectId, ref, turnId, (snapshot) => decideCancel(snapshot, { turnId }));
  }

  async interrupt(projectId: string, ref: string): Promise<TurnRecord> {
    const sessionId = await this.sessionIdOf(projectId, ref);
    const mutation = await this.deps.store.turns.mutate(projectId, sessionId, {}, this.now(), decideInterrupt);
    this.publish(mutation);
    return mutation.result;
  }

  async getTurn(projectId: string, ref: string, turnId: string): Promise<TurnRecord> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const turn = await this.deps.store.turns.getTurn(projectId, session.id, turnId);
    if (!turn) throw new AppError('TURN_NOT_FOUND', `no turn ${turnId} in session ${session.id}`);
    return turn;
  }

  async listTurns(projectId: string, ref: string, input: { limit?: number; beforeSeq?: number }): Promise<{ data: TurnRecord[]; nextCursor: string | null }> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const limit = input.limit ?? 50;
    const rows = await this.deps.store.turns.listTurns({ sessionId: session.id, beforeSeq: input.beforeSeq ?? null, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { data: page, nextCursor: rows.length > limit ? String(page.at(-1)!.seq) : null };
  }

  /**
   * One pass of the sweeper: lapsed leases and timed-out questions. `all`
   * (SQLite start-up) treats every running turn as lapsed: the process that
   * held its runner's lease is gone.
   */
  async sweep(all = false): Promise<number> {
    const { store, settings } = this.deps;
    let handled = 0;
    const now = this.now();
    const settle = async (projectId: string, sessionId: string, decide: Decide<number>) => {
      try {
        const mutation = await store.turns.mutate(projectId, sessionId, {}, this.now(), decide);
        this.publish(mutation);
        handled += mutation.result;
      } catch (error) {
        // A session deleted since it was listed has nothing left to sweep.
        if (!(error instanceof AppError && error.code === 'SESSION_NOT_FOUND')) throw error;
      }
    };
    for (const { projectId, sessionId } of await store.turns.lapsedLeases(now, settings.sweepBatchSize, all)) {
      await settle(projectId, sessionId, (snapshot) => decideLapse(snapshot, { retries: settings.turnRetries, all }));
    }
    for (const { projectId, sessionId } of await store.turns.dueInteractions(now, settings.sweepBatchSize)) {
      await settle(projectId, sessionId, decideExpire);
    }
    return handled;
  }
}
