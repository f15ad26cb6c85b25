import Database from 'better-sqlite3';
import { ForkReader } from '../fork-reader.js';
import {
  DEFAULT_CONTENT_TYPE,
  appliedAppend,
  bodyLength,
  bodyRows,
  decideAppend,
  decideExisting,
  expiryDeadline,
  isExpired,
  parseBody,
  planFork,
  rejectBody,
  type ProducerState,
} from '../stream-rules.js';
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
import type { SessionDataStore } from '../session-data-types.js';
import type { SessionStore } from '../session-types.js';
import { sqliteMigrations } from './migrations.js';
import { SqliteSessionData } from './sqlite-session-data.js';
import { SqliteSessions, type StreamTx } from './sqlite-sessions.js';
import { WalFile, type CommitSync } from './wal-file.js';
import { StreamMetas, fromRow } from './stream-metas.js';
import { StreamLog, type StreamLogLimits } from './stream-log.js';
import { WriteBatcher } from './write-batcher.js';
import type { StreamRow } from '../row-mappers.js';
import { SqliteTurns } from './sqlite-turns.js';
import { SqliteAuth } from './sqlite-auth.js';
import type { AuthStore } from '../auth-types.js';
import { decideClose } from '../turn-rules.js';
import type { TurnStore } from '../turn-types.js';
import { SqliteTranscripts } from './sqlite-transcripts.js';

/**
 * Pages the write-ahead log may hold before a commit checkpoints it into the
 * database (SQLite's default is 1,000). A checkpoint runs on this thread: it
 * syncs the log, copies each page once however often it changed since the
 * last one, and syncs the database. At 4,000 (a log of up to about 16 MiB) a
 * page written again and again (a stream's tail, a page of `stream_log`) is
 * copied a quarter as often. When each append still dirtied its stream's
 * page, 64 writers on 64 streams got about 10% more appends through than
 * with the default; since appends go through `stream_log`, 1,000, 4,000 and
 * 16,000 pages measure the same within this machine's noise.
 */
export const WAL_CHECKPOINT_PAGES = 4000;

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  filename: string;
  /** `fsync`: every commit is fsynced before it is acknowledged. */
  durability: 'fsync' | 'relaxed';
  /** How commits are made durable in fsync mode; by default the database's write-ahead log is synced. */
  commitSync?: CommitSync;
  /** When appended rows move from `stream_log` into `stream_rows`; for tests. */
  streamLog?: StreamLogLimits;
}

export function applySqliteMigrations(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  for (const migration of sqliteMigrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    })();
  }
}

export class SqliteStore implements Store, StreamTx {
  readonly driver = 'sqlite' as const;
  /** The session half of the store, sharing this store's connection and write batches. */
  readonly sessions: SessionStore;
  /** Turns and interactions, written in the same batches as the channel events they cause. */
  readonly turns: TurnStore;
  readonly sessionData: SessionDataStore;
  readonly auth: AuthStore;
  readonly transcripts: SqliteTranscripts;
  private readonly db: Database.Database;
  private readonly writes: WriteBatcher;
  private readonly reader: ForkReader;
  private readonly sql;
  /** Stream metadata as the writer left it, and the row updates appends deferred. */
  private readonly metas: StreamMetas;
  /** Appended rows not yet moved into `stream_rows`. */
  private readonly log: StreamLog;
  /** Set while a plain append runs, whose row update may be deferred. */
  private deferring = false;

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.filename);
    const wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // In WAL mode COMMIT writes the log without waiting for the disk (SQLite
    // still syncs the log before each checkpoint); in fsync mode the write
    // batcher syncs the log itself, off this thread, before it releases a
    // batch's results. A database without a log (`:memory:`) commits with FULL.
    this.db.pragma(`synchronous = ${options.durability === 'fsync' && !wal ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    applySqliteMigrations(this.db);
    const sync =
      options.durability === 'fsync' && wal ? (options.commitSync ?? new WalFile(`${options.filename}-wal`)) : undefined;
    sync?.syncNow();
    const metas = new StreamMetas(this.db);
    this.metas = metas;
    const log = new StreamLog(this.db, options.streamLog);
    this.log = log;
    this.writes = new WriteBatcher(this.db, {
      onRollback: () => {
        metas.forgetAll();
        log.reload();
      },
      sync,
      deferred: { flush: () => metas.writeRows(), discard: () => metas.discard() },
      beforeCommit: () => log.foldIfFull(),
    });
    const db = this.db;
    this.sql = {
      insertStream: db.prepare(`INSERT INTO streams (path, content_type, ttl_seconds, expires_at, last_access_at,
        expiry_deadline, created_at, closed, tail, fork_source_id, fork_source_path, fork_position)
        VALUES (@path, @contentType, @ttlSeconds, @expiresAt, @now, @deadline, @now, @closed, @tail, @forkSourceId,
        @forkSourcePath, @forkPosition)`),
      // Raw: rows as [end, data] arrays. Building an object per row, property by property, cost more than reading it.
      rowsAfter: db.prepare('SELECT end_pos, data FROM stream_rows WHERE stream_id = ? AND end_pos > ? ORDER BY end_pos LIMIT ?').raw(true),
      rowSpan: db.prepare('SELECT count(*), coalesce(sum(length(data)), 0) FROM stream_rows WHERE stream_id = ? AND end_pos > ? AND end_pos <= ?').raw(true),
      // One buffer, not a Buffer per row: making those cost more than reading the rows.
      joinedRows: db.prepare(`SELECT count(*), CAST(coalesce(group_concat(data, ',' ORDER BY end_pos), '') AS BLOB)
        FROM stream_rows WHERE stream_id = ? AND end_pos > ? AND end_pos <= ?`).raw(true),
      producer: db.prepare('SELECT epoch, last_seq AS lastSeq FROM producers WHERE stream_id = ? AND producer_id = ?'),
      upsertProducer: db.prepare(`INSERT INTO producers (stream_id, producer_id, epoch, last_seq, updated_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id, producer_id)
        DO UPDATE SET epoch = excluded.epoch, last_seq = excluded.last_seq, updated_at = excluded.updated_at`),
      forkCount: db.prepare('SELECT count(*) AS n FROM streams WHERE fork_source_id = ?'),
      deleteRows: db.prepare('DELETE FROM stream_rows WHERE stream_id = ?'),
      deleteProducers: db.prepare('DELETE FROM producers WHERE stream_id = ?'),
      deleteStream: db.prepare('DELETE FROM streams WHERE id = ?'),
      softDelete: db.prepare('UPDATE streams SET soft_deleted = 1 WHERE id = ?'),
      closeStream: db.prepare('UPDATE streams SET closed = 1, last_access_at = ? WHERE id = ?'),
      detach: db.prepare('UPDATE streams SET soft_deleted = 1, path = NULL, expiry_deadline = NULL WHERE id = ?'),
      expired: db.prepare('SELECT * FROM streams WHERE expiry_deadline <= ? ORDER BY expiry_deadline LIMIT ?'),
      outTailPage: db.prepare(`SELECT st.id, st.tail, st.trim_pos AS trim FROM sessions s JOIN streams st ON st.id = s.out_stream_id
        WHERE s.out_stream_id > ? ORDER BY s.out_stream_id LIMIT ?`),
      // A mark only where the tail moved past the last one and none is recent.
      insertMark: db.prepare(`INSERT OR IGNORE INTO stream_marks (stream_id, position, at) SELECT @id, @tail, @at
        WHERE NOT EXISTS (SELECT 1 FROM stream_marks WHERE stream_id = @id AND (position >= @tail OR at > @recent))`),
      markedStreams: db.prepare('SELECT DISTINCT stream_id AS id FROM stream_marks WHERE at <= ? ORDER BY stream_id LIMIT ?'),
      newestMark: db.prepare('SELECT max(position) AS p FROM stream_marks WHERE stream_id = ? AND at <= ?'),
      nthRow: db.prepare('SELECT end_pos AS "end" FROM stream_rows WHERE stream_id = ? AND end_pos <= ? ORDER BY end_pos LIMIT 1 OFFSET ?'),
      trimRows: db.prepare('DELETE FROM stream_rows WHERE stream_id = ? AND end_pos <= ?'),
      raiseTrim: db.prepare('UPDATE streams SET trim_pos = ? WHERE id = ? AND trim_pos < ?'),
      deleteMarks: db.prepare('DELETE FROM stream_marks WHERE stream_id = ?'),
      deleteMarksUpTo: db.prepare('DELETE FROM stream_marks WHERE stream_id = ? AND position <= ?'),
      touch: db.prepare(
        'UPDATE streams SET last_access_at = ?, expiry_deadline = ? WHERE id = ? AND ttl_seconds IS NOT NULL',
      ),
    };
    const turns = new SqliteTurns(db, this.writes, this);
    this.turns = turns;
    const transcripts = new SqliteTranscripts(db, this.writes);
    this.transcripts = transcripts;
    this.sessions = new SqliteSessions(db, this.writes, this, {
      beforeClose: (projectId, id, now) => turns.closeInTx(projectId, id, now, decideClose),
      beforeDelete: (id) => {
        turns.deleteInTx(id);
        transcripts.deleteInTx(id);
      },
    });
    this.sessionData = new SqliteSessionData(db, this.writes);
    this.auth = new SqliteAuth(db, this.writes);
    this.reader = new ForkReader({
      // A stream's moved rows first, then its logged ones, which are all newer.
      rowsAfter: (id, from, limit, maxBytes) => {
        const rows: StoredRow[] = [];
        let bytes = 0;
        for (const [end, data] of this.sql.rowsAfter.iterate(id, from, limit) as IterableIterator<[number, Buffer]>) {
          if (bytes >= maxBytes) break;
          rows.push({ end, data });
          bytes += data.length;
        }
        this.log.rowsAfter(id, rows.at(-1)?.end ?? from, limit, maxBytes, rows, bytes);
        return rows;
      },
      rowSpan: (id, from, to) => {
        let [rows, bytes] = this.sql.rowSpan.get(id, from, to) as [number, number];
        for (const row of this.log.span(id, from, to)) {
          rows += 1;
          bytes += row.data.length;
        }
        return { rows, bytes };
      },
      joinedRows: (id, from, to) => {
        const [rows, data] = this.sql.joinedRows.get(id, from, to) as [number, Buffer];
        return this.log.joined(id, from, to, { rows, data });
      },
      getById: (id) => this.metas.byId(id),
    });
  }

  /** Removes a stream and, up the fork chain, sources that only it kept alive. */
  private remove(meta: StreamMeta): void {
    this.metas.forget(meta.id);
    if ((this.sql.forkCount.get(meta.id) as { n: number }).n > 0) {
      this.sql.detach.run(meta.id);
      return;
    }
    this.sql.deleteRows.run(meta.id);
    this.log.drop(meta.id);
    this.sql.deleteProducers.run(meta.id);
    this.sql.deleteStream.run(meta.id);
    this.reader.forget(meta.id);
    if (meta.fork) {
      const source = this.metas.byId(meta.fork.sourceId);
      // Only the last fork takes a soft-deleted source with it; until then the
      // source keeps its path (and answers 410), so it must not be detached.
      if (source?.softDeleted && (this.sql.forkCount.get(source.id) as { n: number }).n === 0) this.remove(source);
    }
  }

  /** A live stream at `path`, retiring it first if it has expired. */
  private liveByPath(path: string, now: number): StreamMeta | null {
    const meta = this.metas.byPath(path);
    if (meta && !meta.softDeleted && isExpired(meta, now)) {
      this.remove(meta);
      return null;
    }
    return meta;
  }

  createStream(request: CreateStreamRequest): Promise<CreateOutcome> {
    return this.writes.submit(() => this.createInTx(request));
  }

  closeInTx(streamId: number, now: number): void {
    this.metas.forget(streamId);
    this.sql.closeStream.run(now, streamId);
  }

  removeByIdInTx(streamId: number): void {
    const meta = this.metas.byId(streamId);
    if (meta) this.remove(meta);
  }

  createInTx(request: CreateStreamRequest): CreateOutcome {
    const existing = this.liveByPath(request.path, request.now);
    if (existing) return decideExisting(existing, request);
    let fork = null;
    if (request.fork) {
      const source = this.liveByPath(request.fork.sourcePath, request.now);
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
    const tail = start + bodyLength(body);
    const { lastInsertRowid } = this.sql.insertStream.run({
      path: request.path,
      contentType,
      ttlSeconds,
      expiresAt,
      now: request.now,
      deadline: expiryDeadline({ ttlSeconds, expiresAt, lastAccessAt: request.now }),
      closed: request.closed ? 1 : 0,
      tail,
      forkSourceId: fork?.sourceId ?? null,
      forkSourcePath: fork?.sourcePath ?? null,
      forkPosition: fork?.position ?? null,
    });
    const id = Number(lastInsertRowid);
    for (const row of bodyRows(body, start)) this.log.insert(id, row.end, row.data);
    return { kind: 'created', meta: this.metas.byId(id)! };
  }

  /**
   * A plain append defers its stream's row update (`StreamMetas`): the
   * batcher writes it before COMMIT or before any other kind of write, so
   * appends to one stream in one batch update its row once. Anything that
   * reads a stream's row in between goes through the metadata cache, which
   * has the new state, or writes the rows out first.
   */
  append(request: AppendRequest): Promise<AppendOutcome> {
    return this.writes.submit(
      () => {
        this.deferring = true;
        try {
          return this.appendInTx(request);
        } finally {
          this.deferring = false;
        }
      },
      { deferrable: true },
    );
  }


  setProducerInTx(streamId: number, producerId: string, epoch: number, lastSeq: number, now: number): void {
    this.sql.upsertProducer.run(streamId, producerId, epoch, lastSeq, now);
  }

  metaByIdInTx(id: number): StreamMeta | null {
    return this.metas.byId(id);
  }

  appendInTx(request: AppendRequest): AppendOutcome {
    const meta = this.liveByPath(request.path, request.now);
    if (!meta) return { kind: 'not-found' };
    if (meta.softDeleted) return { kind: 'gone' };
    const producer = request.producer;
    const state = producer
      ? ((this.sql.producer.get(meta.id, producer.id) as ProducerState | undefined) ?? null)
      : null;
    const decision = decideAppend(meta, state, request);
    if (decision.kind !== 'accept' && decision.kind !== 'close-only') return decision;
    if (decision.kind === 'accept') {
      for (const row of bodyRows(request.body, meta.tail)) this.log.insert(meta.id, row.end, row.data);
      // Session channels' transcript rows commit with the events that made them.
      if (request.body.kind === 'json') this.transcripts.projectInTx(request.path, meta.tail, request.body.messages, request.now);
    }
    const updated = appliedAppend(meta, request);
    this.metas.remember(updated);
    if (producer && decision.producerState) {
      const next = decision.producerState;
      this.sql.upsertProducer.run(meta.id, producer.id, next.epoch, next.lastSeq, request.now);
    }
    // Last: a write that throws leaves no deferred update behind.
    this.metas.defer(updated);
    if (!this.deferring) this.metas.writeRows();
    if (decision.kind === 'close-only') return { kind: 'closed', meta: updated, producer };
    return { kind: 'appended', meta: updated, producer };
  }

  deleteStream(path: string, now: number): Promise<DeleteOutcome> {
    return this.writes.submit((): DeleteOutcome => {
      const meta = this.liveByPath(path, now);
      if (!meta) return { kind: 'not-found' };
      if (meta.softDeleted) return { kind: 'gone' };
      if ((this.sql.forkCount.get(meta.id) as { n: number }).n > 0) {
        this.metas.forget(meta.id);
        this.sql.softDelete.run(meta.id);
        return { kind: 'soft-deleted', streamId: meta.id };
      }
      this.remove(meta);
      return { kind: 'deleted', streamId: meta.id };
    });
  }

  lookup(path: string, now: number): Promise<Lookup> {
    return this.writes.read(() => {
      const meta = this.metas.byPath(path);
      if (!meta || isExpired(meta, now)) return { kind: 'not-found' };
      if (meta.softDeleted) return { kind: 'gone' };
      return { kind: 'found', meta };
    });
  }

  getById(id: number): Promise<StreamMeta | null> {
    return this.writes.read(() => this.metas.byId(id));
  }

  read(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<ReadResult> {
    return this.writes.read(() => this.reader.read(meta, from, to, maxBytes));
  }

  async touch(streamId: number, now: number): Promise<void> {
    const meta = this.metas.byId(streamId);
    if (!meta || meta.ttlSeconds === null) return;
    await this.writes.submit(() => {
      this.metas.forget(streamId);
      this.sql.touch.run(now, expiryDeadline({ ...meta, lastAccessAt: now }), streamId);
    });
  }

  sweepExpired(now: number, limit: number): Promise<number> {
    return this.writes.submit(() => {
      const rows = this.sql.expired.all(now, limit) as StreamRow[];
      for (const row of rows) this.remove(fromRow(row));
      return rows.length;
    });
  }

  retainedFrom(meta: StreamMeta): Promise<number> {
    return this.writes.read(() => this.reader.retainedFrom(meta));
  }

  markOutTails(clock: () => number, afterStreamId: number, limit: number, spacingMs: number): Promise<number | null> {
    return this.writes.submit(() => {
      // In the writer's transaction: no append lands between reading the tails and the clock.
      const page = this.sql.outTailPage.all(afterStreamId, limit) as { id: number; tail: number; trim: number }[];
      const last = page.at(-1);
      if (!last) return null;
      const at = clock();
      for (const row of page) if (row.tail > row.trim) this.sql.insertMark.run({ id: row.id, tail: row.tail, at, recent: at - spacingMs });
      return page.length < limit ? null : last.id;
    });
  }

  async trimHistory(cutoff: number, limit: number, rowsPerStream: number): Promise<number> {
    const ids = (this.sql.markedStreams.all(cutoff, limit) as { id: number }[]).map((r) => r.id);
    let deleted = 0;
    // One stream per write batch: a long backlog never holds the writer for long.
    for (const id of ids) {
      deleted += await this.writes.submit(() => {
        const meta = this.metas.byId(id);
        if (!meta) {
          this.sql.deleteMarks.run(id);
          return 0;
        }
        const mark = this.sql.newestMark.get(id, cutoff) as { p: number | null };
        if (mark.p === null) return 0;
        // Trimming counts and deletes rows in `stream_rows` alone.
        if (this.log.holds(id)) this.log.fold();
        const nth = this.sql.nthRow.get(id, mark.p, rowsPerStream - 1) as { end: number } | undefined;
        const upTo = Math.max(meta.trimmedTo, nth ? nth.end : mark.p);
        const removed = this.sql.trimRows.run(id, upTo).changes;
        this.metas.forget(id);
        this.sql.raiseTrim.run(upTo, id, upTo);
        this.sql.deleteMarksUpTo.run(id, upTo);
        return removed;
      });
    }
    return deleted;
  }

  async ping(): Promise<void> {
    this.writes.check();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.writes.close();
    this.db.close();
  }
}
