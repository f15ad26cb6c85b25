/** Numbered SQLite migrations; applied in order, each once, in a transaction. */
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
];
