/**
 * Session state and files on PostgreSQL: the same semantics as
 * `sqlite/sqlite-session-data.ts`. Every write locks its session's row first,
 * so writes to one session (on any replica) are serial with each other and
 * with the session's close and delete, which lock the same row.
 */
import type { SessionStatus } from '@tether/protocol';
import { preconditionsHold, refuseWrite } from '../session-data-rules.js';
import type {
  DeleteFileOutcome,
  FileInfo,
  FileQuery,
  FileRecord,
  PutFileOutcome,
  PutFileRequest,
  PutStateOutcome,
  PutStateRequest,
  SessionDataStore,
  SessionRefusal,
  StateRecord,
} from '../session-data-types.js';
import { guarded, transaction, type Db, type Tx } from './connection.js';
import { fileFromRow, type FileRow } from '../row-mappers.js';

export class PostgresSessionData implements SessionDataStore {
  constructor(private readonly db: Db) {}

  /** Locks the session's row for the rest of the transaction; the refusal, if any. */
  private async lockSession(tx: Tx, projectId: string, sessionId: string, now: number): Promise<SessionRefusal | null> {
    const [session] = await tx<{ status: SessionStatus; expiresAt: number | null }[]>`
      SELECT status, expires_at AS "expiresAt" FROM sessions WHERE project_id = ${projectId} AND id = ${sessionId} FOR UPDATE`;
    return refuseWrite(session ?? null, now);
  }

  private async state(q: Db | Tx, sessionId: string): Promise<StateRecord | null> {
    const [row] = await q<StateRecord[]>`SELECT version, document, updated_at AS "updatedAt"
      FROM session_state WHERE session_id = ${sessionId}`;
    return row ?? null;
  }

  getState(sessionId: string): Promise<StateRecord | null> {
    return guarded(this.state(this.db, sessionId));
  }

  putState(request: PutStateRequest): Promise<PutStateOutcome> {
    return transaction(this.db, async (tx): Promise<PutStateOutcome> => {
      const refusal = await this.lockSession(tx, request.projectId, request.sessionId, request.now);
      if (refusal) return refusal;
      const current = await this.state(tx, request.sessionId);
      const version = current?.version ?? 0;
      if (!preconditionsHold(request.conditions, { tag: String(version), exists: current !== null })) {
        return { kind: 'precondition-failed', version };
      }
      await tx`INSERT INTO session_state (session_id, version, document, updated_at)
        VALUES (${request.sessionId}, ${version + 1}, ${request.document}, ${request.now})
        ON CONFLICT (session_id) DO UPDATE SET version = excluded.version, document = excluded.document,
        updated_at = excluded.updated_at`;
      return { kind: 'written', state: { version: version + 1, document: request.document, updatedAt: request.now } };
    });
  }

  async getFile(sessionId: string, path: string): Promise<FileRecord | null> {
    const [row] = await guarded(
      this.db<FileRow[]>`SELECT path, content_type, size, etag, created_at, updated_at, data
        FROM session_files WHERE session_id = ${sessionId} AND path = ${path}`,
    );
    return row ? { ...fileFromRow(row), data: row.data! } : null;
  }

  putFile(request: PutFileRequest): Promise<PutFileOutcome> {
    return transaction(this.db, async (tx): Promise<PutFileOutcome> => {
      const { sessionId, path } = request;
      const refusal = await this.lockSession(tx, request.projectId, sessionId, request.now);
      if (refusal) return refusal;
      const [existing] = await tx<{ etag: string }[]>`SELECT etag FROM session_files
        WHERE session_id = ${sessionId} AND path = ${path}`;
      if (!preconditionsHold(request.conditions, { tag: existing?.etag ?? null, exists: existing !== undefined })) {
        return { kind: 'precondition-failed' };
      }
      // sum() of bigint is numeric, which the driver would return as a string.
      const [usage] = await tx<{ used: number }[]>`SELECT coalesce(sum(size), 0)::bigint AS used
        FROM session_files WHERE session_id = ${sessionId} AND path <> ${path}`;
      const used = usage!.used;
      if (used + request.data.length > request.maxSessionBytes) return { kind: 'session-full', usedBytes: used };
      const [row] = await tx<FileRow[]>`INSERT INTO session_files
          (session_id, path, content_type, size, etag, created_at, updated_at, data)
        VALUES (${sessionId}, ${path}, ${request.contentType}, ${request.data.length}, ${request.etag}, ${request.now},
          ${request.now}, ${request.data})
        ON CONFLICT (session_id, path) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
          etag = excluded.etag, updated_at = excluded.updated_at, data = excluded.data
        RETURNING path, content_type, size, etag, created_at, updated_at`;
      return { kind: 'written', created: existing === undefined, file: fileFromRow(row!) };
    });
  }

  deleteFile(projectId: string, sessionId: string, path: string, now: number): Promise<DeleteFileOutcome> {
    return transaction(this.db, async (tx): Promise<DeleteFileOutcome> => {
      const refusal = await this.lockSession(tx, projectId, sessionId, now);
      if (refusal) return refusal;
      const result = await tx`DELETE FROM session_files WHERE session_id = ${sessionId} AND path = ${path}`;
      return result.count ? { kind: 'deleted' } : { kind: 'file-not-found' };
    });
  }

  async listFiles(query: FileQuery): Promise<FileInfo[]> {
    const rows = await guarded(
      this.db<FileRow[]>`SELECT path, content_type, size, etag, created_at, updated_at FROM session_files
        WHERE session_id = ${query.sessionId} AND path > ${query.afterPath ?? ''}
          AND left(path, ${query.prefix.length}) = ${query.prefix}
        ORDER BY path LIMIT ${query.limit}`,
    );
    return rows.map(fileFromRow);
  }
}
