import { parseArgs } from 'node:util';
import { defaultConfig, isLoopback, startServer, type ServerConfig } from '@tether/server';
import { UsageError } from './usage.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return n;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): Partial<ServerConfig> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      postgres: { type: 'string' },
      'pg-pool-size': { type: 'string' },
      'pg-statement-timeout-ms': { type: 'string' },
      durability: { type: 'string' },
      'long-poll-timeout-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'turn-retries': { type: 'string' },
      'turn-sweep-interval-ms': { type: 'string' },
      'insecure-no-auth': { type: 'boolean' },
      'cors-origin': { type: 'string', multiple: true },
      'rate-limit': { type: 'string' },
      'rate-limit-burst': { type: 'string' },
      'max-live-readers-per-key': { type: 'string' },
      'retain-closed-days': { type: 'string' },
      'retain-out-days': { type: 'string' },
    },
  });
  const durability = values.durability ?? 'fsync';
  if (durability !== 'fsync' && durability !== 'relaxed') throw new UsageError('--durability must be fsync or relaxed');
  const logLevel = values['log-level'] ?? env.TETHER_LOG_LEVEL ?? defaultConfig.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const host = values.host ?? defaultConfig.host;
  const insecureNoAuth = values['insecure-no-auth'] === true;
  if (insecureNoAuth && !isLoopback(host)) {
    throw new UsageError(`--insecure-no-auth is only allowed with a loopback --host (127.0.0.1, ::1, localhost), not ${host}`);
  }
  const corsOrigins = values['cors-origin'] ?? (env.TETHER_CORS_ORIGINS ? env.TETHER_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean) : []);
  return {
    host,
    insecureNoAuth,
    corsOrigins,
    rateLimitPerSecond: integer('rate-limit', values['rate-limit'], defaultConfig.rateLimitPerSecond),
    rateLimitBurst: integer('rate-limit-burst', values['rate-limit-burst'], defaultConfig.rateLimitBurst, 1),
    maxLiveReadersPerKey: integer('max-live-readers-per-key', values['max-live-readers-per-key'], defaultConfig.maxLiveReadersPerKey, 1),
    port: integer('port', values.port, defaultConfig.port),
    dataDir: values['data-dir'] ?? defaultConfig.dataDir,
    postgresUrl: values.postgres ?? env.TETHER_POSTGRES_URL ?? null,
    pgPoolSize: integer('pg-pool-size', values['pg-pool-size'], defaultConfig.pgPoolSize, 1),
    pgStatementTimeoutMs: integer('pg-statement-timeout-ms', values['pg-statement-timeout-ms'], defaultConfig.pgStatementTimeoutMs),
    durability,
    longPollTimeoutMs: integer('long-poll-timeout-ms', values['long-poll-timeout-ms'], defaultConfig.longPollTimeoutMs, 1),
    logLevel: logLevel as ServerConfig['logLevel'],
    maxMessageBytes: integer('max-message-bytes', values['max-message-bytes'], defaultConfig.maxMessageBytes, 1),
    turnRetries: integer('turn-retries', values['turn-retries'], defaultConfig.turnRetries),
    turnSweepIntervalMs: integer('turn-sweep-interval-ms', values['turn-sweep-interval-ms'], defaultConfig.turnSweepIntervalMs, 10),
    retainClosedSessionsMs:
      values['retain-closed-days'] === undefined ? null : integer('retain-closed-days', values['retain-closed-days'], 0, 1) * 86_400_000,
    retainOutHistoryMs:
      values['retain-out-days'] === undefined ? null : integer('retain-out-days', values['retain-out-days'], 0, 1) * 86_400_000,
  };
}

export async function serve(argv: string[]): Promise<void> {
  const config = parseServeArgs(argv, process.env);
  const server = await startServer(config);
  if (config.durability === 'relaxed') {
    process.stderr.write('warning: --durability relaxed: acknowledged appends are not fsynced and can be lost on power failure\n');
  }
  if (config.insecureNoAuth) {
    process.stderr.write('WARNING: --insecure-no-auth: authentication is OFF; anyone who can reach this address is an admin\n');
  }
  if (server.createdAdminKey) {
    // Shown this once; the data directory keeps a copy (mode 0600) for the local CLI.
    process.stdout.write(`admin key (shown once, also written to ${server.config.dataDir}/admin-key): ${server.createdAdminKey}\n`);
  }
  process.stdout.write(`tether listening on ${server.url} (store: ${server.store.driver})\n`);
  const shutdown = (signal: string) => {
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
