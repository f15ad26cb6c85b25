/**
 * Session state and files on SQLite. Writes run in the store's write batches,
 * which are serial, so the check of the session, the preconditions and the
 * quota cannot race the write that follows them.
 */
import type Database from 'better-sqlite3';
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
  StateRecord,
} from '../session-data-types.js';
import type { WriteBatcher } from './write-batcher.js';
import { fileFromRow, type FileRow } from '../row-mappers.js';

const INFO_COLUMNS = 'path, content_type, size, etag, created_at, updated_at';

export class SqliteSessionData implements SessionDataStore {
  private readonly sql;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: WriteBatcher,
  ) {
    this.sql = {
      session: db.prepare('SELECT status, expires_at AS expiresAt FROM sessions WHERE project_id = ? AND id = ?'),
      state: db.prepare('SELECT version, document, updated_at AS updatedAt FROM session_state WHERE session_id = ?'),
      upsertState: db.prepare(`INSERT INTO session_state (session_id, version, document, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (session_id) DO UPDATE SET version = excluded.version, document = excluded.document,
        updated_at = excluded.updated_at`),
      file: db.prepare(`SELECT ${INFO_COLUMNS}, data FROM session_files WHERE session_id = ? AND path = ?`),
      fileInfo: db.prepare(`SELECT ${INFO_COLUMNS} FROM session_files WHERE session_id = ? AND path = ?`),
      usedBytes: db.prepare('SELECT coalesce(sum(size), 0) AS used FROM session_files WHERE session_id = ? AND path <> ?'),
      upsertFile: db.prepare(`INSERT INTO session_files (session_id, path, content_type, size, etag, created_at, updated_at, data)
        VALUES (@sessionId, @path, @contentType, @size, @etag, @now, @now, @data)
        ON CONFLICT (session_id, path) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
        etag = excluded.etag, updated_at = excluded.updated_at, data = excluded.data`),
      deleteFile: db.prepare('DELETE FROM session_files WHERE session_id = ? AND path = ?'),
      list: db.prepare(`SELECT ${INFO_COLUMNS} FROM session_files WHERE session_id = @sessionId AND path > @after
        AND substr(path, 1, length(@prefix)) = @prefix ORDER BY path LIMIT @limit`),
    };
  }

  private refusal(projectId: string, sessionId: string, now: number) {
    const session = this.sql.session.get(projectId, sessionId) as { status: SessionStatus; expiresAt: number | null } | undefined;
    return refuseWrite(session ?? null, now);
  }

  getState(sessionId: string): Promise<StateRecord | null> {
    return this.writes.read(() => (this.sql.state.get(sessionId) as StateRecord | undefined) ?? null);
  }

  putState(request: PutStateRequest): Promise<PutStateOutcome> {
    return this.writes.submit((): PutStateOutcome => {
      const refusal = this.refusal(request.projectId, request.sessionId, request.now);
      if (refusal) return refusal;
      const current = this.sql.state.get(request.sessionId) as StateRecord | undefined;
      const version = current?.version ?? 0;
      if (!preconditionsHold(request.conditions, { tag: String(version), exists: current !== undefined })) {
        return { kind: 'precondition-failed', version };
      }
      this.sql.upsertState.run(request.sessionId, version + 1, request.document, request.now);
      return { kind: 'written', state: { version: version + 1, document: request.document, updatedAt: request.now } };
    });
  }

  getFile(sessionId: string, path: string): Promise<FileRecord | null> {
    return this.writes.read(() => {
      const row = this.sql.file.get(sessionId, path) as FileRow | undefined;
      return row ? { ...fileFromRow(row), data: row.data! } : null;
    });
  }

  putFile(request: PutFileRequest): Promise<PutFileOutcome> {
    return this.writes.submit((): PutFileOutcome => {
      const refusal = this.refusal(request.projectId, request.sessionId, request.now);
      if (refusal) return refusal;
      const existing = this.sql.fileInfo.get(request.sessionId, request.path) as FileRow | undefined;
      if (!preconditionsHold(request.conditions, { tag: existing?.etag ?? null, exists: existing !== undefined })) {
        return { kind: 'precondition-failed' };
      }
      const { used } = this.sql.usedBytes.get(request.sessionId, request.path) as { used: number };
      if (used + request.data.length > request.maxSessionBytes) return { kind: 'session-full', usedBytes: used };
      const { sessionId, path, contentType, etag, now, data } = request;
      this.sql.upsertFile.run({ sessionId, path, contentType, size: data.length, etag, now, data });
      const file = fileFromRow(this.sql.fileInfo.get(request.sessionId, request.path) as FileRow);
      return { kind: 'written', created: existing === undefined, file };
    });
  }

  deleteFile(projectId: string, sessionId: string, path: string, now: number): Promise<DeleteFileOutcome> {
    return this.writes.submit((): DeleteFileOutcome => {
      const refusal = this.refusal(projectId, sessionId, now);
      if (refusal) return refusal;
      return this.sql.deleteFile.run(sessionId, path).changes ? { kind: 'deleted' } : { kind: 'file-not-found' };
    });
  }

  listFiles(query: FileQuery): Promise<FileInfo[]> {
    return this.writes.read(() => {
      const rows = this.sql.list.all({ ...query, after: query.afterPath ?? '' }) as FileRow[];
      return rows.map(fileFromRow);
    });
  }
}
