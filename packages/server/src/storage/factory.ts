import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { LocalNotifier, type Notifier } from '../services/live-hub.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export interface Storage {
  store: Store;
  /** Wakes live readers; must reach readers on every replica sharing the store. */
  notifier: Notifier;
}

/** The one place that chooses and constructs a storage driver and its notifier. */
export async function createStorage(config: Pick<ServerConfig, 'dataDir' | 'postgresUrl' | 'durability'>): Promise<Storage> {
  if (config.postgresUrl) throw new Error('the PostgreSQL store is not available in this build');
  const filename = config.dataDir === ':memory:' ? ':memory:' : join(config.dataDir, 'tether.db');
  if (filename !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  return { store: new SqliteStore({ filename, durability: config.durability }), notifier: new LocalNotifier() };
}
