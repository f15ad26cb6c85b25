/** SQLite schema for turns and interactions (migration 4); mirrored by `postgres/turns-migration.ts`. */
export const sqliteTurnsMigration = {
  version: 4,
  name: 'turns-interactions',
  sql: `
    ALTER TABLE sessions ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE turns (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      status TEXT NOT NULL,
      priority INTEGER NOT NULL,
      content TEXT NOT NULL,
      policy TEXT NOT NULL,
      idempotency_key TEXT,
      runner_id TEXT,
      lease_epoch INTEGER,
      lease_expires_at INTEGER,
      lease_ms INTEGER,
      attempts INTEGER NOT NULL,
      interrupt_requested INTEGER NOT NULL,
      cancel_requested INTEGER NOT NULL,
      error TEXT,
      reason TEXT,
      created_at INTEGER NOT NULL,
      queued_at INTEGER NOT NULL,
      started_at INTEGER,
      ended_at INTEGER,
      updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX turns_session_seq ON turns (session_id, seq);
    CREATE UNIQUE INDEX turns_idempotency ON turns (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX turns_open ON turns (session_id) WHERE status IN ('queued', 'running', 'waiting');
    -- The claim scan: oldest queued turn first.
    CREATE INDEX turns_queue ON turns (queued_at, id) WHERE status = 'queued';
    CREATE INDEX turns_leases ON turns (lease_expires_at) WHERE status IN ('running', 'waiting');
    CREATE TABLE interactions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      project_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      turn_id TEXT NOT NULL,
      interaction_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      prompt TEXT NOT NULL,
      choices TEXT,
      schema TEXT,
      timeout_at INTEGER,
      status TEXT NOT NULL,
      response TEXT,
      requested_at INTEGER NOT NULL,
      resolved_at INTEGER
    );
    CREATE UNIQUE INDEX interactions_session ON interactions (session_id, interaction_id);
    CREATE INDEX interactions_inbox ON interactions (project_id, status, seq);
    CREATE INDEX interactions_timeout ON interactions (timeout_at) WHERE status = 'pending' AND timeout_at IS NOT NULL;
  `,
};
