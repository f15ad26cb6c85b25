/**
 * Reads a range of a stream whose history may be inherited through a chain of
 * forks. Offsets are positions shared by a fork and its source, so a read is a
 * walk over segments: the source's rows below the fork position, then the
 * fork's own rows. Fork structure never changes once created, so segments are
 * cached by stream id.
 */
import type { ReadResult, StoredRow, StreamMeta } from './types.js';
import { isJsonContentType } from './stream-rules.js';
import { HistoryTrimmedError } from './store-errors.js';

export interface RowSource {
  /** Rows of one stream (not following forks) with `end > from`, in order. */
  /**
   * Rows of one stream (not following forks) with `end > from`, in order: at
   * most `limit` rows, and no row once those before it hold `maxBytes`, so a
   * stream of large appends never loads more than one read's worth.
   */
  rowsAfter(streamId: number, from: number, limit: number, maxBytes: number): Promise<StoredRow[]> | StoredRow[];
  getById(id: number): Promise<StreamMeta | null> | StreamMeta | null;
}

interface Segment {
  streamId: number;
  start: number;
  /** Exclusive end; Infinity for the stream's own, still growing, segment. */
  end: number;
}

const ROWS_PER_FETCH = 2048;

export class ForkReader {
  private readonly segmentCache = new Map<number, Segment[]>();

  constructor(private readonly source: RowSource) {}

  forget(streamId: number): void {
    this.segmentCache.delete(streamId);
  }

  private async segments(meta: StreamMeta): Promise<Segment[]> {
    if (!meta.fork) return [{ streamId: meta.id, start: 0, end: Infinity }];
    const cached = this.segmentCache.get(meta.id);
    if (cached) return cached;
    const result: Segment[] = [];
    let current: StreamMeta | null = meta;
    let cap = Infinity;
    while (current) {
      const start = current.fork ? current.fork.position : 0;
      result.unshift({ streamId: current.id, start, end: cap });
      if (!current.fork) break;
      cap = Math.min(cap, current.fork.position);
      const next: StreamMeta | null = await this.source.getById(current.fork.sourceId);
      if (!next) throw new Error(`fork source ${current.fork.sourceId} of stream ${current.id} is missing`);
      current = next;
    }
    // Segments may be empty when a fork sits at its source's start.
    const segments = result.filter((s) => s.end > s.start);
    this.segmentCache.set(meta.id, segments);
    return segments;
  }

  /**
   * The lowest position a read of `meta` may start at. A stream's own trim
   * point hides everything before it; a trimmed source hides the part of its
   * segment it no longer holds, and with it everything below (a read never
   * skips a hole).
   */
  async retainedFrom(meta: StreamMeta): Promise<number> {
    let from = meta.trimmedTo;
    // Sources only hold positions below the fork point.
    if (!meta.fork || from >= meta.fork.position) return from;
    for (const segment of await this.segments(meta)) {
      if (segment.streamId === meta.id) continue;
      const source = await this.source.getById(segment.streamId);
      const trimmedTo = source ? source.trimmedTo : segment.end;
      if (trimmedTo > segment.start) from = Math.max(from, Math.min(trimmedTo, segment.end));
    }
    return from;
  }

  /**
   * Rows are contiguous, so a row starting past the cursor (or none where the
   * tail says there are some) means the sweeper trimmed them since the caller
   * checked `retainedFrom`. A read that already holds items ends at the hole;
   * one that holds none throws `HistoryTrimmedError`.
   */
  async read(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<ReadResult> {
    const json = isJsonContentType(meta.contentType);
    const items: Buffer[] = [];
    let position = from;
    let budget = maxBytes;
    for (const segment of await this.segments(meta)) {
      if (position >= to || budget <= 0) break;
      if (segment.end <= position) continue;
      const hi = Math.min(segment.end, to);
      let cursor = Math.max(position, segment.start);
      let done = false;
      while (!done && cursor < hi && budget > 0) {
        const rows = await this.source.rowsAfter(segment.streamId, cursor, ROWS_PER_FETCH, Math.max(budget, 1));
        let fetchedBytes = 0;
        for (const row of rows) fetchedBytes += row.data.length;
        if (rows.length === 0) break;
        for (const row of rows) {
          const start = json ? row.end - 1 : row.end - row.data.length;
          if (start > cursor) {
            if (items.length === 0) throw new HistoryTrimmedError(cursor);
            done = true;
            break;
          }
          if (start >= hi) {
            done = true;
            break;
          }
          if (json) {
            if (items.length > 0 && row.data.length > budget) {
              done = true;
              break;
            }
            items.push(row.data);
            budget -= row.data.length;
            cursor = row.end;
          } else {
            const lo = Math.max(start, cursor);
            const end = Math.min(row.end, hi, lo + Math.max(budget, 1));
            items.push(row.data.subarray(lo - start, end - start));
            budget -= end - lo;
            cursor = end;
          }
          if (budget <= 0 || cursor >= hi) {
            done = true;
            break;
          }
        }
        // A fetch short on both counts means the stream has no more rows.
        if (rows.length < ROWS_PER_FETCH && fetchedBytes < budget) break;
      }
      position = cursor;
      if (position < Math.min(segment.end, to)) {
        // Stopped short of the segment's end — the budget ran out (a JSON
        // message that did not fit leaves some budget) or the stream's own
        // data ends here — so stop rather than skip to the next segment.
        break;
      }
    }
    if (items.length === 0 && position < to) throw new HistoryTrimmedError(position);
    return { items, next: position };
  }
}
