/** Migration 6 (PostgreSQL): projects, hashed API keys and the signing secrets all replicas share. */
export const postgresAuthMigration = {
  version: 6,
  name: 'auth',
  sql: `
    CREATE TABLE projects (
      id text PRIMARY KEY,
      name text,
      created_at bigint NOT NULL
    );
    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      project_id text NOT NULL REFERENCES projects (id),
      name text,
      role text NOT NULL,
      prefix text NOT NULL,
      hash text NOT NULL UNIQUE,
      created_at bigint NOT NULL,
      last_used_at bigint,
      revoked_at bigint
    );
    CREATE INDEX api_keys_project ON api_keys (project_id, created_at);
    CREATE TABLE server_secrets (
      name text PRIMARY KEY,
      value text NOT NULL,
      created_at bigint NOT NULL
    );
  `,
};
