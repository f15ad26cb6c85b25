/**
 * Waiting claimers, woken one per announced turn. Waking every waiting runner
 * for every queued turn made each message cost as many claim transactions as
 * there were idle runners; now an announcement wakes the longest-waiting
 * claimer on this replica, and one that finds no sleeper is kept for the next
 * claimer about to sleep, so a turn admitted during a claim attempt is never
 * slept through.
 */
import type { Notifier } from './live-hub.js';

interface Sleeper {
  keys: number[];
  wake: () => void;
}

const MAX_PENDING = 10_000;

export class ClaimWaiters {
  private readonly sleepers = new Map<number, Sleeper[]>();
  private readonly pending = new Map<number, number>();
  private readonly listening = new Set<number>();

  constructor(private readonly notifier: Notifier) {}

  private listen(key: number): void {
    // One listener per key for the life of the process; the notifier's close drops it.
    if (this.listening.has(key)) return;
    this.listening.add(key);
    this.notifier.subscribe(key, () => this.announce(key));
  }

  private announce(key: number): void {
    const queue = this.sleepers.get(key);
    const sleeper = queue?.shift();
    if (sleeper) {
      this.remove(sleeper);
      sleeper.wake();
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
    }
  }

  /** Subscribes to the keys; call before the first claim attempt. */
  prepare(keys: number[]): void {
    for (const key of keys) this.listen(key);
  }

  /** Resolves true when woken for one of the keys, false on timeout or abort. */
  sleep(keys: number[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    for (const key of keys) {
      const count = this.pending.get(key) ?? 0;
      if (count > 0) {
        if (count === 1) this.pending.delete(key);
        else this.pending.set(key, count - 1);
        return Promise.resolve(true);
      }
    }
    return new Promise((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.remove(sleeper);
        resolve(woken);
      };
      const onAbort = () => finish(false);
      const sleeper: Sleeper = { keys, wake: () => finish(true) };
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      for (const key of keys) {
        const queue = this.sleepers.get(key) ?? [];
        queue.push(sleeper);
        this.sleepers.set(key, queue);
      }
    });
  }
}
