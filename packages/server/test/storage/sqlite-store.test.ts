import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { describeStoreSuite } from './store-suite.js';

// A file exercises WAL and fsync; `:memory:` is what tests and `--data-dir :memory:` use.
describeStoreSuite('sqlite (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tether-store-'));
  const store = new SqliteStore({ filename: join(dir, 'tether.db'), durability: 'fsync' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeStoreSuite('sqlite (:memory:)', async () => {
  const store = new SqliteStore({ filename: ':memory:', durability: 'fsync' });
  return { store, cleanup: () => store.close() };
});
