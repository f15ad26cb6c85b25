/**
 * PostgreSQL for tests: a scratch database per test file, and a guard that
 * refuses to skip in CI. Tests use a real server (never a mock), found at
 * `TETHER_TEST_POSTGRES_URL` or the local default with trust auth.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const ADMIN_URL = process.env.TETHER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any connections still open to it. */
  drop(): Promise<void>;
}

/** A URL for database `name` on the same server as `ADMIN_URL`. */
export function databaseUrl(name: string, base = ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

function admin() {
  return postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
}

/** Null when PostgreSQL answers, otherwise why not. */
export async function postgresUnreachable(): Promise<string | null> {
  const sql = admin();
  try {
    await sql`SELECT 1`;
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Whether this file's PostgreSQL tests can run. Unreachable in CI is an
 * error (tests must never skip there); locally it is a loud warning and the
 * caller skips its suites.
 */
export async function requirePostgres(suite: string): Promise<boolean> {
  const reason = await postgresUnreachable();
  if (reason === null) return true;
  if (process.env.CI) throw new Error(`PostgreSQL is required in CI but ${ADMIN_URL} is unreachable: ${reason}`);
  process.stderr.write(
    `\n*** PostgreSQL tests SKIPPED: ${suite}: cannot reach ${ADMIN_URL} (${reason}). ` +
      `Start PostgreSQL or set TETHER_TEST_POSTGRES_URL. ***\n\n`,
  );
  return false;
}

export async function createScratchDatabase(prefix = 'tether_test'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const sql = admin();
  try {
    await sql`CREATE DATABASE ${sql(name)}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      const dropper = admin();
      try {
        await dropper`DROP DATABASE IF EXISTS ${dropper(name)} WITH (FORCE)`;
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}
