/** Server configuration, with the defaults `tether serve` uses. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** PostgreSQL connection URL; when set, the PostgreSQL store is used. */
  postgresUrl: string | null;
  /** Most pooled PostgreSQL connections per replica (LISTEN/NOTIFY use two more). */
  pgPoolSize: number;
  /** PostgreSQL `statement_timeout`, lock waits included; 0 disables it. */
  pgStatementTimeoutMs: number;
  durability: 'fsync' | 'relaxed';
  longPollTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxMessageBytes: number;
  maxReadBytes: number;
  maxPathLength: number;
  /** Largest session state document (JSON text, bytes). */
  maxStateBytes: number;
  /** Largest single session file (bytes). */
  maxFileBytes: number;
  /** Most bytes all files of one session may hold together. */
  maxSessionFileBytes: number;
  sseKeepAliveMs: number;
  sseMaxDurationMs: number;
  /** How often expired streams are swept, and how many per sweep. */
  sweepIntervalMs: number;
  sweepBatchSize: number;
  /** How long the session change log is kept for watchers resuming with Last-Event-ID. */
  sessionChangeRetentionMs: number;
  /** How long shutdown waits for in-flight requests before closing sockets. */
  shutdownGraceMs: number;
  /** How often lapsed leases and timed-out interactions are swept. */
  turnSweepIntervalMs: number;
  /** Times a turn whose lease lapsed is queued again before it is interrupted. */
  turnRetries: number;
  /** Longest a runner's claim may wait for work. */
  maxClaimWaitMs: number;
  /** Waiting claimers re-check the queue this often even without a wake-up. */
  claimPollMs: number;
  /**
   * Closed (and expired) sessions are deleted, with their channels and
   * transcripts, this long after they closed; null keeps them for ever.
   * Swept every `sweepIntervalMs`, `sweepBatchSize` sessions at a time.
   */
  retainClosedSessionsMs: number | null;
}

export const defaultConfig: ServerConfig = {
  host: '127.0.0.1',
  port: 4437,
  dataDir: './.tether',
  postgresUrl: null,
  pgPoolSize: 10,
  pgStatementTimeoutMs: 30_000,
  durability: 'fsync',
  longPollTimeoutMs: 20_000,
  logLevel: 'info',
  maxMessageBytes: 1024 * 1024,
  maxReadBytes: 1024 * 1024,
  maxPathLength: 1024,
  maxStateBytes: 1024 * 1024,
  maxFileBytes: 10 * 1024 * 1024,
  maxSessionFileBytes: 100 * 1024 * 1024,
  sseKeepAliveMs: 15_000,
  sseMaxDurationMs: 60_000,
  sweepIntervalMs: 10_000,
  sweepBatchSize: 500,
  sessionChangeRetentionMs: 24 * 60 * 60 * 1000,
  shutdownGraceMs: 10_000,
  turnSweepIntervalMs: 1_000,
  turnRetries: 0,
  maxClaimWaitMs: 60_000,
  claimPollMs: 1_000,
  retainClosedSessionsMs: null,
};

export function resolveConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...defaultConfig, ...overrides };
}
