import type { ServerConfig } from '../../src/config.js';

/**
 * Short live reads and claims so no request waits long; sweepers far apart so
 * nothing but the requests changes the store; no rate limit, since one key
 * sends every request (rate limits are tested on their own).
 */
export const FUZZ_CONFIG: Partial<ServerConfig> = {
  logLevel: 'silent',
  longPollTimeoutMs: 100,
  sseMaxDurationMs: 200,
  maxClaimWaitMs: 100,
  maxMessageBytes: 64 * 1024,
  rateLimitPerSecond: 0,
  sweepIntervalMs: 3_600_000,
  turnSweepIntervalMs: 3_600_000,
};

/** When each key was last used changes on every authenticated request, rejected or not. */
export const VOLATILE_COLUMNS: Record<string, string[]> = { api_keys: ['last_used_at'] };
