import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

/** The one place that chooses and constructs a storage driver. */
export async function createStore(config: Pick<ServerConfig, 'dataDir' | 'postgresUrl' | 'durability'>): Promise<Store> {
  if (config.postgresUrl) throw new Error('the PostgreSQL store is not available in this build');
  if (config.dataDir === ':memory:') return new SqliteStore({ filename: ':memory:', durability: config.durability });
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteStore({ filename: join(config.dataDir, 'tether.db'), durability: config.durability });
}
