import { followChannel } from './channel-reader.js';
import { TetherError } from './errors.js';
import { HttpClient, retrying } from './http.js';
import { InteractionWaiters } from './interactions.js';
import { LeaseKeeper } from './lease.js';
import { IdempotentProducer } from './producer.js';
import { createTurnContext, type TurnContext } from './turn-context.js';
import { messageText, type ChannelEvent, type Claim, type TurnOutcome, type UserMessageEvent } from './types.js';

export type AgentHandler = (ctx: TurnContext) => unknown | Promise<unknown>;

/** What the runner reports as it works; for logs and tests, never needed for correctness. */
export type RunnerEvent =
  | { type: 'claimed'; claim: Claim }
  | { type: 'finished'; claim: Claim; outcome: TurnOutcome | 'lease-lost'; error?: string }
  | { type: 'retry'; operation: string; error: TetherError }
  | { type: 'error'; error: unknown };

export interface TurnRunOptions {
  http: HttpClient;
  claim: Claim;
  handler: AgentHandler;
  leaseMs: number;
  /** How long a stopped handler may take to notice before the turn is completed without it. */
  abortGraceMs: number;
  /** The runner is shutting down. */
  shutdown: AbortSignal;
  onEvent(event: RunnerEvent): void;
}

type StopReason = 'interrupt' | 'cancel' | 'shutdown' | 'lease-lost';
const STOP_RANK: Record<StopReason, number> = { interrupt: 1, shutdown: 1, cancel: 2, 'lease-lost': 3 };

/** Runs one claimed turn: lease, `in` watcher, handler, completion. Never throws. */
export async function runTurn(options: TurnRunOptions): Promise<TurnOutcome | 'lease-lost'> {
  const { http, claim, onEvent } = options;
  const { session, turn } = claim;
  const turnPath = `/v1/sessions/${encodeURIComponent(session.id)}/turns/${encodeURIComponent(turn.id)}`;
  const aborter = new AbortController();
  // Ends everything that belongs to this turn (the `in` watcher, retries of
  // appends) once it is over; separate from `aborter` because a stopped
  // handler may still write its last words before the turn completes.
  const finished = new AbortController();
  let stopReason: StopReason | null = null;
  const waiters = new InteractionWaiters();

  const stop = (reason: StopReason, error?: TetherError) => {
    if (reason === 'lease-lost') finished.abort(error);
    // A later, stronger reason relabels the outcome (an interrupt that turns out to be a cancel).
    if (stopReason && STOP_RANK[stopReason] >= STOP_RANK[reason]) return;
    stopReason = reason;
    if (aborter.signal.aborted) return;
    const cause = error ?? new TetherError('ABORTED', `turn ${turn.id} stopped: ${reason}`, 0, { reason });
    aborter.abort(cause);
    waiters.rejectAll(cause);
  };

  const lease = new LeaseKeeper({
    http,
    turnPath,
    lease: claim.lease,
    leaseMs: options.leaseMs,
    onStopRequested: (kind) => stop(kind),
    onLost: (error) => stop('lease-lost', error),
    onRetry: (error) => onEvent({ type: 'retry', operation: 'heartbeat', error }),
  });
  const producer = new IdempotentProducer(http, {
    path: session.channels.out.url,
    id: claim.producer?.id ?? 'tether-runner',
    epoch: claim.producer?.epoch ?? claim.lease.epoch,
    signal: finished.signal,
    onRetry: (error) => onEvent({ type: 'retry', operation: 'append', error }),
  });
  const emit = async (event: ChannelEvent) => {
    if (finished.signal.aborted) {
      throw finished.signal.reason instanceof TetherError
        ? finished.signal.reason
        : new TetherError('TURN_FINISHED', `turn ${turn.id} is over`);
    }
    try {
      return await producer.append(event);
    } catch (error) {
      if (error instanceof TetherError && error.status === 403) {
        stop('lease-lost', new TetherError('LEASE_LOST', `turn ${turn.id}: a newer lease owns the session`, 403, error.details));
      }
      // An append still retrying when the turn ended fails for that reason, not as "aborted".
      if (finished.signal.aborted && finished.signal.reason instanceof TetherError) throw finished.signal.reason;
      throw error;
    }
  };

  const onShutdown = () => stop('shutdown');
  options.shutdown.addEventListener('abort', onShutdown, { once: true });
  if (options.shutdown.aborted) onShutdown();
  lease.start();
  const watching = watchIn(http, claim, finished.signal, waiters, (reason) => {
    if (reason) stop(reason);
    // The heartbeat tells an interrupt from a cancel for sure, and checks a hint.
    lease.pokeNow();
  }).catch((error) => {
    // `in` is gone for good (the session was deleted): heartbeats will end the turn.
    onEvent({ type: 'error', error });
  });

  let failure: string | undefined;
  const stopped = aborted(aborter.signal);
  try {
    // The claim carries the message's content (or text), so the handler starts at once.
    const input: UserMessageEvent = { type: 'user.message', content: turn.content, turnId: turn.id };
    const ctx = createTurnContext({ http, session, turn, input, text: messageText(input), signal: aborter.signal, emit, waiters });
    const run = Promise.resolve().then(() => options.handler(ctx));
    // A handler that fails after the grace period has nobody left to tell.
    run.catch(() => {});
    await Promise.race([run, stopped.catch(() => graceful(run, options.abortGraceMs))]);
  } catch (error) {
    if (!aborter.signal.aborted) failure = error instanceof Error ? error.message : String(error);
  }

  let outcome: TurnOutcome | 'lease-lost' =
    stopReason === 'lease-lost' ? 'lease-lost'
    : stopReason === 'cancel' || lease.cancelRequested ? 'cancelled'
    : stopReason ? 'interrupted'
    : failure !== undefined ? 'failed'
    : 'completed';
  if (outcome !== 'lease-lost') {
    try {
      await retrying(
        () => http.request('POST', `${turnPath}/complete`, {
          body: { epoch: lease.epoch, status: outcome, ...(failure !== undefined ? { error: failure } : {}) },
          timeoutMs: 15_000,
        }),
        { attempts: 12, onRetry: (error) => onEvent({ type: 'retry', operation: 'complete', error }) },
      );
    } catch (error) {
      // Whatever the reason, the lease will lapse and the server ends the turn itself.
      if (!(error instanceof TetherError && error.code === 'LEASE_LOST')) onEvent({ type: 'error', error });
      outcome = 'lease-lost';
    }
  }
  options.shutdown.removeEventListener('abort', onShutdown);
  finished.abort(new TetherError('TURN_FINISHED', `turn ${turn.id} is over`));
  waiters.rejectAll(new TetherError('TURN_FINISHED', `turn ${turn.id} is over`));
  await lease.stop();
  await watching;
  onEvent({ type: 'finished', claim, outcome, ...(failure !== undefined ? { error: failure } : {}) });
  return outcome;
}

/** Rejects when `signal` fires; safe to leave pending or unobserved. */
function aborted(signal: AbortSignal): Promise<never> {
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  promise.catch(() => {});
  return promise;
}

/** After a stop, gives the handler `graceMs` to return; a handler that ignores its signal is left behind. */
function graceful(run: Promise<unknown>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    run.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}

/**
 * Follows `in` while the turn runs, from the tail at claim time (answers only
 * come after the handler asks): hands `interaction.response` events to their
 * waiters and reports `control.interrupt` events for this turn. One naming no
 * turn (a raw append) is only a hint, checked with a heartbeat.
 */
async function watchIn(
  http: HttpClient,
  claim: Claim,
  done: AbortSignal,
  waiters: InteractionWaiters,
  onInterrupt: (reason: 'interrupt' | 'cancel' | null) => void,
): Promise<void> {
  const { turn, session } = claim;
  const path = session.channels.in.url;
  for await (const batch of followChannel<ChannelEvent>(http, { path, offset: session.channels.in.offset, signal: done })) {
    for (const event of batch.events) {
      if (event.type === 'interaction.response') {
        waiters.deliver(event);
      } else if (event.type === 'control.interrupt') {
        if (event.turnId === turn.id) onInterrupt(event.reason === 'interrupt' ? 'interrupt' : 'cancel');
        else if (event.turnId === undefined) onInterrupt(null);
      }
    }
  }
}
