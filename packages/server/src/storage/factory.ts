import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { defaultConfig, type ServerConfig } from '../config.js';
import { LocalNotifier, type Notifier } from '../services/live-hub.js';
import { PostgresNotifier } from './postgres/postgres-notifier.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export interface Storage {
  store: Store;
  /** Wakes live readers; must reach readers on every replica sharing the store. */
  notifier: Notifier;
}

export type StorageConfig = Pick<ServerConfig, 'dataDir' | 'postgresUrl' | 'durability'> &
  Partial<Pick<ServerConfig, 'pgPoolSize' | 'pgStatementTimeoutMs'>>;

/** The one place that chooses and constructs a storage driver and its notifier. */
export async function createStorage(config: StorageConfig, logger?: Logger): Promise<Storage> {
  if (config.postgresUrl) return createPostgresStorage(config.postgresUrl, config, logger);
  const filename = config.dataDir === ':memory:' ? ':memory:' : join(config.dataDir, 'tether.db');
  if (filename !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  return { store: new SqliteStore({ filename, durability: config.durability }), notifier: new LocalNotifier() };
}

async function createPostgresStorage(url: string, config: StorageConfig, logger?: Logger): Promise<Storage> {
  const connection = {
    url,
    poolSize: config.pgPoolSize ?? defaultConfig.pgPoolSize,
    statementTimeoutMs: config.pgStatementTimeoutMs ?? defaultConfig.pgStatementTimeoutMs,
    durability: config.durability,
  };
  const store = await PostgresStore.open(connection);
  try {
    const notifier = await PostgresNotifier.start({
      connection,
      currentState: (ids) => store.streamStates(ids),
      log: logger && {
        warn: (message, error) => logger.warn({ err: error }, message),
        info: (message) => logger.info(message),
      },
    });
    return { store, notifier };
  } catch (error) {
    await store.close();
    throw error;
  }
}
