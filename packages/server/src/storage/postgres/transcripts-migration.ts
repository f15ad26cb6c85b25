/**
 * PostgreSQL schema for transcripts, usage and search (migration 5); mirrors
 * `sqlite/transcripts-migration.ts`. Text is indexed as `tsvector` with the
 * `simple` configuration (no stemming, so every language is treated alike)
 * after splitting on anything that is not a letter or digit, as SQLite's
 * `unicode61` tokenizer and the query parser split it.
 */
const vector = (column: string) =>
  `to_tsvector('simple'::regconfig, regexp_replace(coalesce(${column}, ''), '[^[:alnum:]]+', ' ', 'g'))`;

export const postgresTranscriptsMigration = {
  version: 5,
  name: 'transcripts-search-retention',
  sql: `
    CREATE TABLE messages (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL,
      project_id text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      turn_id text,
      channel text NOT NULL,
      position bigint NOT NULL,
      role text NOT NULL,
      text text NOT NULL,
      content jsonb,
      model text,
      status text NOT NULL,
      usage jsonb,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      search tsvector GENERATED ALWAYS AS (${vector('text')}) STORED
    );
    CREATE UNIQUE INDEX messages_session ON messages (session_id, id);
    CREATE INDEX messages_order ON messages (session_id, seq);
    CREATE INDEX messages_unassigned ON messages (session_id, position) WHERE turn_id IS NULL;
    CREATE INDEX messages_search ON messages USING gin (search);

    CREATE TABLE tool_calls (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL,
      project_id text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      turn_id text,
      name text NOT NULL,
      input jsonb,
      output jsonb,
      is_error boolean NOT NULL,
      duration_ms bigint,
      truncated boolean NOT NULL,
      position bigint NOT NULL,
      result_position bigint,
      created_at bigint NOT NULL,
      completed_at bigint,
      search tsvector GENERATED ALWAYS AS (${vector('name')}) STORED
    );
    CREATE UNIQUE INDEX tool_calls_session ON tool_calls (session_id, id);
    CREATE INDEX tool_calls_order ON tool_calls (session_id, seq);
    CREATE INDEX tool_calls_name ON tool_calls (name, session_id);
    CREATE INDEX tool_calls_unassigned ON tool_calls (session_id, position) WHERE turn_id IS NULL;
    CREATE INDEX tool_calls_search ON tool_calls USING gin (search);

    CREATE TABLE usage_records (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      project_id text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      turn_id text,
      position bigint NOT NULL,
      input_tokens bigint NOT NULL,
      output_tokens bigint NOT NULL,
      cached_input_tokens bigint NOT NULL,
      cost_usd double precision NOT NULL,
      model text,
      created_at bigint NOT NULL
    );
    CREATE INDEX usage_records_session ON usage_records (session_id, seq);

    CREATE TABLE session_compactions (
      session_id text COLLATE "C" PRIMARY KEY,
      summary text NOT NULL,
      up_to_message_id text,
      position bigint NOT NULL
    );

    ALTER TABLE sessions ADD COLUMN title_search tsvector GENERATED ALWAYS AS (${vector('title')}) STORED;
    CREATE INDEX sessions_title_search ON sessions USING gin (title_search);
    CREATE INDEX sessions_closed ON sessions (closed_at) WHERE closed_at IS NOT NULL;
  `,
};

/**
 * Migration 8: a BRIN index on `messages.seq`, so a search can rank only the
 * newest messages of a very common word (`postgres-search.ts`). Messages are
 * appended in `seq` order, so each block range covers a narrow band of it and
 * the index stays a few pages.
 */
export const postgresSearchWindowMigration = {
  version: 8,
  name: 'messages-seq-brin',
  sql: `CREATE INDEX messages_seq_brin ON messages USING brin (seq) WITH (pages_per_range = 32);`,
};
