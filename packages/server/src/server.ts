import pino, { type Logger } from 'pino';
import { buildApp, type TetherApp } from './app.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoopback, resolveConfig, type ServerConfig } from './config.js';
import { systemClock } from './services/clock.js';
import { HistoryRetention } from './services/history-retention.js';
import { createStorage } from './storage/factory.js';
import type { Store } from './storage/types.js';

export interface RunningServer {
  url: string;
  config: ServerConfig;
  tether: TetherApp;
  store: Store;
  logger: Logger;
  /** The admin key this start created (first start on an empty store), else null. Printed once. */
  createdAdminKey: string | null;
  /** Drains live readers and in-flight requests, then closes the store. */
  stop(): Promise<void>;
}

export function createLogger(level: ServerConfig['logLevel']): Logger {
  // Logs go to stderr so stdout carries only what a person or script reads.
  return pino({ level, base: { service: 'tether' } }, pino.destination({ fd: 2, sync: false }));
}

export async function startServer(overrides: Partial<ServerConfig> = {}, logger?: Logger): Promise<RunningServer> {
  const config = resolveConfig(overrides);
  if (config.insecureNoAuth && !isLoopback(config.host)) {
    throw new Error(`--insecure-no-auth is only allowed on a loopback address, not ${config.host}`);
  }
  const log = logger ?? createLogger(config.logLevel);
  const { store, notifier } = await createStorage(config, log);
  const tether = await buildApp({ config, store, notifier, logger: log, clock: systemClock });
  if (store.driver === 'sqlite') {
    // One process owns an embedded store: turns it left running died with it.
    while ((await tether.turns.sweep(true)) > 0);
  }
  let createdAdminKey: string | null = null;
  if (config.insecureNoAuth) {
    log.warn('AUTHENTICATION IS OFF (--insecure-no-auth): anyone who can reach this address is an admin');
  } else {
    const created = await tether.auth.createFirstAdminKey();
    if (created) {
      createdAdminKey = created.key;
      // For the local CLI: only this user may read it. Written before the key is announced.
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(join(config.dataDir, 'admin-key'), `${created.key}\n`, { mode: 0o600 });
    }
  }
  if (config.durability === 'relaxed') {
    log.warn('durability is relaxed: appends are acknowledged before they are fsynced and may be lost on power failure');
  }
  let inFlight = 0;
  tether.app.server.on('request', (_request, response) => {
    inFlight++;
    response.once('close', () => inFlight--);
  });
  await tether.app.listen({ host: config.host, port: config.port });
  const address = tether.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  let sweepingRetention = false;
  let sweepingHistory = false;
  const history = config.retainOutHistoryMs === null ? null : new HistoryRetention({ store, clock: systemClock }, config.retainOutHistoryMs);
  const sweeper = setInterval(() => {
    store.sweepExpired(Date.now(), config.sweepBatchSize).catch((error) => log.warn({ err: error }, 'expiry sweep failed'));
    tether.sessions.expireDue(config.sweepBatchSize).catch((error) => log.warn({ err: error }, 'session expiry failed'));
    store.sessions.pruneSessionChanges(Date.now() - config.sessionChangeRetentionMs, config.sweepBatchSize).catch((error) =>
      log.warn({ err: error }, 'change-log pruning failed'),
    );
    if (config.retainClosedSessionsMs !== null && !sweepingRetention) {
      // One bounded batch per tick; a backlog drains over the following ticks.
      sweepingRetention = true;
      tether.transcripts
        .sweepRetention(config.retainClosedSessionsMs, config.sweepBatchSize)
        .catch((error) => log.warn({ err: error }, 'retention sweep failed'))
        .finally(() => (sweepingRetention = false));
    }
    if (history && !sweepingHistory) {
      sweepingHistory = true;
      history
        .sweep(config.sweepBatchSize)
        .catch((error) => log.warn({ err: error }, 'history retention sweep failed'))
        .finally(() => (sweepingHistory = false));
    }
  }, config.sweepIntervalMs);
  sweeper.unref();
  let sweepingTurns = false;
  const turnSweeper = setInterval(() => {
    if (sweepingTurns) return;
    sweepingTurns = true;
    tether.turns
      .sweep()
      .catch((error) => log.warn({ err: error }, 'turn sweep failed'))
      .finally(() => (sweepingTurns = false));
  }, config.turnSweepIntervalMs);
  turnSweeper.unref();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(sweeper);
      clearInterval(turnSweeper);
      tether.live.drain();
      // Keep-alive sockets that finish their last response after close() began
      // would hold it open; close them as they go idle, and all of them at the
      // end of the grace period.
      // Sockets a client opened but never sent a request on are not "idle" to Node, so
      // once no request is in flight every remaining connection is closed.
      const reapIdle = setInterval(() => {
        if (inFlight === 0) tether.app.server.closeAllConnections();
        else tether.app.server.closeIdleConnections();
      }, 50);
      const force = setTimeout(() => {
        tether.app.server.closeAllConnections();
        tether.wire.closeAll();
      }, config.shutdownGraceMs);
      force.unref();
      await tether.app.close();
      clearInterval(reapIdle);
      clearTimeout(force);
      await notifier.close();
      await store.close();
      log.flush();
    })();
    return stopping;
  };
  return { url, config, tether, store, logger: log, createdAdminKey, stop };
}
