/**
 * Migration 7 (PostgreSQL): `out` history retention. `trim_pos` is a stream's
 * trim point; `stream_marks` are the sweeper's time marks (the tail a stream
 * had at a time), since stream rows carry no timestamps of their own. Adding a
 * column with a constant default does not rewrite `streams`.
 */
export const postgresHistoryMigration = {
  version: 7,
  name: 'history-retention',
  sql: `
    ALTER TABLE streams ADD COLUMN trim_pos bigint NOT NULL DEFAULT 0;
    CREATE TABLE stream_marks (
      stream_id bigint NOT NULL,
      position bigint NOT NULL,
      at bigint NOT NULL,
      PRIMARY KEY (stream_id, position)
    );
    CREATE INDEX stream_marks_at ON stream_marks (at, stream_id);
    CREATE INDEX sessions_out_stream ON sessions (out_stream_id);
  `,
};
