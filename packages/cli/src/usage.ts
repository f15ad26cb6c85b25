/** Exit codes: scripts can tell a typo from a missing thing from a broken server. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  server: 5,
} as const;

export class UsageError extends Error {}

export const USAGE = `usage: tether <command> [options]

commands:
  serve    run the server
           --host HOST                  (default 127.0.0.1)
           --port PORT                  (default 4437; 0 picks a free port)
           --data-dir DIR               (default ./.tether)
           --postgres URL               use PostgreSQL instead of embedded SQLite
                                        (or TETHER_POSTGRES_URL)
           --pg-pool-size N             PostgreSQL connections per replica (default 10)
           --pg-statement-timeout-ms MS PostgreSQL statement timeout (default 30000; 0 = none)
           --durability fsync|relaxed   (default fsync)
           --long-poll-timeout-ms MS    (default 20000)
           --log-level LEVEL            (default info)
           --max-message-bytes N        (default 1048576)
           --turn-retries N             times a turn whose lease lapsed is queued again (default 0)
           --turn-sweep-interval-ms MS  how often lapsed leases and question timeouts are checked (default 1000)
           --retain-closed-days N       delete sessions N days after they closed (default: keep)
`;
