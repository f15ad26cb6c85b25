import { TetherError } from './errors.js';
import { Backoff, HttpClient, sleep, type FetchLike } from './http.js';
import { newId } from './ids.js';
import { runTurn, type AgentHandler, type RunnerEvent } from './turn.js';
import type { Claim } from './types.js';

export interface RunAgentOptions {
  /** Base URL of the Tether server. */
  url: string;
  apiKey?: string;
  /** Claim only turns of sessions whose `agent` is one of these (all when omitted). */
  agents?: string[];
  handler: AgentHandler;
  /** Names this process in the server's records (default: a random id). */
  runnerId?: string;
  /** Lease asked for on each claim and heartbeat (default 30 s); heartbeats go every third of it. */
  leaseMs?: number;
  /** How long one claim long-polls before asking again (default 25 s, at most 60 s). */
  waitMs?: number;
  /** Turns worked on at once (default 1): one claim loop each. */
  concurrency?: number;
  /** After a stop, how long a handler may take to return before its turn is completed without it (default 5 s). */
  abortGraceMs?: number;
  /** Stops claiming; a running turn is stopped and completed as `interrupted`. */
  signal?: AbortSignal;
  fetch?: FetchLike;
  onEvent?: (event: RunnerEvent) => void;
}

/**
 * Runs an agent until `signal` fires: claims turns (long-poll), and for each
 * keeps the lease, watches `in`, calls `handler`, and completes the turn with
 * what the handler did. Network failures and server restarts are waited out
 * with backoff. Rejects only on errors that retrying cannot fix (a wrong URL,
 * a refused API key).
 */
export async function runAgent(options: RunAgentOptions): Promise<void> {
  const http = new HttpClient(options);
  // Fired by the caller's signal, or by one loop failing for good (e.g. 401) to stop the others.
  const stopAll = new AbortController();
  const outer = options.signal;
  if (outer?.aborted) stopAll.abort(outer.reason);
  outer?.addEventListener('abort', () => stopAll.abort(outer.reason), { once: true });
  const shutdown = stopAll.signal;
  const onEvent = options.onEvent ?? (() => {});
  const config = {
    runnerId: options.runnerId ?? newId('runner'),
    leaseMs: options.leaseMs ?? 30_000,
    waitMs: options.waitMs ?? 25_000,
    abortGraceMs: options.abortGraceMs ?? 5_000,
  };
  const loops = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () =>
    claimLoop(http, options, config, shutdown, onEvent),
  );
  const results = await Promise.allSettled(
    loops.map((loop) =>
      loop.catch((error) => {
        stopAll.abort(error);
        throw error;
      }),
    ),
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

async function claimLoop(
  http: HttpClient,
  options: RunAgentOptions,
  config: { runnerId: string; leaseMs: number; waitMs: number; abortGraceMs: number },
  shutdown: AbortSignal,
  onEvent: (event: RunnerEvent) => void,
): Promise<void> {
  const backoff = new Backoff(250, 10_000);
  while (!shutdown.aborted) {
    let claim: Claim | null;
    try {
      const { status, body } = await http.json<Claim>('POST', '/v1/runners/claim', {
        body: {
          runnerId: config.runnerId,
          ...(options.agents ? { agents: options.agents } : {}),
          waitMs: config.waitMs,
          leaseMs: config.leaseMs,
        },
        signal: shutdown,
        accept: [204],
        // The server answers by waitMs (at most 60 s); longer means the connection is gone.
        timeoutMs: Math.min(config.waitMs, 60_000) + 15_000,
      });
      claim = status === 204 ? null : body;
      backoff.reset();
    } catch (error) {
      if (shutdown.aborted) return;
      const failure = error instanceof TetherError ? error : new TetherError('NETWORK_ERROR', String(error));
      if (!failure.retriable) throw failure;
      onEvent({ type: 'retry', operation: 'claim', error: failure });
      await sleep(backoff.next(), shutdown).catch(() => {});
      continue;
    }
    if (!claim) continue;
    onEvent({ type: 'claimed', claim });
    await runTurn({
      http,
      claim,
      handler: options.handler,
      leaseMs: config.leaseMs,
      abortGraceMs: config.abortGraceMs,
      shutdown,
      onEvent,
    });
  }
}
