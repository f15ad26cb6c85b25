/**
 * A token bucket per credential: `perSecond` sustained, `burst` at once.
 * In memory, so each replica limits on its own; 0 turns limiting off.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token; 0 when granted, else milliseconds until one is free. */
  take(subject: string): number {
    if (this.perSecond <= 0) return 0;
    const now = this.now();
    let bucket = this.buckets.get(subject);
    if (!bucket) {
      if (this.buckets.size >= 100_000) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(subject, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, ((1 - bucket.tokens) * 1000) / this.perSecond);
  }

  /** Forgets buckets that have refilled: they hold nothing a new bucket would not. */
  private prune(now: number): void {
    for (const [subject, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(subject);
    }
  }
}
