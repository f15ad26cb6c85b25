/** SQLite migration 3: session state and files (DESIGN §4). */
export const sqliteSessionDataMigration = {
  version: 3,
  name: 'session-state-files',
  sql: `
    CREATE TABLE session_state (
      session_id TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      document TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE session_files (
      session_id TEXT NOT NULL,
      path TEXT NOT NULL,
      content_type TEXT NOT NULL,
      size INTEGER NOT NULL,
      etag TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      -- Last, so listing and summing sizes never read a file's overflow pages.
      data BLOB NOT NULL,
      PRIMARY KEY (session_id, path)
    );
  `,
};
