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
  sseKeepAliveMs: number;
  sseMaxDurationMs: number;
  /** How often expired streams are swept, and how many per sweep. */
  sweepIntervalMs: number;
  sweepBatchSize: number;
  /** How long the session change log is kept for watchers resuming with Last-Event-ID. */
  sessionChangeRetentionMs: number;
  /** How long shutdown waits for in-flight requests before closing sockets. */
  shutdownGraceMs: number;
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
  sseKeepAliveMs: 15_000,
  sseMaxDurationMs: 60_000,
  sweepIntervalMs: 10_000,
  sweepBatchSize: 500,
  sessionChangeRetentionMs: 24 * 60 * 60 * 1000,
  shutdownGraceMs: 10_000,
};

export function resolveConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...defaultConfig, ...overrides };
}
