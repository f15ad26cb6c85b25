/**
 * The storage contract. Both drivers (embedded SQLite, PostgreSQL) implement
 * `Store` with identical semantics; the shared storage suite in
 * `test/storage/store-suite.ts` is the proof. Every method is asynchronous so a
 * networked driver fits behind it unchanged.
 */
import type { AuthStore } from './auth-types.js';
import type { SessionDataStore } from './session-data-types.js';
import type { SessionStore } from './session-types.js';
import type { TranscriptStore } from './transcript-types.js';
import type { TurnStore } from './turn-types.js';

/** A producer's `(id, epoch, seq)` tuple from the idempotent-producer headers. */
export interface ProducerTuple {
  id: string;
  epoch: number;
  seq: number;
}

export interface StreamMeta {
  id: number;
  path: string;
  contentType: string;
  /** Sliding time-to-live in seconds, refreshed by reads and writes. */
  ttlSeconds: number | null;
  /** Absolute expiry (ms since epoch) from `Stream-Expires-At`. */
  expiresAt: number | null;
  /** Last read or write (ms since epoch); a TTL stream expires `ttlSeconds` after it. */
  lastAccessAt: number;
  createdAt: number;
  closed: boolean;
  /** Tail position: bytes for byte streams, messages for JSON streams. */
  tail: number;
  /** The stream this one was forked from and the position it diverges at. */
  fork: { sourceId: number; sourcePath: string; position: number } | null;
  softDeleted: boolean;
  streamSeq: string | null;
  closedBy: ProducerTuple | null;
  /**
   * Trim point: the stream's own rows before this position were deleted by the
   * history retention sweeper, and reads through this stream start no earlier.
   * 0 when nothing was trimmed.
   */
  trimmedTo: number;
}

export type AppendBody =
  | { kind: 'empty' }
  | { kind: 'bytes'; data: Buffer }
  /** JSON messages after one level of array flattening, each serialised. */
  | { kind: 'json'; messages: Buffer[] }
  /** `malformed`: not JSON at all (as opposed to an empty array on append). */
  | { kind: 'invalid'; message: string; malformed: boolean };

export interface CreateStreamRequest {
  path: string;
  /** Normalised request content type; null when the request had none. */
  contentType: string | null;
  ttlSeconds: number | null;
  expiresAt: number | null;
  closed: boolean;
  /** Raw initial body; parsed once the stream's content type is known. */
  body: Buffer;
  fork: { sourcePath: string; offset: number | null; subOffset: number } | null;
  now: number;
}

export type CreateOutcome =
  | { kind: 'created'; meta: StreamMeta }
  | { kind: 'exists'; meta: StreamMeta }
  | { kind: 'conflict'; message: string }
  | { kind: 'source-not-found' }
  | { kind: 'bad-request'; message: string; invalidJson?: boolean };

export interface AppendRequest {
  path: string;
  /** The caller's project; session channels look their session up in it. Stores ignore it. */
  projectId?: string;
  /** Request content type, normalised; null when the request had none. */
  contentType: string | null;
  body: AppendBody;
  close: boolean;
  streamSeq: string | null;
  producer: ProducerTuple | null;
  now: number;
}

export type AppendOutcome =
  | { kind: 'appended'; meta: StreamMeta; producer: ProducerTuple | null }
  | { kind: 'duplicate'; meta: StreamMeta; producer: ProducerTuple }
  /** Close-only request (no body) that closed the stream or found it closed. */
  | { kind: 'closed'; meta: StreamMeta; producer: ProducerTuple | null }
  | { kind: 'not-found' }
  | { kind: 'gone' }
  | { kind: 'stream-closed'; meta: StreamMeta }
  | { kind: 'content-type-mismatch' }
  | { kind: 'seq-conflict'; lastSeq: string }
  | { kind: 'producer-fenced'; currentEpoch: number }
  | { kind: 'producer-gap'; expected: number; received: number }
  | { kind: 'bad-request'; message: string; invalidJson?: boolean };

export type DeleteOutcome =
  | { kind: 'deleted'; streamId: number }
  | { kind: 'soft-deleted'; streamId: number }
  | { kind: 'not-found' }
  | { kind: 'gone' };

export type Lookup = { kind: 'found'; meta: StreamMeta } | { kind: 'not-found' } | { kind: 'gone' };

/** One stored unit: a byte-stream append, or a single JSON message. */
export interface StoredRow {
  /** Position just past this row. */
  end: number;
  data: Buffer;
}

export interface ReadResult {
  /** Byte segments (byte streams) or whole serialised messages (JSON streams). */
  items: Buffer[];
  /** Position just past the last item returned. */
  next: number;
  /**
   * JSON streams, when the store read the messages in bulk: the same messages
   * joined by commas, as they go inside a JSON array. `items` is then built
   * from it only if asked for, so a reader that sends the array never splits it.
   */
  joined?: Buffer;
}

export interface Store {
  readonly driver: 'sqlite' | 'postgres';
  /** Sessions, on the same database and in the same transactions as their channel streams. */
  readonly sessions: SessionStore;
  /** Session state and files, on the same database as the sessions they belong to. */
  readonly sessionData: SessionDataStore;
  /** Turns, runners' leases and interactions (DESIGN §4), in the sessions' transactions. */
  readonly turns: TurnStore;
  /** Projects, API keys and the signing secrets every replica shares (DESIGN §7). */
  readonly auth: AuthStore;
  /** Transcripts, usage and search (DESIGN §6), projected in the appends' transactions. */
  readonly transcripts: TranscriptStore;
  createStream(request: CreateStreamRequest): Promise<CreateOutcome>;
  append(request: AppendRequest): Promise<AppendOutcome>;
  deleteStream(path: string, now: number): Promise<DeleteOutcome>;
  /** Current metadata; expired streams are reported as not found. */
  lookup(path: string, now: number): Promise<Lookup>;
  getById(id: number): Promise<StreamMeta | null>;
  /**
   * Reads a stream from `from` (inclusive) up to `to` (exclusive), following
   * the fork chain, returning at most about `maxBytes` (always at least one item
   * when any is available).
   */
  read(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<ReadResult>;
  /** Refreshes the sliding TTL of a stream; cheap and not awaited by readers. */
  touch(streamId: number, now: number): Promise<void>;
  /** Removes up to `limit` expired streams; returns how many it removed. */
  sweepExpired(now: number, limit: number): Promise<number>;
  /**
   * The lowest position a read of this stream may start at: its own trim
   * point, raised by trimmed sources it inherits history from.
   */
  retainedFrom(meta: StreamMeta): Promise<number>;
  /**
   * Records time marks `(stream, tail, at)` for up to `limit` session `out`
   * channels with ids above `afterStreamId`, skipping a channel whose tail has
   * not moved or that got a mark within `spacingMs`. `clock` is read after the
   * tails are, so a mark's time is never earlier than the events it covers.
   * Returns the last channel id scanned, or null once the walk reached the end.
   */
  markOutTails(clock: () => number, afterStreamId: number, limit: number, spacingMs: number): Promise<number | null>;
  /**
   * Trims up to `limit` streams: deletes rows at or before the newest mark
   * taken at or before `cutoff`, at most `rowsPerStream` rows per stream, and
   * raises the stream's trim point. Returns how many rows it deleted.
   */
  trimHistory(cutoff: number, limit: number, rowsPerStream: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
