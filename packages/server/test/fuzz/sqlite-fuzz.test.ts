import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../../src/server.js';
import { FUZZ_CONFIG, VOLATILE_COLUMNS } from './fuzz-config.js';
import { describeFuzz } from './fuzz-suite.js';

describeFuzz('sqlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-fuzz-'));
  const server = await startServer({ port: 0, dataDir, ...FUZZ_CONFIG });
  // A second, read-only connection: it sees every committed write and nothing else.
  const db = new Database(join(dataDir, 'tether.db'), { readonly: true });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  return {
    server,
    fingerprint: async () => {
      const hash = createHash('sha256');
      for (const table of tables) {
        const rows = db.prepare(`SELECT * FROM "${table}"`).raw().all() as unknown[][];
        const columns = db.prepare(`SELECT * FROM "${table}"`).columns().map((c) => c.name);
        const skip = new Set((VOLATILE_COLUMNS[table] ?? []).map((name) => columns.indexOf(name)));
        const lines = rows.map((row) => row.map((v, i) => (skip.has(i) ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v))).join('\u0001'));
        hash.update(`${table}\u0002${lines.sort().join('\u0003')}`);
      }
      return hash.digest('hex');
    },
    stop: async () => {
      db.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
