import { TetherError } from './errors.js';
import { Backoff, HttpClient, sleep } from './http.js';
import type { HeartbeatReply, Lease } from './types.js';

export interface LeaseKeeperOptions {
  http: HttpClient;
  /** `/v1/sessions/{id}/turns/{turnId}` */
  turnPath: string;
  lease: Lease;
  leaseMs: number;
  /** The server asked the turn to stop. */
  onStopRequested(kind: 'interrupt' | 'cancel'): void;
  /** The lease is gone: another runner may own the turn now. */
  onLost(error: TetherError): void;
  onRetry?(error: TetherError): void;
}

/**
 * Keeps a turn's lease with a heartbeat every third of the lease, so two
 * heartbeats can fail before it lapses. A failed heartbeat is retried with
 * backoff rather than waiting a whole interval.
 */
export class LeaseKeeper {
  private readonly stopped = new AbortController();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private cancelSeen = false;
  private interruptSeen = false;

  constructor(private readonly options: LeaseKeeperOptions) {}

  get epoch(): number {
    return this.options.lease.epoch;
  }

  /** The server said cancel (not only interrupt) at least once. */
  get cancelRequested(): boolean {
    return this.cancelSeen;
  }

  get interruptRequested(): boolean {
    return this.interruptSeen;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Heartbeats now instead of at the next tick: `in` hinted at an interrupt. */
  pokeNow(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const interval = Math.max(100, Math.floor(this.options.leaseMs / 3));
    const backoff = new Backoff(200, Math.max(200, interval / 2));
    let delay = interval;
    while (!this.stopped.signal.aborted) {
      await this.pause(delay);
      if (this.stopped.signal.aborted) return;
      try {
        await this.beat();
        backoff.reset();
        delay = interval;
      } catch (error) {
        if (this.stopped.signal.aborted) return;
        const failure = error instanceof TetherError ? error : new TetherError('NETWORK_ERROR', String(error));
        if (failure.code === 'LEASE_LOST' || failure.code === 'TURN_NOT_FOUND' || failure.code === 'SESSION_NOT_FOUND') {
          this.options.onLost(failure);
          return;
        }
        this.options.onRetry?.(failure);
        delay = backoff.next();
      }
    }
  }

  private async beat(): Promise<void> {
    const { http, turnPath, leaseMs } = this.options;
    const { body } = await http.json<HeartbeatReply>('POST', `${turnPath}/heartbeat`, {
      body: { epoch: this.epoch, leaseMs },
      signal: this.stopped.signal,
      // A heartbeat stuck longer than an interval is worth less than a fresh one.
      timeoutMs: Math.max(1_000, Math.floor(leaseMs / 3)),
    });
    if (body?.lease) this.options.lease = body.lease;
    if (body?.cancelRequested) {
      this.cancelSeen = true;
      this.options.onStopRequested('cancel');
    } else if (body?.interruptRequested) {
      this.interruptSeen = true;
      this.options.onStopRequested('interrupt');
    }
  }

  private async pause(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([woken, sleep(ms, this.stopped.signal).catch(() => {})]);
    this.wake = null;
  }
}
