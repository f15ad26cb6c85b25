/** Exit codes: scripts can tell a typo from a missing thing from a broken server. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  server: 5,
  unauthorized: 6,
} as const;

export class UsageError extends Error {}

export const USAGE = `usage: tether <command> [options]

server:
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
           --cors-origin ORIGIN         a browser origin allowed to read responses; repeatable, * for any
                                        (or TETHER_CORS_ORIGINS, comma-separated; default none)
           --rate-limit N               requests per second per credential (default 1000; 0 = off)
           --rate-limit-burst N         requests a credential may make at once (default 2000)
           --max-live-readers-per-key N open long-poll/SSE/claim requests per credential (default 200)
           --insecure-no-auth           turn authentication off (loopback --host only; says so loudly)
           --retain-closed-days N       delete sessions N days after they closed (default: keep)
           --retain-out-days N          delete out-channel events N days after they were appended;
                                        reads of a trimmed offset get 410 (default: keep)

sessions (<ref> is a session id, ses_…, or its externalId):
  sessions ls [--status S]... [--agent A] [--type T] [--tag T]... [--parent ID] [--limit N | --all]
  sessions get <ref>
  sessions create [--title T] [--agent A] [--model M] [--type T] [--tag T]... [--external-id X] [--parent ID]
  sessions close <ref> [--reason TEXT]
  sessions rm <ref>
  sessions fork <ref> [--offset OFFSET] [--title T]
  tail <ref> [--channel out|in] [--from OFFSET] [--no-follow]
                                replays the channel, then follows it until the session closes
  send <ref> <text> [--policy reject|enqueue|interrupt] [--idempotency-key K]
  respond <ref> <interactionId> <answer> [--deny]
                                approvals take yes/no, forms a JSON object, the rest text
  inbox [--limit N | --all]     pending questions across sessions
  search <query> [--agent A] [--tool T] [--status S] [--tag T]... [--type T]
                 [--created-after ISO] [--created-before ISO] [--limit N]
  import <file|dir> [--partial] JSONL transcripts (a directory: every .jsonl in it); progress on stderr
  export <ref> [--format jsonl|json] [-o FILE]
  keys create [--name N] [--role admin|runner|client]
  keys ls
  keys revoke <id>

options of every command but serve:
  --url URL        the server (or TETHER_URL; default http://127.0.0.1:4437)
  --api-key KEY    the credential (or TETHER_API_KEY; else the admin key in <data-dir>/admin-key)
  --data-dir DIR   where a local server keeps its data (default ./.tether)
  --json           one JSON object per line instead of text for people

exit codes: 0 ok, 1 other failure, 2 usage (or input the server rejected), 3 not found,
            4 conflict, 5 server error or unreachable, 6 credential missing or refused
`;
