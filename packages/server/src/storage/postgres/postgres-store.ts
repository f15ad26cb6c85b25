/**
 * The PostgreSQL driver: the same semantics as the SQLite store, for any
 * number of replicas sharing one database. Writes to a stream are serialised
 * by its row lock (`SELECT ... FOR UPDATE`), creates of one path by an
 * advisory lock on the path, so replicas never interleave a decision and its
 * write. Appends are group-committed (see `group-commit.ts`).
 */
import type { StreamChange } from '../../services/live-hub.js';
import { ForkReader, type RowSpan } from '../fork-reader.js';
import {
  DEFAULT_CONTENT_TYPE,
  bodyLength,
  bodyRows,
  decideExisting,
  expiryDeadline,
  isExpired,
  parseBody,
  planFork,
  rejectBody,
} from '../stream-rules.js';
import type { SessionDataStore } from '../session-data-types.js';
import type { SessionStore } from '../session-types.js';
import type {
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateStreamRequest,
  DeleteOutcome,
  Lookup,
  ReadResult,
  StoredRow,
  Store,
  StreamMeta,
} from '../types.js';
import { runAppendBatch } from './append-batch.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  ResilientPool,
  begin,
  openPool,
  storeError,
  transaction,
  type Db,
  type PostgresConnectionOptions,
  type Tx,
} from './connection.js';
import { GroupCommit } from './group-commit.js';
import { PostgresSessionData } from './postgres-session-data.js';
import { PostgresSessions, type PgStreamTx } from './postgres-sessions.js';
import { PostgresTurns } from './postgres-turns.js';
import { PostgresAuth } from './postgres-auth.js';
import type { AuthStore } from '../auth-types.js';
import { PostgresTranscripts, deleteTranscriptInTx } from './postgres-transcripts.js';
import { decideClose } from '../turn-rules.js';
import type { TurnStore } from '../turn-types.js';
import { applyPostgresMigrations } from './migrations.js';
import { arrayLiteral } from './sql-arrays.js';
import {
  forkCount,
  markSoftDeleted,
  pathKey,
  pathLockKey,
  removeStream,
  selectById,
  selectByPath,
  toMeta,
  type StreamRow,
} from './stream-rows.js';

export type PostgresStoreOptions = PostgresConnectionOptions;

const MAX_APPENDS_PER_BATCH = 512;
const PING_DEADLINE_MS = 2_000;

export class PostgresStore implements Store, PgStreamTx {
  readonly driver = 'postgres' as const;
  /** The session half of the store, on the same database and pool. */
  readonly sessions: SessionStore;
  /** Turns and interactions, locked per session row. */
  readonly turns: TurnStore;
  readonly sessionData: SessionDataStore;
  readonly auth: AuthStore;
  readonly transcripts: PostgresTranscripts;
  private readonly reader: ForkReader;
  private readonly appends: GroupCommit<AppendRequest, AppendOutcome>;
  private readonly forget = (id: number) => this.reader.forget(id);
  private readonly connectTimeoutMs: number;
  /** Longer than any statement the server lets run, plus time to connect. */
  private readonly queryDeadlineMs: number;

  private constructor(
    private readonly pool: ResilientPool,
    options: PostgresStoreOptions,
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.queryDeadlineMs = (options.statementTimeoutMs || 60_000) + this.connectTimeoutMs;
    const turns = new PostgresTurns(pool.live, (id) => this.reader.forget(id));
    this.turns = turns;
    this.sessions = new PostgresSessions(pool.live, this, {
      beforeClose: (tx, projectId, id, now) => turns.closeInTx(tx, projectId, id, now, decideClose),
      beforeDelete: async (tx, id) => {
        await turns.deleteInTx(tx, id);
        await deleteTranscriptInTx(tx, id);
      },
    });
    this.transcripts = new PostgresTranscripts(pool.live);
    this.sessionData = new PostgresSessionData(pool.live);
    this.auth = new PostgresAuth(pool.live);
    this.reader = new ForkReader({
      rowsAfter: (id, from, limit, maxBytes) =>
        this.guard(
          (db) => db<StoredRow[]>`SELECT "end", data FROM (
              SELECT end_pos AS "end", data, sum(octet_length(data)) OVER (ORDER BY end_pos) - octet_length(data) AS before
              FROM stream_rows WHERE stream_id = ${id} AND end_pos > ${from} ORDER BY end_pos LIMIT ${limit}
            ) AS r WHERE before < ${maxBytes} ORDER BY "end"`,
        ),
      rowSpan: async (id, from, to) => {
        const [span] = await this.guard(
          (db) => db<RowSpan[]>`SELECT count(*)::int AS rows, coalesce(sum(octet_length(data)), 0)::float8 AS bytes
            FROM stream_rows WHERE stream_id = ${id} AND end_pos > ${from} AND end_pos <= ${to}`,
        );
        return span!;
      },
      joinedRows: async (id, from, to) => {
        const [joined] = await this.guard(
          (db) => db<{ rows: number; data: Buffer | null }[]>`SELECT count(*)::int AS rows,
            string_agg(data, ','::bytea ORDER BY end_pos) AS data
            FROM stream_rows WHERE stream_id = ${id} AND end_pos > ${from} AND end_pos <= ${to}`,
        );
        return { rows: joined!.rows, data: joined!.data ?? Buffer.alloc(0) };
      },
      getById: (id) => this.getById(id),
    });
    // Half the pool may hold write batches; the rest keeps reads and live
    // readers' refreshes flowing while a batch waits on a lock another
    // replica holds.
    this.appends = new GroupCommit(
      (requests) =>
        begin(this.pool.db, (tx) => runAppendBatch(tx, requests, this.forget)).catch((error: unknown) => {
          this.pool.observe(error);
          throw error;
        }),
      {
        maxParallel: Math.max(1, Math.floor(options.poolSize / 2)),
        maxBatch: MAX_APPENDS_PER_BATCH,
        keyOf: (request) => request.path,
      },
    );
  }

  /** Connects and applies pending migrations; fails if the database is unreachable. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new ResilientPool(() => openPool(options));
    try {
      await applyPostgresMigrations(pool.db);
    } catch (error) {
      await pool.end(0);
      throw error;
    }
    return new PostgresStore(pool, options);
  }

  /** A single statement outside a transaction: on the current pool, with a deadline, errors mapped. */
  private async guard<T>(run: (db: Db) => Promise<T>, deadlineMs = this.queryDeadlineMs): Promise<T> {
    try {
      return await this.pool.query(run, deadlineMs);
    } catch (error) {
      throw storeError(error);
    }
  }

  /** A live stream at `path` (row locked), retiring it first if it has expired. */
  private async liveByPath(tx: Tx, path: string, now: number): Promise<StreamMeta | null> {
    const meta = await selectByPath(tx, path, 'update');
    if (meta && !meta.softDeleted && isExpired(meta, now)) {
      await removeStream(tx, meta, this.forget);
      return null;
    }
    return meta;
  }

  createStream(request: CreateStreamRequest): Promise<CreateOutcome> {
    return transaction(this.pool, (tx) => this.createInTx(tx, request));
  }

  /** Creates a stream inside the caller's transaction (session creates use it). */
  async createInTx(tx: Tx, request: CreateStreamRequest): Promise<CreateOutcome> {
    // The path has no row to lock before it exists; the advisory lock makes
    // concurrent creates of one path (on any replica) decide one at a time.
    await tx`SELECT pg_advisory_xact_lock(${pathLockKey(request.path)}::bigint)`;
    const existing = await this.liveByPath(tx, request.path, request.now);
    if (existing) return decideExisting(existing, request);
    let fork = null;
    if (request.fork) {
      // Locking the source keeps a concurrent delete from removing it under the new fork.
      const source = await this.liveByPath(tx, request.fork.sourcePath, request.now);
      const planned = planFork(source, request);
      if (planned.kind !== 'plan') return planned;
      fork = planned.plan;
    }
    const contentType = fork?.contentType ?? request.contentType ?? DEFAULT_CONTENT_TYPE;
    const body = parseBody(contentType, request.body, 'create');
    if (body.kind === 'invalid') return rejectBody(body);
    const start = fork?.position ?? 0;
    const ttlSeconds = fork ? fork.ttlSeconds : request.ttlSeconds;
    const expiresAt = fork ? fork.expiresAt : request.expiresAt;
    const deadline = expiryDeadline({ ttlSeconds, expiresAt, lastAccessAt: request.now });
    const [row] = await tx<StreamRow[]>`INSERT INTO streams (path, path_hash, content_type, ttl_seconds, expires_at,
        last_access_at, expiry_deadline, created_at, closed, tail, fork_source_id, fork_source_path, fork_position)
      VALUES (${request.path}, ${pathKey(request.path)}, ${contentType}, ${ttlSeconds}, ${expiresAt},
        ${request.now}, ${deadline}, ${request.now}, ${request.closed}, ${start + bodyLength(body)},
        ${fork?.sourceId ?? null}, ${fork?.sourcePath ?? null}, ${fork?.position ?? null})
      RETURNING *`;
    const meta = toMeta(row!);
    const rows = bodyRows(body, start);
    if (rows.length) {
      await tx`INSERT INTO stream_rows (stream_id, end_pos, data)
        SELECT ${meta.id}::bigint, * FROM unnest(${arrayLiteral(rows.map((r) => r.end))}::bigint[],
          ${arrayLiteral(rows.map((r) => r.data))}::bytea[])`;
    }
    return { kind: 'created', meta };
  }

  async closeInTx(tx: Tx, streamId: number, now: number): Promise<void> {
    await tx`UPDATE streams SET closed = true, last_access_at = ${now} WHERE id = ${streamId}`;
  }

  async removeByIdInTx(tx: Tx, streamId: number): Promise<void> {
    const meta = await selectById(tx, streamId, 'update');
    if (meta) await removeStream(tx, meta, this.forget);
  }

  append(request: AppendRequest): Promise<AppendOutcome> {
    return this.appends.submit(request);
  }

  deleteStream(path: string, now: number): Promise<DeleteOutcome> {
    return transaction(this.pool, async (tx): Promise<DeleteOutcome> => {
      const meta = await this.liveByPath(tx, path, now);
      if (!meta) return { kind: 'not-found' };
      if (meta.softDeleted) return { kind: 'gone' };
      if ((await forkCount(tx, meta.id)) > 0) {
        await markSoftDeleted(tx, meta.id);
        return { kind: 'soft-deleted', streamId: meta.id };
      }
      await removeStream(tx, meta, this.forget);
      return { kind: 'deleted', streamId: meta.id };
    });
  }

  async lookup(path: string, now: number): Promise<Lookup> {
    const meta = await this.guard((db) => selectByPath(db, path, 'none'));
    if (!meta || isExpired(meta, now)) return { kind: 'not-found' };
    if (meta.softDeleted) return { kind: 'gone' };
    return { kind: 'found', meta };
  }

  getById(id: number): Promise<StreamMeta | null> {
    return this.guard((db) => selectById(db, id, 'none'));
  }

  read(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<ReadResult> {
    return this.reader.read(meta, from, to, maxBytes);
  }

  async touch(streamId: number, now: number): Promise<void> {
    const meta = await this.getById(streamId);
    if (!meta || meta.ttlSeconds === null) return;
    const deadline = expiryDeadline({ ...meta, lastAccessAt: now });
    // The guard on last_access_at keeps a late touch from moving the clock back
    // past a newer append's refresh.
    await this.guard(
      (db) => db`UPDATE streams SET last_access_at = ${now}, expiry_deadline = ${deadline}
        WHERE id = ${streamId} AND ttl_seconds IS NOT NULL AND last_access_at < ${now}`,
    );
  }

  sweepExpired(now: number, limit: number): Promise<number> {
    return transaction(this.pool, async (tx) => {
      // SKIP LOCKED: replicas sweeping at once share the work instead of queueing.
      const rows = await tx<StreamRow[]>`SELECT * FROM streams WHERE expiry_deadline <= ${now}
        ORDER BY expiry_deadline LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      for (const row of rows) await removeStream(tx, toMeta(row), this.forget);
      return rows.length;
    });
  }

  async retainedFrom(meta: StreamMeta): Promise<number> {
    return this.reader.retainedFrom(meta);
  }

  markOutTails(clock: () => number, afterStreamId: number, limit: number, spacingMs: number): Promise<number | null> {
    return this.guard(async (db) => {
      const page = await db<{ id: number; tail: number; trim_pos: number }[]>`SELECT st.id, st.tail, st.trim_pos
        FROM sessions s JOIN streams st ON st.id = s.out_stream_id
        WHERE s.out_stream_id > ${afterStreamId} ORDER BY s.out_stream_id LIMIT ${limit}`;
      const last = page.at(-1);
      if (!last) return null;
      // Read after the tails: every event a mark covers had committed by then.
      const at = clock();
      const moved = page.filter((row) => row.tail > row.trim_pos);
      // A mark only where the tail moved past the last one and none is recent;
      // replicas marking at once collide on the key and one of them wins.
      if (moved.length) {
        await db`INSERT INTO stream_marks (stream_id, position, at)
          SELECT v.id, v.tail, ${at}
          FROM unnest(${arrayLiteral(moved.map((r) => r.id))}::bigint[], ${arrayLiteral(moved.map((r) => r.tail))}::bigint[]) AS v (id, tail)
          WHERE NOT EXISTS (SELECT 1 FROM stream_marks m WHERE m.stream_id = v.id
            AND (m.position >= v.tail OR m.at > ${at - spacingMs}))
          ON CONFLICT DO NOTHING`;
      }
      return page.length < limit ? null : last.id;
    });
  }

  async trimHistory(cutoff: number, limit: number, rowsPerStream: number): Promise<number> {
    const ids = await this.guard(
      (db) => db<{ id: number }[]>`SELECT DISTINCT stream_id AS id FROM stream_marks WHERE at <= ${cutoff}
        ORDER BY stream_id LIMIT ${limit}`,
    );
    let deleted = 0;
    for (const { id } of ids) {
      // One transaction per stream, holding its row lock the way appends do
      // (stream row, then its rows), so trimming and appending never deadlock.
      // SKIP LOCKED: a replica already trimming it, or a batch appending to it,
      // is left alone until the next run.
      deleted += await transaction(this.pool, async (tx) => {
        const [stream] = await tx<{ trim_pos: number }[]>`SELECT trim_pos FROM streams WHERE id = ${id}
          FOR UPDATE SKIP LOCKED`;
        if (!stream) {
          const exists = await tx`SELECT 1 FROM streams WHERE id = ${id}`;
          if (!exists.length) await tx`DELETE FROM stream_marks WHERE stream_id = ${id}`;
          return 0;
        }
        const [mark] = await tx<{ p: number | null }[]>`SELECT max(position) AS p FROM stream_marks
          WHERE stream_id = ${id} AND at <= ${cutoff}`;
        if (mark?.p === null || mark?.p === undefined) return 0;
        const [nth] = await tx<{ end_pos: number }[]>`SELECT end_pos FROM stream_rows
          WHERE stream_id = ${id} AND end_pos <= ${mark.p} ORDER BY end_pos OFFSET ${rowsPerStream - 1} LIMIT 1`;
        const upTo = Math.max(stream.trim_pos, nth ? nth.end_pos : mark.p);
        const removed = await tx`DELETE FROM stream_rows WHERE stream_id = ${id} AND end_pos <= ${upTo}`;
        await tx`UPDATE streams SET trim_pos = ${upTo} WHERE id = ${id} AND trim_pos < ${upTo}`;
        await tx`DELETE FROM stream_marks WHERE stream_id = ${id} AND position <= ${upTo}`;
        return removed.count;
      });
    }
    return deleted;
  }

  /** Each stream's current tail, for the notifier's re-check after it reconnects; missing ones are deleted. */
  async streamStates(ids: number[]): Promise<StreamChange[]> {
    const rows = await this.guard(
      (db) => db<{ id: number; tail: number; closed: boolean; soft_deleted: boolean }[]>`
        SELECT id, tail, closed, soft_deleted FROM streams WHERE id = ANY(${arrayLiteral(ids)}::bigint[])`,
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    return ids.map((streamId) => {
      const row = found.get(streamId);
      if (!row || row.soft_deleted) return { streamId, tail: 0, closed: true, deleted: true };
      return { streamId, tail: row.tail, closed: row.closed, deleted: false };
    });
  }

  async ping(): Promise<void> {
    // Readiness probes give up after a second or two; answer within that.
    await this.guard((db) => db`SELECT 1`, Math.min(this.connectTimeoutMs, PING_DEADLINE_MS));
  }

  async close(): Promise<void> {
    await this.appends.close();
    // Writes have drained and the HTTP server has closed; anything still
    // running is a stray read, and a connection lost in an outage can make the
    // driver wait for a query that will never answer.
    await this.pool.end(1);
  }
}
