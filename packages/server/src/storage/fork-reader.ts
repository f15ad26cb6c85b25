/**
 * Reads a range of a stream whose history may be inherited through a chain of
 * forks. Offsets are positions shared by a fork and its source, so a read is a
 * walk over segments: the source's rows below the fork position, then the
 * fork's own rows. Fork structure never changes once created, so segments are
 * cached by stream id.
 */
import type { ReadResult, StoredRow, StreamMeta } from './types.js';
import { isJsonContentType, splitJoinedMessages } from './stream-rules.js';
import { HistoryTrimmedError } from './store-errors.js';

export interface RowSource {
  /**
   * Rows of one stream (not following forks) with `end > from`, in order: at
   * most `limit` rows, and no row once those before it hold `maxBytes`, so a
   * stream of large appends never loads more than one read's worth.
   */
  rowsAfter(streamId: number, from: number, limit: number, maxBytes: number): Promise<StoredRow[]> | StoredRow[];
  /** How many rows of one stream have `from < end <= to`, and their data's total size. */
  rowSpan(streamId: number, from: number, to: number): Promise<RowSpan> | RowSpan;
  /**
   * The data of one stream's rows with `from < end <= to`, in order, joined by
   * commas (JSON streams' rows are whole messages), and how many rows it holds.
   */
  joinedRows(streamId: number, from: number, to: number): Promise<JoinedRows> | JoinedRows;
  getById(id: number): Promise<StreamMeta | null> | StreamMeta | null;
}

export interface RowSpan {
  rows: number;
  bytes: number;
}

export interface JoinedRows {
  rows: number;
  data: Buffer;
}

interface Segment {
  streamId: number;
  start: number;
  /** Exclusive end; Infinity for the stream's own, still growing, segment. */
  end: number;
}

const ROWS_PER_FETCH = 2048;
/** Most JSON messages one bulk fetch asks for. */
const RUN_ROWS = 8192;
/**
 * Fewest messages worth a bulk fetch, which takes two queries: a live
 * reader's read of the last few is quicker row by row.
 */
const MIN_RUN_ROWS = 32;
const COMMA = Buffer.from(',');

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
   *
   * JSON messages are fetched in bulk first (`run`), joined by the store; the
   * rows are fetched one by one for what a run cannot settle — a hole, and
   * the last few messages before the byte budget runs out — and for short
   * ranges, such as a live reader's next message.
   */
  async read(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<ReadResult> {
    const json = isJsonContentType(meta.contentType);
    // Byte segments; for JSON, single messages and runs of them joined by commas.
    const items: Buffer[] = [];
    /** Messages (JSON) or byte segments taken so far. */
    let taken = 0;
    let runs = false;
    let position = from;
    let budget = maxBytes;
    for (const segment of await this.segments(meta)) {
      if (position >= to || budget <= 0) break;
      if (segment.end <= position) continue;
      const hi = Math.min(segment.end, to);
      let cursor = Math.max(position, segment.start);
      let done = false;
      while (json && hi - cursor >= MIN_RUN_ROWS && budget > 0) {
        const run = await this.run(segment.streamId, cursor, hi, budget, taken === 0);
        if (!run) break;
        items.push(run.data);
        runs = true;
        taken += run.rows;
        budget -= run.bytes;
        cursor += run.rows;
        // Cut to fit the budget: whether one more message fits is for the rows to tell.
        if (run.cut) break;
      }
      while (!done && cursor < hi && budget > 0) {
        const rows = await this.source.rowsAfter(segment.streamId, cursor, ROWS_PER_FETCH, Math.max(budget, 1));
        let fetchedBytes = 0;
        for (const row of rows) fetchedBytes += row.data.length;
        if (rows.length === 0) break;
        for (const row of rows) {
          const start = json ? row.end - 1 : row.end - row.data.length;
          if (start > cursor) {
            if (taken === 0) throw new HistoryTrimmedError(cursor);
            done = true;
            break;
          }
          if (start >= hi) {
            done = true;
            break;
          }
          if (json) {
            if (taken > 0 && row.data.length > budget) {
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
          taken++;
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
    if (taken === 0 && position < to) throw new HistoryTrimmedError(position);
    return runs ? joinedResult(items, position) : { items, next: position };
  }

  /**
   * The JSON messages after `cursor` (up to `hi`) that fit in `budget` — the
   * first one whatever its size when `first` — as one run, or null when the
   * rows must be read one by one: some are missing (trimmed), or not even
   * one fits. Asks for the whole range, then for a share of it in proportion
   * to how far its size was over the budget, until a part fits.
   */
  private async run(
    streamId: number,
    cursor: number,
    hi: number,
    budget: number,
    first: boolean,
  ): Promise<{ rows: number; bytes: number; data: Buffer; cut: boolean } | null> {
    const whole = Math.min(RUN_ROWS, hi - cursor);
    let want = whole;
    while (want > 0) {
      const span = await this.source.rowSpan(streamId, cursor, cursor + want);
      if (span.rows < want) return null;
      if (span.bytes <= budget || (want === 1 && first)) {
        const joined = await this.source.joinedRows(streamId, cursor, cursor + want);
        // Trimmed between the two queries: the rows tell what is left.
        if (joined.rows !== want) return null;
        return { rows: want, bytes: span.bytes, data: joined.data, cut: want < whole };
      }
      if (want === 1) return null;
      want = Math.max(1, Math.min(want - 1, Math.floor((want * budget) / span.bytes)));
    }
    return null;
  }
}

/** A read of JSON messages in runs: `joined` for senders, `items` split from it on first use. */
function joinedResult(pieces: Buffer[], next: number): ReadResult {
  const joined = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces.flatMap((piece, i) => (i ? [COMMA, piece] : [piece])));
  let items: Buffer[] | undefined;
  return {
    next,
    joined,
    get items() {
      items ??= splitJoinedMessages(joined);
      return items;
    },
  };
}
