/** PostgreSQL migration 3: session state and files; mirrors SQLite migration 3. */
export const postgresSessionDataMigration = {
  version: 3,
  name: 'session-state-files',
  sql: `
    CREATE TABLE session_state (
      session_id text COLLATE "C" PRIMARY KEY,
      version bigint NOT NULL,
      -- text, not jsonb: the document is returned exactly as it was written.
      document text NOT NULL,
      updated_at bigint NOT NULL
    );
    CREATE TABLE session_files (
      session_id text COLLATE "C" NOT NULL,
      -- "C": listing pages in byte order, as on SQLite.
      path text COLLATE "C" NOT NULL,
      content_type text NOT NULL,
      size bigint NOT NULL,
      etag text NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (session_id, path)
    );
    -- Out of line and uncompressed: files are often compressed already, and
    -- listing or summing sizes then never touches the bytes.
    ALTER TABLE session_files ALTER COLUMN data SET STORAGE EXTERNAL;
  `,
};
