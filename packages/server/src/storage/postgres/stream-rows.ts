/**
 * Stream rows as PostgreSQL stores them, and the queries on them that both the
 * store and the append batch use. Callers that change a stream hold its row
 * lock (`FOR UPDATE`) for the rest of their transaction.
 */
import { createHash } from 'node:crypto';
import { POSTGRES_ROWS, streamMetaFromRow, type StreamRow } from '../row-mappers.js';
import type { StreamMeta } from '../types.js';
import type { Query } from './connection.js';

export type { StreamRow } from '../row-mappers.js';

export function toMeta(row: StreamRow): StreamMeta {
  return streamMetaFromRow(row, POSTGRES_ROWS);
}

/** The unique key a path is stored under (see migration 1). */
export function pathKey(path: string): Buffer {
  return createHash('sha256').update(path, 'utf8').digest();
}

/** A 64-bit advisory-lock key for a path, as a decimal string for `::bigint`. */
export function pathLockKey(path: string): string {
  return pathKey(path).readBigInt64BE(0).toString();
}

export type RowLock = 'none' | 'update';

export async function selectByPath(q: Query, path: string, lock: RowLock): Promise<StreamMeta | null> {
  const key = pathKey(path);
  const rows =
    lock === 'update'
      ? await q<StreamRow[]>`SELECT * FROM streams WHERE path_hash = ${key} FOR UPDATE`
      : await q<StreamRow[]>`SELECT * FROM streams WHERE path_hash = ${key}`;
  return rows.length ? toMeta(rows[0]!) : null;
}

export async function selectById(q: Query, id: number, lock: RowLock): Promise<StreamMeta | null> {
  const rows =
    lock === 'update'
      ? await q<StreamRow[]>`SELECT * FROM streams WHERE id = ${id} FOR UPDATE`
      : await q<StreamRow[]>`SELECT * FROM streams WHERE id = ${id}`;
  return rows.length ? toMeta(rows[0]!) : null;
}

export async function forkCount(q: Query, id: number): Promise<number> {
  const [row] = await q<{ n: number }[]>`SELECT count(*)::int AS n FROM streams WHERE fork_source_id = ${id}`;
  return row?.n ?? 0;
}

export async function markSoftDeleted(q: Query, id: number): Promise<void> {
  await q`UPDATE streams SET soft_deleted = true WHERE id = ${id}`;
}

/**
 * Removes a stream whose row the caller has locked and, up the fork chain,
 * sources that only it kept alive; a stream that still has forks is detached
 * from its path instead. Locks each source before counting its forks so two
 * replicas removing sibling forks cannot both leave the source behind.
 */
export async function removeStream(q: Query, meta: StreamMeta, forget: (id: number) => void): Promise<void> {
  if ((await forkCount(q, meta.id)) > 0) {
    await q`UPDATE streams SET soft_deleted = true, path = NULL, path_hash = NULL, expiry_deadline = NULL
      WHERE id = ${meta.id}`;
    return;
  }
  await Promise.all([
    q`DELETE FROM stream_rows WHERE stream_id = ${meta.id}`,
    q`DELETE FROM producers WHERE stream_id = ${meta.id}`,
    q`DELETE FROM streams WHERE id = ${meta.id}`,
  ]);
  forget(meta.id);
  if (meta.fork) {
    const source = await selectById(q, meta.fork.sourceId, 'update');
    // Only the last fork takes a soft-deleted source with it; until then the
    // source keeps its path (and answers 410), so it must not be detached.
    if (source?.softDeleted && (await forkCount(q, source.id)) === 0) await removeStream(q, source, forget);
  }
}
