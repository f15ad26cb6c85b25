/** PostgreSQL schema for turns and interactions (migration 4); mirrors `sqlite/turns-migration.ts`. */
export const postgresTurnsMigration = {
  version: 4,
  name: 'turns-interactions',
  sql: `
    ALTER TABLE sessions ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0;
    CREATE TABLE turns (
      id text COLLATE "C" PRIMARY KEY,
      project_id text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      seq integer NOT NULL,
      status text NOT NULL,
      priority integer NOT NULL,
      content jsonb NOT NULL,
      policy text NOT NULL,
      idempotency_key text,
      runner_id text,
      lease_epoch bigint,
      lease_expires_at bigint,
      lease_ms bigint,
      attempts integer NOT NULL,
      interrupt_requested boolean NOT NULL,
      cancel_requested boolean NOT NULL,
      error jsonb,
      reason text,
      created_at bigint NOT NULL,
      queued_at bigint NOT NULL,
      started_at bigint,
      ended_at bigint,
      updated_at bigint NOT NULL
    );
    CREATE UNIQUE INDEX turns_session_seq ON turns (session_id, seq);
    CREATE UNIQUE INDEX turns_idempotency ON turns (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX turns_open ON turns (session_id) WHERE status IN ('queued', 'running', 'waiting');
    -- The claim scan: oldest queued turn first.
    CREATE INDEX turns_queue ON turns (queued_at, id) WHERE status = 'queued';
    CREATE INDEX turns_leases ON turns (lease_expires_at) WHERE status IN ('running', 'waiting');
    CREATE TABLE interactions (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      project_id text NOT NULL,
      session_id text COLLATE "C" NOT NULL,
      turn_id text NOT NULL,
      interaction_id text NOT NULL,
      kind text NOT NULL,
      prompt text NOT NULL,
      choices jsonb,
      schema jsonb,
      timeout_at bigint,
      status text NOT NULL,
      response jsonb,
      requested_at bigint NOT NULL,
      resolved_at bigint
    );
    CREATE UNIQUE INDEX interactions_session ON interactions (session_id, interaction_id);
    CREATE INDEX interactions_inbox ON interactions (project_id, status, seq);
    CREATE INDEX interactions_timeout ON interactions (timeout_at) WHERE status = 'pending' AND timeout_at IS NOT NULL;
  `,
};
