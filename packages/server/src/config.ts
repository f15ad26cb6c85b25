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
   * Directory of the built web console served at `/`; undefined means the
   * build of the `@tether/console` package, null serves no console.
   */
  consoleDir?: string | null;
  /** `--insecure-no-auth`: no credentials; every request is an admin of the default project. Loopback binds only. */
  insecureNoAuth: boolean;
  /** Browser origins allowed to read responses (CORS); `*` for any. Empty: none. */
  corsOrigins: string[];
  /** Requests per second each credential may make (token bucket); 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Requests a credential may make at once before the per-second rate applies. */
  rateLimitBurst: number;
  /** Open long-poll, SSE and claim requests per credential. */
  maxLiveReadersPerKey: number;
  /** Largest request head (request line and headers) in bytes; larger gets 431. */
  maxHeaderBytes: number;
  /** Lifetime of the token a session create returns, and the default for minted ones. */
  sessionTokenTtlSeconds: number;
  /** Longest lifetime a minted session token may ask for. */
  maxSessionTokenTtlSeconds: number;
  /**
   * Closed (and expired) sessions are deleted, with their channels and
   * transcripts, this long after they closed; null keeps them for ever.
   * Swept every `sweepIntervalMs`, `sweepBatchSize` sessions at a time.
   */
  retainClosedSessionsMs: number | null;
  /**
   * Events on session `out` channels are deleted this long after they were
   * appended (to within a sixteenth of it); reads of a trimmed offset get 410.
   * Null keeps every event. Swept every `sweepIntervalMs`, `sweepBatchSize`
   * channels at a time.
   */
  retainOutHistoryMs: number | null;
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
  insecureNoAuth: false,
  corsOrigins: [],
  rateLimitPerSecond: 1_000,
  rateLimitBurst: 2_000,
  maxLiveReadersPerKey: 200,
  maxHeaderBytes: 16 * 1024,
  sessionTokenTtlSeconds: 24 * 3600,
  maxSessionTokenTtlSeconds: 30 * 24 * 3600,
  retainClosedSessionsMs: null,
  retainOutHistoryMs: null,
};

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function resolveConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...defaultConfig, ...overrides };
}
