/**
 * The turn half of the storage contract (DESIGN §4). Every change to a
 * session's turns and interactions is a *mutation*: the driver locks the
 * session, loads a `TurnSnapshot`, lets a pure decision (see `turn-rules.ts`)
 * compute a `TurnPlan`, and writes the plan — turn and interaction rows, the
 * channel events, the lease epoch and the session's derived status — in the
 * same transaction. Both drivers therefore share every rule and differ only in
 * how they lock and write.
 */
import type { SessionStatus } from '@tether/protocol';
import type { AppendOutcome, AppendRequest } from './types.js';

export const TURN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'interrupted', 'cancelled'] as const;
export type TurnStatus = (typeof TURN_STATUSES)[number];
export const OPEN_TURN_STATUSES: readonly TurnStatus[] = ['queued', 'running', 'waiting'];
export const BUSY_POLICIES = ['reject', 'enqueue', 'interrupt'] as const;
export type BusyPolicy = (typeof BUSY_POLICIES)[number];

export const INTERACTION_STATUSES = ['pending', 'resolved', 'denied', 'expired', 'cancelled'] as const;
export type InteractionStatus = (typeof INTERACTION_STATUSES)[number];

/** The producer id runners write `out` with; its epoch is the lease epoch. */
export const RUNNER_PRODUCER_ID = 'tether-runner';

export interface TurnRecord {
  id: string;
  projectId: string;
  sessionId: string;
  /** 1-based number of the turn within its session. */
  seq: number;
  status: TurnStatus;
  /** Turns admitted with `interrupt` run before other queued turns of their session. */
  priority: number;
  content: unknown;
  policy: BusyPolicy;
  idempotencyKey: string | null;
  runnerId: string | null;
  leaseEpoch: number | null;
  leaseExpiresAt: number | null;
  /** The lease length the runner asked for; heartbeats without one extend by it. */
  leaseMs: number | null;
  /** How many times a runner claimed it (a lapsed lease may re-queue it). */
  attempts: number;
  interruptRequested: boolean;
  cancelRequested: boolean;
  error: unknown;
  reason: string | null;
  createdAt: number;
  queuedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

export interface InteractionRecord {
  /** Store-wide order, for paging the inbox. */
  seq: number;
  projectId: string;
  sessionId: string;
  turnId: string;
  /** Chosen by the runner; unique within its session. */
  id: string;
  kind: 'input' | 'choice' | 'approval' | 'form';
  prompt: string;
  choices: unknown[] | null;
  schema: Record<string, unknown> | null;
  timeoutAt: number | null;
  status: InteractionStatus;
  response: unknown;
  requestedAt: number;
  resolvedAt: number | null;
}

/** What a decision needs of the session; the full record is read after commit. */
export interface SessionHead {
  id: string;
  projectId: string;
  status: SessionStatus;
  expiresAt: number | null;
  agent: string | null;
  activeTurnId: string | null;
  turnCount: number;
  pendingInteractions: number;
  leaseEpoch: number;
}

export interface SnapshotQuery {
  turnId?: string;
  idempotencyKey?: string;
  interactionIds?: string[];
}

export interface TurnSnapshot {
  session: SessionHead;
  /** Queued, running and waiting turns, in the order they will run. */
  openTurns: TurnRecord[];
  /** The turn asked for by id or idempotency key, in any status. */
  turn: TurnRecord | null;
  /** Pending interactions of the session. */
  pending: InteractionRecord[];
  /** The interactions asked for by id, in any status. */
  interactions: InteractionRecord[];
  now: number;
}

/** An interaction row to insert (no `seq` yet) or update. */
export type InteractionWrite = Omit<InteractionRecord, 'seq'>;

export interface TurnPlan {
  appendIn: Record<string, unknown>[];
  appendOut: Record<string, unknown>[];
  /** Inserted or replaced whole. */
  turns: TurnRecord[];
  interactions: InteractionWrite[];
  /** A new lease epoch: the session's counter and the runner producer's epoch on `out`. */
  leaseEpoch: number | null;
}

export interface Decision<R> {
  plan: TurnPlan;
  result: R;
  /** For a projected raw append: the request is a retry already applied, so append nothing. */
  skipAppend?: boolean;
}

export type Decide<R> = (snapshot: TurnSnapshot) => Decision<R>;

export interface MutationResult<R> {
  result: R;
  /** Channel tails after the mutation, for waking readers. */
  outStreamId: number;
  inStreamId: number;
  outTail: number;
  inTail: number;
  /** Whether the session row changed in a way watchers should see. */
  sessionChanged: boolean;
  /** Whether a turn of this session can now be claimed. */
  claimable: boolean;
  /** The session's agent, so only claimers that want it need to wake. */
  agent: string | null;
}

export interface ClaimFilter {
  /** Only turns of this project's sessions: a runner works for one project. */
  projectId: string;
  agents: string[];
  now: number;
}

export interface TurnListQuery {
  sessionId: string;
  beforeSeq: number | null;
  limit: number;
}

export interface InteractionQuery {
  projectId: string;
  sessionId: string | null;
  statuses: InteractionStatus[];
  afterSeq: number | null;
  limit: number;
}

export interface TurnStore {
  /** Locks the session, decides on its snapshot and writes the plan, atomically. */
  mutate<R>(projectId: string, sessionId: string, query: SnapshotQuery, now: number, decide: Decide<R>): Promise<MutationResult<R>>;
  /**
   * A raw append to a session channel together with its projection: `decide`
   * runs first (and may refuse by throwing), then the append, then the plan.
   * When the append itself is refused (fenced producer, closed stream...) its
   * outcome is returned and nothing of the plan is written.
   */
  appendProjected<R>(
    projectId: string,
    sessionId: string,
    request: AppendRequest,
    query: SnapshotQuery,
    decide: Decide<R>,
  ): Promise<{ outcome: AppendOutcome; mutation: MutationResult<R> | null }>;
  /** Claims the oldest claimable turn: `decide` gets its session's snapshot; null when none. */
  claim<R>(filter: ClaimFilter, decide: Decide<R | null>): Promise<MutationResult<R> | null>;
  /** How many turns are in each status, for /metrics. */
  countByStatus(): Promise<Record<string, number>>;
  /** Sessions with a running or waiting turn whose lease has lapsed (all of them when `all`). */
  lapsedLeases(now: number, limit: number, all?: boolean): Promise<{ projectId: string; sessionId: string }[]>;
  /** Sessions with a pending interaction past its timeout. */
  dueInteractions(now: number, limit: number): Promise<{ projectId: string; sessionId: string }[]>;
  getTurn(projectId: string, sessionId: string, turnId: string): Promise<TurnRecord | null>;
  /** Newest first. */
  listTurns(query: TurnListQuery): Promise<TurnRecord[]>;
  getInteraction(projectId: string, sessionId: string, interactionId: string): Promise<InteractionRecord | null>;
  /** Oldest first. */
  listInteractions(query: InteractionQuery): Promise<InteractionRecord[]>;
}
