/**
 * Migration 7 (SQLite): `out` history retention. `trim_pos` is a stream's trim
 * point; `stream_marks` are the sweeper's time marks (the tail a stream had at
 * a time), since stream rows carry no timestamps of their own.
 */
export const sqliteHistoryMigration = {
  version: 7,
  name: 'history-retention',
  sql: `
    ALTER TABLE streams ADD COLUMN trim_pos INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE stream_marks (
      stream_id INTEGER NOT NULL,
      position INTEGER NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (stream_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX stream_marks_at ON stream_marks (at, stream_id);
    CREATE INDEX sessions_out_stream ON sessions (out_stream_id);
  `,
};
