/** PostgreSQL schema for sessions; mirrors SQLite migration 2. Ids sort byte-wise (COLLATE "C"). */
export const sessionsMigration = {
  version: 2,
  name: 'sessions',
  sql: `
    CREATE TABLE sessions (
      id text COLLATE "C" PRIMARY KEY,
      project_id text NOT NULL,
      external_id text,
      type text,
      title text,
      agent text,
      model text,
      tags jsonb NOT NULL,
      metadata jsonb NOT NULL,
      parent_id text COLLATE "C",
      root_id text COLLATE "C" NOT NULL,
      forked_from_session text,
      forked_from_position bigint,
      status text NOT NULL,
      active_turn_id text,
      pending_interactions integer NOT NULL DEFAULT 0,
      input_tokens bigint NOT NULL DEFAULT 0,
      output_tokens bigint NOT NULL DEFAULT 0,
      cached_input_tokens bigint NOT NULL DEFAULT 0,
      cost_usd double precision NOT NULL DEFAULT 0,
      message_count integer NOT NULL DEFAULT 0,
      turn_count integer NOT NULL DEFAULT 0,
      last_assistant_text text,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      last_activity_at bigint NOT NULL,
      closed_at bigint,
      closed_reason text,
      expires_at bigint,
      out_stream_id bigint NOT NULL,
      in_stream_id bigint NOT NULL
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
      project_id text NOT NULL,
      tag text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      PRIMARY KEY (project_id, tag, session_id)
    );
    CREATE INDEX session_tags_session ON session_tags (session_id);
    CREATE TABLE session_changes (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      project_id text NOT NULL,
      session_id text NOT NULL,
      kind text NOT NULL,
      snapshot jsonb,
      at bigint NOT NULL
    );
    CREATE INDEX session_changes_at ON session_changes (at);
  `,
};
