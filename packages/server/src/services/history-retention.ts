/**
 * Retention of session `out` history. Stream rows carry no timestamps, so each
 * sweep walks the next `batch` of `out` channels and records time marks — the
 * tail a channel had at that moment — then trims, for up to `batch` channels,
 * the rows at or before the newest mark older than the retention age. Marks
 * are taken at most every sixteenth of the age per channel (and only when its
 * tail moved), so a channel holds about sixteen of them and an event is
 * deleted between `maxAgeMs` and `17/16 · maxAgeMs` after it was appended.
 *
 * Every replica may run it at once: marks collide on their key and one
 * replica's wins; trimming locks one channel at a time and skips a channel
 * another replica (or an append) holds, leaving it to the next run.
 */
import type { Store } from '../storage/types.js';
import type { Clock } from './clock.js';

/** Rows one channel loses per transaction; a long backlog drains over several runs. */
export const TRIM_ROWS_PER_STREAM = 2_000;

export interface HistorySweep {
  /** Rows deleted by this run. */
  trimmed: number;
  /** Whether the mark walk reached the last channel and starts over. */
  wrapped: boolean;
}

export class HistoryRetention {
  /** Where this replica's mark walk resumes; replicas walk independently. */
  private cursor = 0;

  constructor(
    private readonly deps: { store: Store; clock: Clock },
    readonly maxAgeMs: number,
  ) {}

  /** Marks are taken at most this often per channel. */
  get markSpacingMs(): number {
    return Math.max(1, Math.floor(this.maxAgeMs / 16));
  }

  async sweep(batch: number): Promise<HistorySweep> {
    const next = await this.deps.store.markOutTails(() => this.deps.clock.now(), this.cursor, batch, this.markSpacingMs);
    this.cursor = next ?? 0;
    const trimmed = await this.deps.store.trimHistory(this.deps.clock.now() - this.maxAgeMs, batch, TRIM_ROWS_PER_STREAM);
    return { trimmed, wrapped: next === null };
  }
}
