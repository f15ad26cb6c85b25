import type Database from 'better-sqlite3';
import type { StoredRow } from '../types.js';

/** Rows the log may hold before a commit moves them into `stream_rows`. */
export const LOG_FOLD_ROWS = 4096;
/** Bytes of row data the log may hold before a commit moves them. */
export const LOG_FOLD_BYTES = 4 * 1024 * 1024;

export interface StreamLogLimits {
  rows: number;
  bytes: number;
}

const COMMA = Buffer.from(',');

/**
 * Where appended rows land first. `stream_rows` is clustered by stream and
 * position, so a batch of appends to 64 streams dirties 64 of its leaf pages,
 * each written whole to the write-ahead log and later checkpointed; for
 * ~100-byte appends that was ~7 KiB of log per append. `stream_log` is a rowid
 * table written in arrival order: a batch fills a few consecutive pages.
 * Before a commit that leaves the log over its limits, the log is moved into
 * `stream_rows` in one statement, sorted by stream, so each stream's tail page
 * is written once for many appends, and emptied.
 *
 * The log is small, so it is also kept here, by stream: reads take a
 * stream's newest rows from memory after its older ones from `stream_rows`
 * (every logged row of a stream is newer than all of its moved ones), and
 * the log needs no index. This copy follows the writer's transaction: rows
 * are added as they are inserted, and a rollback reloads it from the table.
 */
export class StreamLog {
  private readonly recent = new Map<number, StoredRow[]>();
  private rows = 0;
  private bytes = 0;
  private readonly sql;

  constructor(
    db: Database.Database,
    private readonly limits: StreamLogLimits = { rows: LOG_FOLD_ROWS, bytes: LOG_FOLD_BYTES },
  ) {
    this.sql = {
      insert: db.prepare('INSERT INTO stream_log (stream_id, end_pos, data) VALUES (?, ?, ?)'),
      all: db.prepare('SELECT stream_id, end_pos, data FROM stream_log ORDER BY seq').raw(true),
      deleteStream: db.prepare('DELETE FROM stream_log WHERE stream_id = ?'),
      move: db.prepare(`INSERT INTO stream_rows (stream_id, end_pos, data)
        SELECT stream_id, end_pos, data FROM stream_log ORDER BY stream_id, end_pos`),
      clear: db.prepare('DELETE FROM stream_log'),
    };
    this.reload();
  }

  insert(streamId: number, end: number, data: Buffer): void {
    this.sql.insert.run(streamId, end, data);
    this.keep(streamId, { end, data });
  }

  /** Whether the log holds rows of this stream. */
  holds(streamId: number): boolean {
    return this.recent.has(streamId);
  }

  /** Deletes the stream's logged rows. */
  drop(streamId: number): void {
    const rows = this.recent.get(streamId);
    if (!rows) return;
    this.sql.deleteStream.run(streamId);
    this.recent.delete(streamId);
    this.rows -= rows.length;
    for (const row of rows) this.bytes -= row.data.length;
  }

  /** Moves every logged row into `stream_rows`, in the writer's transaction. */
  fold(): void {
    if (this.rows === 0) return;
    this.sql.move.run();
    this.sql.clear.run();
    this.recent.clear();
    this.rows = 0;
    this.bytes = 0;
  }

  /** Folds when the log is over its limits; run before each commit. */
  foldIfFull(): void {
    if (this.rows >= this.limits.rows || this.bytes >= this.limits.bytes) this.fold();
  }

  /** Rebuilds the copy from the table, as the transaction (or a rollback) left it. */
  reload(): void {
    this.recent.clear();
    this.rows = 0;
    this.bytes = 0;
    for (const [streamId, end, data] of this.sql.all.iterate() as IterableIterator<[number, number, Buffer]>) {
      this.keep(streamId, { end, data });
    }
  }

  /**
   * Logged rows of a stream with `end > from`, appended to `into` after the
   * rows already there, within the same `limit` and `maxBytes` as
   * `RowSource.rowsAfter` (counting what `into` holds as `bytes`).
   */
  rowsAfter(streamId: number, from: number, limit: number, maxBytes: number, into: StoredRow[], bytes: number): void {
    const rows = this.recent.get(streamId);
    if (!rows) return;
    for (let i = firstAfter(rows, from); i < rows.length && into.length < limit && bytes < maxBytes; i++) {
      into.push(rows[i]!);
      bytes += rows[i]!.data.length;
    }
  }

  /** Logged rows of a stream with `from < end <= to`. */
  span(streamId: number, from: number, to: number): StoredRow[] {
    const rows = this.recent.get(streamId);
    if (!rows) return [];
    const first = firstAfter(rows, from);
    let last = first;
    while (last < rows.length && rows[last]!.end <= to) last++;
    return rows.slice(first, last);
  }

  /** `joined` (rows from `stream_rows`, comma-joined) followed by the logged rows in `from < end <= to`. */
  joined(streamId: number, from: number, to: number, joined: { rows: number; data: Buffer }): { rows: number; data: Buffer } {
    const rows = this.span(streamId, from, to);
    if (rows.length === 0) return joined;
    const parts: Buffer[] = joined.rows > 0 ? [joined.data] : [];
    for (const row of rows) {
      if (parts.length > 0) parts.push(COMMA);
      parts.push(row.data);
    }
    return { rows: joined.rows + rows.length, data: Buffer.concat(parts) };
  }

  private keep(streamId: number, row: StoredRow): void {
    const rows = this.recent.get(streamId);
    if (rows) rows.push(row);
    else this.recent.set(streamId, [row]);
    this.rows += 1;
    this.bytes += row.data.length;
  }
}

/** Index of the first row with `end > from` (rows are in position order). */
function firstAfter(rows: StoredRow[], from: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.end > from) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
