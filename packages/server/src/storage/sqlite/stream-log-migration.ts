/**
 * Migration 8 (SQLite): `stream_log`, where appended rows land before they
 * are moved into `stream_rows` in bulk (see `StreamLog`).
 */
export const sqliteStreamLogMigration = {
  version: 8,
  name: 'stream-log',
  sql: `
    CREATE TABLE stream_log (
      seq INTEGER PRIMARY KEY,
      stream_id INTEGER NOT NULL,
      end_pos INTEGER NOT NULL,
      data BLOB NOT NULL
    );
  `,
};
