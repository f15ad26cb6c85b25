/** Numbered SQLite migrations; applied in order, each once, in a transaction. */
import { sqliteSessionDataMigration } from './session-data-migration.js';
import { sqliteTranscriptsMigration } from './transcripts-migration.js';
import { sqliteTurnsMigration } from './turns-migration.js';
import { sqliteAuthMigration } from './auth-migration.js';
import { sqliteHistoryMigration } from './history-migration.js';
import { sqliteStreamLogMigration } from './stream-log-migration.js';

export const sqliteMigrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'streams',
    sql: `
      CREATE TABLE streams (
        -- AUTOINCREMENT: a deleted stream's id is never handed out again, since
        -- ETags, fork-segment caches, live readers and sessions key on it.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT UNIQUE,
        content_type TEXT NOT NULL,
        ttl_seconds INTEGER,
        expires_at INTEGER,
        last_access_at INTEGER NOT NULL,
        expiry_deadline INTEGER,
        created_at INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0,
        tail INTEGER NOT NULL DEFAULT 0,
        fork_source_id INTEGER,
        fork_source_path TEXT,
        fork_position INTEGER,
        soft_deleted INTEGER NOT NULL DEFAULT 0,
        stream_seq TEXT,
        closed_by_producer TEXT,
        closed_by_epoch INTEGER,
        closed_by_seq INTEGER
      );
      CREATE INDEX streams_fork_source ON streams (fork_source_id) WHERE fork_source_id IS NOT NULL;
      CREATE INDEX streams_expiry ON streams (expiry_deadline) WHERE expiry_deadline IS NOT NULL;
      CREATE TABLE stream_rows (
        stream_id INTEGER NOT NULL,
        end_pos INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (stream_id, end_pos)
      ) WITHOUT ROWID;
      CREATE TABLE producers (
        stream_id INTEGER NOT NULL,
        producer_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (stream_id, producer_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'sessions',
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        external_id TEXT,
        type TEXT,
        title TEXT,
        agent TEXT,
        model TEXT,
        tags TEXT NOT NULL,
        metadata TEXT NOT NULL,
        parent_id TEXT,
        root_id TEXT NOT NULL,
        forked_from_session TEXT,
        forked_from_position INTEGER,
        status TEXT NOT NULL,
        active_turn_id TEXT,
        pending_interactions INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cached_input_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0,
        turn_count INTEGER NOT NULL DEFAULT 0,
        last_assistant_text TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_activity_at INTEGER NOT NULL,
        closed_at INTEGER,
        closed_reason TEXT,
        expires_at INTEGER,
        out_stream_id INTEGER NOT NULL,
        in_stream_id INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX sessions_external ON sessions (project_id, external_id) WHERE external_id IS NOT NULL;
      CREATE INDEX sessions_project ON sessions (project_id, id);
      CREATE INDEX sessions_status ON sessions (project_id, status, id);
      CREATE INDEX sessions_agent ON sessions (project_id, agent, id) WHERE agent IS NOT NULL;
      CREATE INDEX sessions_type ON sessions (project_id, type, id) WHERE type IS NOT NULL;
      CREATE INDEX sessions_parent ON sessions (parent_id, id) WHERE parent_id IS NOT NULL;
      CREATE INDEX sessions_root ON sessions (root_id, id);
      CREATE INDEX sessions_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL AND status NOT IN ('closed', 'expired');
      CREATE TABLE session_tags (
        project_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        session_id TEXT NOT NULL,
        PRIMARY KEY (project_id, tag, session_id)
      ) WITHOUT ROWID;
      CREATE INDEX session_tags_session ON session_tags (session_id);
      CREATE TABLE session_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        snapshot TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX session_changes_at ON session_changes (at);
    `,
  },
  sqliteSessionDataMigration,
  sqliteTurnsMigration,
  sqliteTranscriptsMigration,
  sqliteAuthMigration,
  sqliteHistoryMigration,
  sqliteStreamLogMigration,
];
