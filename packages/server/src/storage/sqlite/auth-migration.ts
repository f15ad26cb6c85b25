/** Migration 6 (SQLite): projects, hashed API keys and the server's signing secrets. */
export const sqliteAuthMigration = {
  version: 6,
  name: 'auth',
  sql: `
    CREATE TABLE projects (
      id TEXT PRIMARY KEY,
      name TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects (id),
      name TEXT,
      role TEXT NOT NULL,
      prefix TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER,
      revoked_at INTEGER
    );
    CREATE INDEX api_keys_project ON api_keys (project_id, created_at);
    CREATE TABLE server_secrets (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
  `,
};
