/**
 * Projects, API keys and signing secrets on PostgreSQL. Secrets are inserted
 * with ON CONFLICT DO NOTHING and read back, so every replica on one database
 * ends up with the same value however many start at once.
 */
import type { ApiKeyRecord, AuthStore, NewApiKey, ProjectRecord } from '../auth-types.js';
import { keyFromRow, projectFromRow, type ApiKeyRow } from '../auth-rows.js';
import { guarded, transaction, type Db, type Tx } from './connection.js';

// Any fixed key works as long as every replica uses the same one.
const FIRST_KEY_LOCK = '7370291584721650006';

export class PostgresAuth implements AuthStore {
  constructor(private readonly db: Db) {}

  async ensureProject(id: string, name: string | null, now: number): Promise<ProjectRecord> {
    return guarded(
      (async () => {
        await this.db`INSERT INTO projects (id, name, created_at) VALUES (${id}, ${name}, ${now}) ON CONFLICT (id) DO NOTHING`;
        const [row] = await this.db<Parameters<typeof projectFromRow>[0][]>`SELECT id, name, created_at FROM projects WHERE id = ${id}`;
        return projectFromRow(row!);
      })(),
    );
  }

  async getProject(id: string): Promise<ProjectRecord | null> {
    const [row] = await guarded(this.db<Parameters<typeof projectFromRow>[0][]>`SELECT id, name, created_at FROM projects WHERE id = ${id}`);
    return row ? projectFromRow(row) : null;
  }

  async listProjects(): Promise<ProjectRecord[]> {
    const rows = await guarded(this.db<Parameters<typeof projectFromRow>[0][]>`SELECT id, name, created_at FROM projects ORDER BY created_at, id`);
    return rows.map(projectFromRow);
  }

  private async insert(tx: Tx, key: NewApiKey): Promise<ApiKeyRecord> {
    await tx`INSERT INTO projects (id, name, created_at) VALUES (${key.projectId}, ${null}, ${key.now}) ON CONFLICT (id) DO NOTHING`;
    const [row] = await tx<ApiKeyRow[]>`INSERT INTO api_keys (id, project_id, name, role, prefix, hash, created_at)
      VALUES (${key.id}, ${key.projectId}, ${key.name}, ${key.role}, ${key.prefix}, ${key.hash}, ${key.now})
      RETURNING id, project_id, name, role, prefix, created_at, last_used_at, revoked_at`;
    return keyFromRow(row!);
  }

  createKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return transaction(this.db, (tx) => this.insert(tx, key));
  }

  createFirstKey(key: NewApiKey): Promise<ApiKeyRecord | null> {
    return transaction(this.db, async (tx) => {
      // Replicas starting together on an empty database queue here; the first makes the key.
      await tx`SELECT pg_advisory_xact_lock(${FIRST_KEY_LOCK}::bigint)`;
      const [any] = await tx`SELECT 1 FROM api_keys LIMIT 1`;
      return any ? null : this.insert(tx, key);
    });
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const [row] = await guarded(this.db<ApiKeyRow[]>`SELECT id, project_id, name, role, prefix, created_at, last_used_at, revoked_at
      FROM api_keys WHERE hash = ${hash}`);
    return row ? keyFromRow(row) : null;
  }

  async listKeys(projectId: string): Promise<ApiKeyRecord[]> {
    const rows = await guarded(this.db<ApiKeyRow[]>`SELECT id, project_id, name, role, prefix, created_at, last_used_at, revoked_at
      FROM api_keys WHERE project_id = ${projectId} ORDER BY created_at, id`);
    return rows.map(keyFromRow);
  }

  async revokeKey(projectId: string, id: string, now: number): Promise<ApiKeyRecord | null> {
    const [row] = await guarded(this.db<ApiKeyRow[]>`UPDATE api_keys SET revoked_at = coalesce(revoked_at, ${now})
      WHERE project_id = ${projectId} AND id = ${id}
      RETURNING id, project_id, name, role, prefix, created_at, last_used_at, revoked_at`);
    return row ? keyFromRow(row) : null;
  }

  async touchKey(id: string, now: number): Promise<void> {
    await guarded(this.db`UPDATE api_keys SET last_used_at = ${now} WHERE id = ${id}`);
  }

  async secret(name: string, generate: () => string, now: number): Promise<string> {
    return guarded(
      (async () => {
        const [found] = await this.db<{ value: string }[]>`SELECT value FROM server_secrets WHERE name = ${name}`;
        if (found) return found.value;
        await this.db`INSERT INTO server_secrets (name, value, created_at) VALUES (${name}, ${generate()}, ${now}) ON CONFLICT (name) DO NOTHING`;
        const [row] = await this.db<{ value: string }[]>`SELECT value FROM server_secrets WHERE name = ${name}`;
        return row!.value;
      })(),
    );
  }
}
