/** Projects, API keys and signing secrets on SQLite; writes go through the write batcher. */
import type Database from 'better-sqlite3';
import type { ApiKeyRecord, AuthStore, NewApiKey, ProjectRecord } from '../auth-types.js';
import { KEY_COLUMNS, keyFromRow, projectFromRow, type ApiKeyRow } from '../auth-rows.js';
import type { WriteBatcher } from './write-batcher.js';

export class SqliteAuth implements AuthStore {
  private readonly sql;

  constructor(
    db: Database.Database,
    private readonly writes: WriteBatcher,
  ) {
    this.sql = {
      project: db.prepare('SELECT id, name, created_at FROM projects WHERE id = ?'),
      projects: db.prepare('SELECT id, name, created_at FROM projects ORDER BY created_at, id'),
      insertProject: db.prepare('INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING'),
      insertKey: db.prepare(`INSERT INTO api_keys (id, project_id, name, role, prefix, hash, created_at)
        VALUES (@id, @projectId, @name, @role, @prefix, @hash, @now)`),
      anyKey: db.prepare('SELECT 1 FROM api_keys LIMIT 1'),
      key: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`),
      keyByHash: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`),
      keys: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE project_id = ? ORDER BY created_at, id`),
      revoke: db.prepare('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE project_id = ? AND id = ?'),
      touch: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
      secret: db.prepare('SELECT value FROM server_secrets WHERE name = ?'),
      insertSecret: db.prepare('INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING'),
    };
  }

  ensureProject(id: string, name: string | null, now: number): Promise<ProjectRecord> {
    return this.writes.submit(() => {
      this.sql.insertProject.run(id, name, now);
      return projectFromRow(this.sql.project.get(id) as never);
    });
  }

  getProject(id: string): Promise<ProjectRecord | null> {
    return this.writes.read(() => {
      const row = this.sql.project.get(id) as Parameters<typeof projectFromRow>[0] | undefined;
      return row ? projectFromRow(row) : null;
    });
  }

  listProjects(): Promise<ProjectRecord[]> {
    return this.writes.read(() => (this.sql.projects.all() as Parameters<typeof projectFromRow>[0][]).map(projectFromRow));
  }

  private insert(key: NewApiKey): ApiKeyRecord {
    this.sql.insertProject.run(key.projectId, null, key.now);
    this.sql.insertKey.run(key);
    return keyFromRow(this.sql.key.get(key.id) as ApiKeyRow);
  }

  createKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return this.writes.submit(() => this.insert(key));
  }

  createFirstKey(key: NewApiKey): Promise<ApiKeyRecord | null> {
    return this.writes.submit(() => (this.sql.anyKey.get() ? null : this.insert(key)));
  }

  findKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.writes.read(() => {
      const row = this.sql.keyByHash.get(hash) as ApiKeyRow | undefined;
      return row ? keyFromRow(row) : null;
    });
  }

  listKeys(projectId: string): Promise<ApiKeyRecord[]> {
    return this.writes.read(() => (this.sql.keys.all(projectId) as ApiKeyRow[]).map(keyFromRow));
  }

  revokeKey(projectId: string, id: string, now: number): Promise<ApiKeyRecord | null> {
    return this.writes.submit(() => {
      if (this.sql.revoke.run(now, projectId, id).changes === 0) return null;
      return keyFromRow(this.sql.key.get(id) as ApiKeyRow);
    });
  }

  touchKey(id: string, now: number): Promise<void> {
    return this.writes.submit(() => {
      this.sql.touch.run(now, id);
    });
  }

  secret(name: string, generate: () => string, now: number): Promise<string> {
    const existing = this.sql.secret.get(name) as { value: string } | undefined;
    if (existing) return Promise.resolve(existing.value);
    return this.writes.submit(() => {
      this.sql.insertSecret.run(name, generate(), now);
      return (this.sql.secret.get(name) as { value: string }).value;
    });
  }
}
