/**
 * Waiting claimers, woken one per announced turn. Waking every waiting runner
 * for every queued turn made each message cost as many claim transactions as
 * there were idle runners; now an announcement wakes the longest-waiting
 * claimer on this replica, and one that finds no sleeper is kept for the next
 * claimer about to sleep, so a turn admitted during a claim attempt is never
 * slept through.
 *
 * A turn admitted on this replica while one of its claimers sleeps is handed
 * to that claimer directly: `take` removes the sleeper while the admitting
 * transaction decides, and `deliver` (after the commit) or `release` (if the
 * admission failed) ends its sleep.
 */
import type { Claimed } from '../storage/turn-rules.js';
import type { Notifier } from './live-hub.js';

/** How a sleep ended: a turn handed over, woken to look at the queue (true), or timed out (false). */
export type WakeReason = Claimed | boolean;

export interface SleepOptions {
  keys: number[];
  /** The agents the claimer wants; empty takes any. */
  agents: string[];
  runnerId: string;
  leaseMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface Sleeper {
  readonly runnerId: string;
  readonly leaseMs: number;
  readonly agents: string[];
  readonly keys: number[];
  readonly order: number;
  /** Ends the sleep; the claimer is no longer waiting once this runs. */
  end(reason: WakeReason): void;
  /** Taken for a hand-over: off the queues and past its timeout, but not yet woken. */
  detach(): void;
}

const MAX_PENDING = 10_000;

export class ClaimWaiters {
  private readonly sleepers = new Map<number, Sleeper[]>();
  private readonly pending = new Map<number, number>();
  private readonly listening = new Set<number>();
  private order = 0;

  constructor(private readonly notifier: Notifier) {}

  private listen(key: number): void {
    // One listener per key for the life of the process; the notifier's close drops it.
    if (this.listening.has(key)) return;
    this.listening.add(key);
    this.notifier.subscribe(key, () => this.announce(key));
  }

  private announce(key: number): void {
    const sleeper = this.sleepers.get(key)?.[0];
    if (sleeper) {
      sleeper.end(true);
      return;
    }
    this.pending.set(key, Math.min(MAX_PENDING, (this.pending.get(key) ?? 0) + 1));
  }

  private remove(sleeper: Sleeper): void {
    for (const key of sleeper.keys) {
      const queue = this.sleepers.get(key);
      if (!queue) continue;
      const index = queue.indexOf(sleeper);
      if (index >= 0) queue.splice(index, 1);
      if (queue.length === 0) this.sleepers.delete(key);
    }
  }

  /** Subscribes to the keys; call before the first claim attempt. */
  prepare(keys: number[]): void {
    for (const key of keys) this.listen(key);
  }

  /**
   * The longest-waiting claimer on `keys` that wants `agent`'s turns, taken
   * off the queues; null when none sleeps. The caller must `deliver` or
   * `release` it.
   */
  take(keys: number[], agent: string | null): Sleeper | null {
    let best: Sleeper | null = null;
    for (const key of keys) {
      for (const sleeper of this.sleepers.get(key) ?? []) {
        const wants = sleeper.agents.length === 0 || (agent !== null && sleeper.agents.includes(agent));
        if (wants && (best === null || sleeper.order < best.order)) best = sleeper;
        if (wants) break;
      }
    }
    best?.detach();
    return best;
  }

  /** Resolves with a handed-over turn, true when woken to look at the queue, false on timeout or abort. */
  sleep(options: SleepOptions): Promise<WakeReason> {
    for (const key of options.keys) {
      const count = this.pending.get(key) ?? 0;
      if (count > 0) {
        if (count === 1) this.pending.delete(key);
        else this.pending.set(key, count - 1);
        return Promise.resolve(true);
      }
    }
    return new Promise((resolve) => {
      let done = false;
      const detach = () => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        this.remove(sleeper);
      };
      const sleeper: Sleeper = {
        runnerId: options.runnerId,
        leaseMs: options.leaseMs,
        agents: options.agents,
        keys: options.keys,
        order: this.order++,
        detach,
        end: (reason) => {
          if (done) return;
          done = true;
          detach();
          resolve(reason);
        },
      };
      const onAbort = () => sleeper.end(false);
      const timer = setTimeout(() => sleeper.end(false), options.timeoutMs);
      options.signal.addEventListener('abort', onAbort, { once: true });
      for (const key of options.keys) {
        const queue = this.sleepers.get(key) ?? [];
        queue.push(sleeper);
        this.sleepers.set(key, queue);
      }
    });
  }
}
