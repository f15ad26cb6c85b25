/**
 * Wakes live readers on every replica through PostgreSQL LISTEN/NOTIFY. A
 * notification carries only stream ids, tails and closed/deleted flags —
 * never data; woken readers read the store. Local readers are woken directly,
 * without waiting for the round trip.
 *
 * Notifications sent while a replica's LISTEN connection is down are lost to
 * it, so after every (re)connect it asks the store for the current state of
 * each stream it has readers on and wakes those that moved.
 */
import { LocalNotifier, type ChangeListener, type Notifier, type StreamChange } from '../../services/live-hub.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  ResilientPool,
  openPool,
  withDeadline,
  type Db,
  type PostgresConnectionOptions,
} from './connection.js';

export const NOTIFY_CHANNEL = 'tether_streams';
// NOTIFY payloads must stay under 8000 bytes; leave room for the last entry.
const MAX_PAYLOAD = 7_000;
const MAX_BACKOFF_MS = 2_000;
const HEARTBEAT_MS = 5_000;
const SEND_RETRY_MS = 500;

export interface NotifierLog {
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

export interface PostgresNotifierOptions {
  connection: PostgresConnectionOptions;
  /** Current state of the given streams, read from the store; missing ids are deleted. */
  currentState(streamIds: number[]): Promise<StreamChange[]>;
  log?: NotifierLog;
  heartbeatMs?: number;
}

export function encodeChanges(changes: StreamChange[]): string {
  return changes.map((c) => `${c.streamId}:${c.tail}:${c.closed ? 'c' : ''}${c.deleted ? 'd' : ''}`).join(';');
}

export function decodeChanges(payload: string): StreamChange[] {
  const changes: StreamChange[] = [];
  for (const entry of payload.split(';')) {
    const [id, tail, flags = ''] = entry.split(':');
    const streamId = Number(id);
    const position = Number(tail);
    // Ignore what we did not write rather than wake readers on garbage.
    if (!Number.isSafeInteger(streamId) || !Number.isSafeInteger(position)) continue;
    changes.push({ streamId, tail: position, closed: flags.includes('c'), deleted: flags.includes('d') });
  }
  return changes;
}

function merge(a: StreamChange | undefined, b: StreamChange): StreamChange {
  if (!a) return b;
  return { streamId: b.streamId, tail: Math.max(a.tail, b.tail), closed: a.closed || b.closed, deleted: a.deleted || b.deleted };
}

const quietLog: NotifierLog = { warn: () => {}, info: () => {} };

export class PostgresNotifier implements Notifier {
  /** This replica's readers, woken directly or from other replicas' notifications. */
  private readonly local = new LocalNotifier();
  private readonly log: NotifierLog;
  private readonly notifyPool: ResilientPool;
  private listenDb: Db | null = null;
  private pending = new Map<number, StreamChange>();
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  private closing = false;
  private listening = false;
  private readonly deadlineMs: number;
  private wasLost = false;
  private sendFailing = false;

  private constructor(private readonly options: PostgresNotifierOptions) {
    this.log = options.log ?? quietLog;
    this.deadlineMs = options.connection.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.notifyPool = new ResilientPool(() => openPool({ ...options.connection, poolSize: 1 }));
  }

  /** Starts listening; fails when the database cannot be reached at all. */
  static async start(options: PostgresNotifierOptions): Promise<PostgresNotifier> {
    const notifier = new PostgresNotifier(options);
    try {
      await notifier.listen();
    } catch (error) {
      await notifier.close();
      throw error;
    }
    const every = options.heartbeatMs ?? HEARTBEAT_MS;
    notifier.heartbeat = setInterval(() => notifier.checkConnection(), every);
    notifier.heartbeat.unref();
    return notifier;
  }

  /** Whether notifications from other replicas are currently arriving. */
  get isListening(): boolean {
    return this.listening;
  }

  subscribe(streamId: number, listener: ChangeListener): () => void {
    return this.local.subscribe(streamId, listener);
  }

  publish(change: StreamChange): void {
    this.dispatch(change);
    if (this.closing) return;
    this.pending.set(change.streamId, merge(this.pending.get(change.streamId), change));
    // Changes published in one turn of the event loop share one NOTIFY
    // (setImmediate, not a 0 ms timer, which waits at least a millisecond).
    this.flushTimer ??= setImmediate(() => {
      this.flushTimer = null;
      void this.flush();
    });
  }

  private dispatch(change: StreamChange): void {
    this.local.publish(change);
  }

  private flush(): Promise<void> {
    if (this.flushing || this.pending.size === 0) return this.flushing ?? Promise.resolve();
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.send(batch)
      .then(
        () => {
          if (this.sendFailing) this.log.info('sending stream notifications again');
          this.sendFailing = false;
        },
        (error) => {
          this.notifyPool.observe(error);
          // Keep the newest state per stream and try again; readers elsewhere
          // also re-check the store when their own connection comes back.
          for (const change of batch) this.pending.set(change.streamId, merge(this.pending.get(change.streamId), change));
          if (!this.sendFailing) this.log.warn('could not send stream notifications; retrying', error);
          this.sendFailing = true;
          if (this.closing || this.flushTimer) return;
          this.flushTimer = setTimeout(() => {
            this.flushTimer = null;
            void this.flush();
          }, SEND_RETRY_MS);
        },
      )
      .finally(() => {
        this.flushing = null;
        if (this.pending.size && !this.flushTimer && !this.closing) void this.flush();
      });
    return this.flushing;
  }

  private async send(changes: StreamChange[]): Promise<void> {
    const payloads: string[] = [];
    let current: StreamChange[] = [];
    let size = 0;
    for (const change of changes) {
      const entry = encodeChanges([change]);
      if (size + entry.length + 1 > MAX_PAYLOAD && current.length) {
        payloads.push(encodeChanges(current));
        current = [];
        size = 0;
      }
      current.push(change);
      size += entry.length + 1;
    }
    if (current.length) payloads.push(encodeChanges(current));
    const db = this.notifyPool.db;
    await withDeadline(Promise.all(payloads.map((p) => db`SELECT pg_notify(${NOTIFY_CHANNEL}, ${p})`)), this.deadlineMs);
  }

  private receive(payload: string): void {
    for (const change of decodeChanges(payload)) this.dispatch(change);
  }

  private async listen(): Promise<void> {
    const db = openPool(
      { ...this.options.connection, poolSize: 1 },
      {
        idle_timeout: null,
        max_lifetime: null,
        onnotify: (channel: string, payload: string) => {
          if (channel === NOTIFY_CHANNEL && db === this.listenDb) this.receive(payload);
        },
        onclose: () => this.lost(db, null),
      },
    );
    this.listenDb = db;
    try {
      await withDeadline(db`LISTEN ${db(NOTIFY_CHANNEL)}`, this.deadlineMs);
    } catch (error) {
      this.listenDb = null;
      void db.end({ timeout: 0 });
      throw error;
    }
    this.listening = true;
    this.backoffMs = 100;
    if (this.wasLost) this.log.info('listening for stream notifications again');
    this.wasLost = false;
    await this.recheck();
  }

  /** Wakes every local reader whose stream moved while notifications could not arrive. */
  private async recheck(): Promise<void> {
    const ids = this.local.watchedStreamIds();
    if (ids.length === 0) return;
    try {
      for (const change of await this.options.currentState(ids)) this.dispatch(change);
    } catch (error) {
      this.log.warn('could not re-check streams after reconnecting; retrying', error);
      if (!this.closing) setTimeout(() => void this.recheck(), this.backoffMs).unref();
    }
  }

  private lost(db: Db, error: unknown): void {
    if (db !== this.listenDb) return;
    this.listenDb = null;
    this.listening = false;
    void db.end({ timeout: 0 });
    if (this.closing) return;
    this.wasLost = true;
    this.log.warn('stream notification connection lost; reconnecting', error ?? undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closing) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closing || this.listenDb) return;
      this.listen().catch(() => this.scheduleReconnect());
    }, delay);
  }

  /** Catches a connection that died without closing (a half-open socket). */
  private checkConnection(): void {
    const db = this.listenDb;
    if (!db || !this.listening) return;
    withDeadline(db`SELECT 1`, this.deadlineMs).catch((error) => this.lost(db, error));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer as NodeJS.Timeout);
      clearImmediate(this.flushTimer as NodeJS.Immediate);
    }
    this.flushTimer = null;
    // A last attempt so readers elsewhere hear about this replica's final
    // appends; the second sends what arrived while the first was in flight.
    for (let i = 0; i < 2 && (this.flushing || this.pending.size); i++) await this.flush().catch(() => {});
    if (this.flushTimer) {
      clearTimeout(this.flushTimer as NodeJS.Timeout);
      clearImmediate(this.flushTimer as NodeJS.Immediate);
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const listenDb = this.listenDb;
    this.listenDb = null;
    this.listening = false;
    await this.local.close();
    await Promise.all([listenDb?.end({ timeout: 1 }), this.notifyPool.end(1)]);
  }
}
