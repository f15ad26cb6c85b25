/**
 * Numbered PostgreSQL migrations; applied in order, each once. The schema
 * mirrors the SQLite one so both drivers share the rules in `stream-rules.ts`.
 * Positions and times are `bigint` (ms since epoch, byte offsets past 2 GiB);
 * the connection parses them back to JavaScript numbers.
 */
import { begin, type Db } from './connection.js';
import { postgresSessionDataMigration } from './session-data-migration.js';
import { sessionsMigration } from './session-migrations.js';
import { postgresSearchWindowMigration, postgresTranscriptsMigration } from './transcripts-migration.js';
import { postgresTurnsMigration } from './turns-migration.js';
import { postgresAuthMigration } from './auth-migration.js';
import { postgresHistoryMigration } from './history-migration.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const postgresMigrations: Migration[] = [
  {
    version: 1,
    name: 'streams',
    sql: `
      CREATE TABLE streams (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        -- Both NULL once a deleted stream is detached from its path but kept for its forks.
        path text,
        -- SHA-256 of the UTF-8 path: a fixed-size unique key, since a long non-ASCII
        -- path can exceed what a b-tree entry may hold.
        path_hash bytea UNIQUE,
        content_type text NOT NULL,
        ttl_seconds bigint,
        expires_at bigint,
        last_access_at bigint NOT NULL,
        expiry_deadline bigint,
        created_at bigint NOT NULL,
        closed boolean NOT NULL DEFAULT false,
        tail bigint NOT NULL DEFAULT 0,
        fork_source_id bigint,
        fork_source_path text,
        fork_position bigint,
        soft_deleted boolean NOT NULL DEFAULT false,
        stream_seq text,
        closed_by_producer text,
        closed_by_epoch bigint,
        closed_by_seq bigint
      );
      CREATE INDEX streams_fork_source ON streams (fork_source_id) WHERE fork_source_id IS NOT NULL;
      CREATE INDEX streams_expiry ON streams (expiry_deadline) WHERE expiry_deadline IS NOT NULL;
      CREATE TABLE stream_rows (
        stream_id bigint NOT NULL,
        end_pos bigint NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (stream_id, end_pos)
      );
      CREATE TABLE producers (
        stream_id bigint NOT NULL,
        producer_id text NOT NULL,
        epoch bigint NOT NULL,
        last_seq bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (stream_id, producer_id)
      );
    `,
  },
  sessionsMigration,
  postgresSessionDataMigration,
  postgresTurnsMigration,
  postgresTranscriptsMigration,
  postgresAuthMigration,
  postgresHistoryMigration,
  postgresSearchWindowMigration,
];

// Any fixed key works as long as every replica uses the same one.
const MIGRATION_LOCK_KEY = '7370291584721650001';

/**
 * Applies pending migrations in one transaction. Replicas starting together
 * queue on an advisory lock, so exactly one applies each migration and the
 * others then find it recorded.
 */
export async function applyPostgresMigrations(db: Db): Promise<void> {
  await begin(db, async (tx) => {
    // Waiting for another replica's migration is not a slow statement.
    await tx`SET LOCAL statement_timeout = 0`;
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`;
    const rows = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`;
    const applied = new Set(rows.map((r) => r.version));
    for (const migration of postgresMigrations) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (${migration.version}, ${migration.name}, ${Date.now()})`;
    }
  });
}
