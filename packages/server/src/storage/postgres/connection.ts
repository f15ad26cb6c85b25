/**
 * The PostgreSQL connection: pool options, how driver errors map to
 * `StoreUnavailableError`, transactions that retry on deadlock, and the
 * workarounds that keep a replica alive and recovering through outages.
 */
import postgres from 'postgres';
import { StoreUnavailableError } from '../store-errors.js';

// The driver's types are generic over custom type maps; the store only ever
// needs the untyped query surface.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Db = postgres.Sql<any>;
export type Tx = postgres.TransactionSql<any>;
export type Query = postgres.ISql<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface PostgresConnectionOptions {
  url: string;
  /** Most connections the pool opens (the LISTEN connection is extra). */
  poolSize: number;
  /** Server-side limit for one statement, lock waits included; 0 means none. */
  statementTimeoutMs: number;
  /** `relaxed` acknowledges commits before the WAL is flushed. */
  durability: 'fsync' | 'relaxed';
  /** How long opening a connection may take before the request fails. */
  connectTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Oid 20 (int8): positions and times fit a double, so parse to number. */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: unknown) => String(value),
  parse: (value: string) => Number(value),
};

/** `extra` passes driver options the typings lack (such as `onnotify`). */
export function openPool(options: PostgresConnectionOptions, extra: Record<string, unknown> = {}): Db {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return postgres(options.url, {
    max: options.poolSize,
    connect_timeout: Math.max(1, Math.ceil(connectTimeoutMs / 1000)),
    onnotice: () => {},
    // The driver's default backoff grows to 20 s after repeated failures, which
    // would keep requests waiting long after the database is back.
    backoff: (retries: number) => Math.min(0.025 * 2 ** retries, 0.5),
    // Array parameters are sent as literals (see sql-arrays.ts), so no type fetch.
    fetch_types: false,
    types: { int8: int8AsNumber },
    connection: {
      application_name: 'tether',
      statement_timeout: options.statementTimeoutMs,
      // `off` keeps atomicity and ordering but acknowledges before the fsync.
      synchronous_commit: options.durability === 'fsync' ? 'on' : 'off',
    },
    ...extra,
  } as unknown as postgres.Options<never>) as Db;
}

const NO_ANSWER = 'TETHER_NO_ANSWER';
const NOT_STARTED = 'TETHER_NOT_STARTED';
const noAnswer = (ms: number) => Object.assign(new Error(`the database did not answer in ${ms} ms`), { code: NO_ANSWER });

/**
 * The driver can lose a query for good: one sent in the instant between a
 * connection's reset and its close is never answered nor rejected. A deadline
 * turns that into an error, and the pool behind it is replaced.
 */
export function withDeadline<T>(query: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(noAnswer(ms)), ms);
  });
  return Promise.race([query, deadline]).finally(() => clearTimeout(timer));
}

// Socket-level failures and the driver's own codes for a lost connection.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  NO_ANSWER,
]);

/**
 * Server errors that say "the database cannot serve you now" rather than
 * "this request is wrong": connection exceptions (class 08), shutdown and
 * recovery (57P01-57P03), statement timeout and cancellation (57014),
 * resource exhaustion (class 53) and I/O errors (58030).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code) || code === '57014' || code === '58030';
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (error instanceof postgres.PostgresError) return isUnavailableSqlState(code);
  return NETWORK_CODES.has(code) || code === NOT_STARTED;
}

/** Deadlocks and serialisation failures roll the whole transaction back, so it is safe to run again. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError)) return false;
  return error.code === '40P01' || error.code === '40001';
}

/** The error a store method throws: unavailability as `StoreUnavailableError`, anything else unchanged. */
export function storeError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  // The code, not the message: messages name hosts and ports clients need not see.
  const code = (error as { code?: unknown }).code;
  return new StoreUnavailableError(`the database is unavailable (${String(code)})`, { cause: error });
}

/** Awaits a store query, throwing what `storeError` makes of its failure. */
export async function guarded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw storeError(error);
  }
}

/** The connection itself is gone (as opposed to the server refusing a statement). */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

// A transaction that has not started by then (no connection free, or BEGIN
// unanswered) is given up. Not taken as a lost connection: under overload it
// only means the pool is busy, and replacing the pool would add connections.
const START_DEADLINE_MS = 10_000;

/**
 * `db.begin` made safe against a connection dying around a transaction.
 *
 * postgres.js 3.4 answers a failed transaction body by writing ROLLBACK to the
 * transaction's connection even when that connection has closed, which throws
 * from a timer and takes the whole process down (porsager/postgres#1208). So
 * when the body fails because the connection is gone, it never settles: the
 * driver then writes nothing, and `begin` still rejects, because it watches
 * the connection close. Nothing holds the abandoned promise, so it is collected.
 *
 * A BEGIN lost to the driver (see `withDeadline`) would wait forever, and that
 * wait is not yet watched; past a deadline the transaction is abandoned, which
 * is safe because nothing of it has run, and if it starts later it only rolls
 * back.
 */
export function begin<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  let started = false;
  let abandoned = false;
  const body = (tx: Tx) => {
    started = true;
    if (abandoned) return Promise.reject(new Error('transaction abandoned before it started'));
    return work(tx).catch((error: unknown) =>
      isConnectionLost(error) ? new Promise<never>(() => {}) : Promise.reject(error),
    );
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (started) return;
      abandoned = true;
      reject(Object.assign(new Error(`no transaction could start in ${START_DEADLINE_MS} ms`), { code: NOT_STARTED }));
    }, START_DEADLINE_MS);
  });
  return Promise.race([db.begin(body) as Promise<T>, deadline]).finally(() => clearTimeout(timer));
}

// Work still running on a retired pool gets this long to finish.
const RETIRE_GRACE_MS = 30_000;
// A statement on a retired pool still unanswered after this is taken as lost.
const LOST_QUERY_GRACE_MS = 2_000;

type Fail = (error: unknown) => void;

/**
 * A pool that is replaced once it has lost a connection. In postgres.js 3.4 a
 * connection that closes while a write is queued cancels its write timer
 * without resetting it, and then never sends anything again, not even after
 * it reconnects. So after a lost connection the next caller gets a fresh
 * pool, and the old one is ended once the work already on it has had time
 * to finish. Statements run through `query` that the old pool leaves
 * unanswered are failed soon after, instead of at their full deadline.
 */
export class ResilientPool {
  private current: Db;
  private stale = false;
  private readonly retired = new Map<Db, NodeJS.Timeout>();
  private readonly inFlight = new Map<Db, Set<Fail>>();

  constructor(private readonly open: () => Db) {
    this.current = open();
  }

  get db(): Db {
    if (this.stale) {
      this.stale = false;
      const old = this.current;
      this.current = this.open();
      setTimeout(() => {
        for (const fail of this.inFlight.get(old) ?? []) fail(noAnswer(LOST_QUERY_GRACE_MS));
      }, LOST_QUERY_GRACE_MS).unref();
      const timer = setTimeout(() => {
        this.retired.delete(old);
        void old.end({ timeout: 0 });
      }, RETIRE_GRACE_MS);
      timer.unref();
      this.retired.set(old, timer);
    }
    return this.current;
  }

  /**
   * A `Db` that always runs on the current pool, for code that keeps a handle;
   * a handle on one pool would be left with an ended pool after an outage.
   */
  readonly live: Db = new Proxy(() => {}, {
    apply: (_target, _this, args: unknown[]) => (this.db as unknown as (...a: unknown[]) => unknown)(...args),
    get: (_target, property) => {
      const db = this.db as unknown as Record<PropertyKey, unknown>;
      const value = db[property];
      return typeof value === 'function' ? value.bind(db) : value;
    },
  }) as unknown as Db;

  /** Called with every failure; a lost connection retires the pool before its next use. */
  observe(error: unknown): void {
    if (isConnectionLost(error)) this.stale = true;
  }

  /** One statement outside a transaction, failed if unanswered by `deadlineMs`. */
  query<T>(run: (db: Db) => Promise<T>, deadlineMs: number): Promise<T> {
    const db = this.db;
    let set = this.inFlight.get(db);
    if (!set) this.inFlight.set(db, (set = new Set()));
    const pending = set;
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        pending.delete(fail);
        if (pending.size === 0 && this.inFlight.get(db) === pending) this.inFlight.delete(db);
      };
      const fail: Fail = (error) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => fail(noAnswer(deadlineMs)), deadlineMs);
      pending.add(fail);
      run(db).then((value) => {
        settle();
        resolve(value);
      }, fail);
    }).catch((error: unknown) => {
      this.observe(error);
      throw error;
    });
  }

  async end(timeoutSeconds: number): Promise<void> {
    const pools = [this.current, ...this.retired.keys()];
    for (const timer of this.retired.values()) clearTimeout(timer);
    this.retired.clear();
    await Promise.all(pools.map((db) => db.end({ timeout: timeoutSeconds })));
  }
}

const MAX_ATTEMPTS = 5;

/** Runs `work` in a transaction, again if PostgreSQL chose it as a deadlock victim. */
export async function transaction<T>(source: ResilientPool | Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await begin(source instanceof ResilientPool ? source.db : source, work);
    } catch (error) {
      if (source instanceof ResilientPool) source.observe(error);
      if (attempt < MAX_ATTEMPTS && isRetryable(error)) continue;
      throw storeError(error);
    }
  }
}
