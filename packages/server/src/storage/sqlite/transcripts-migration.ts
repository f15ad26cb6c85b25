/**
 * SQLite schema for transcripts, usage and search (migration 5); mirrored by
 * `postgres/transcripts-migration.ts`. The FTS5 tables index the rows'
 * own text through triggers, so every write that changes a message, a tool
 * name or a title re-indexes it in the same transaction.
 */
const FTS = `tokenize = 'unicode61 remove_diacritics 0'`;

const ftsTriggers = (table: string, fts: string, key: string, column: string) => `
    CREATE TRIGGER ${table}_fts_insert AFTER INSERT ON ${table} BEGIN
      INSERT INTO ${fts} (rowid, ${column}) VALUES (new.${key}, new.${column});
    END;
    CREATE TRIGGER ${table}_fts_delete AFTER DELETE ON ${table} BEGIN
      INSERT INTO ${fts} (${fts}, rowid, ${column}) VALUES ('delete', old.${key}, old.${column});
    END;
    CREATE TRIGGER ${table}_fts_update AFTER UPDATE OF ${column} ON ${table} WHEN old.${column} IS NOT new.${column} BEGIN
      INSERT INTO ${fts} (${fts}, rowid, ${column}) VALUES ('delete', old.${key}, old.${column});
      INSERT INTO ${fts} (rowid, ${column}) VALUES (new.${key}, new.${column});
    END;`;

export const sqliteTranscriptsMigration = {
  version: 5,
  name: 'transcripts-search-retention',
  sql: `
    CREATE TABLE messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      project_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      turn_id TEXT,
      channel TEXT NOT NULL,
      position INTEGER NOT NULL,
      role TEXT NOT NULL,
      text TEXT NOT NULL,
      content TEXT,
      model TEXT,
      status TEXT NOT NULL,
      usage TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX messages_session ON messages (session_id, id);
    CREATE INDEX messages_order ON messages (session_id, seq);
    CREATE INDEX messages_unassigned ON messages (session_id, position) WHERE turn_id IS NULL;
    CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'seq', ${FTS});
    ${ftsTriggers('messages', 'messages_fts', 'seq', 'text')}

    CREATE TABLE tool_calls (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      project_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      turn_id TEXT,
      name TEXT NOT NULL,
      input TEXT,
      output TEXT,
      is_error INTEGER NOT NULL,
      duration_ms INTEGER,
      truncated INTEGER NOT NULL,
      position INTEGER NOT NULL,
      result_position INTEGER,
      created_at INTEGER NOT NULL,
      completed_at INTEGER
    );
    CREATE UNIQUE INDEX tool_calls_session ON tool_calls (session_id, id);
    CREATE INDEX tool_calls_order ON tool_calls (session_id, seq);
    CREATE INDEX tool_calls_name ON tool_calls (name, session_id);
    CREATE INDEX tool_calls_unassigned ON tool_calls (session_id, position) WHERE turn_id IS NULL;
    CREATE VIRTUAL TABLE tool_calls_fts USING fts5 (name, content = 'tool_calls', content_rowid = 'seq', ${FTS});
    ${ftsTriggers('tool_calls', 'tool_calls_fts', 'seq', 'name')}

    CREATE TABLE usage_records (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      project_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      turn_id TEXT,
      position INTEGER NOT NULL,
      input_tokens INTEGER NOT NULL,
      output_tokens INTEGER NOT NULL,
      cached_input_tokens INTEGER NOT NULL,
      cost_usd REAL NOT NULL,
      model TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX usage_records_session ON usage_records (session_id, seq);

    CREATE TABLE session_compactions (
      session_id TEXT PRIMARY KEY,
      summary TEXT NOT NULL,
      up_to_message_id TEXT,
      position INTEGER NOT NULL
    );

    CREATE VIRTUAL TABLE sessions_fts USING fts5 (title, content = 'sessions', content_rowid = 'rowid', ${FTS});
    INSERT INTO sessions_fts (sessions_fts) VALUES ('rebuild');
    ${ftsTriggers('sessions', 'sessions_fts', 'rowid', 'title')}

    CREATE INDEX sessions_closed ON sessions (closed_at) WHERE closed_at IS NOT NULL;
  `,
};
