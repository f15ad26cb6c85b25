/**
 * Session state and files (DESIGN §4): one versioned JSON document per session
 * and a set of small files. Reads work on any session; writes only on open
 * ones. Version checks and quotas are decided by the store inside the write's
 * transaction (see `storage/session-data-types.ts`), never here, so they hold
 * across concurrent requests and replicas.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import type { FileInfo, FileRecord, Preconditions, SessionDataStore, SessionRefusal } from '../storage/session-data-types.js';
import type { SessionRecord } from '../storage/session-types.js';
import type { Clock } from './clock.js';
import { checkFilePath, decodeFileCursor, encodeFileCursor } from './file-paths.js';
import type { SessionService } from './session-service.js';

export interface SessionDataLimits {
  maxStateBytes: number;
  maxFileBytes: number;
  maxSessionFileBytes: number;
}

export interface SessionDataDeps {
  sessions: SessionService;
  data: SessionDataStore;
  clock: Clock;
  limits: SessionDataLimits;
}

/** The state as served: before the first write, the JSON `null` at version 0. */
export interface StateView {
  version: number;
  document: string;
  updatedAt: number | null;
}

export interface FileView {
  path: string;
  size: number;
  contentType: string;
  etag: string;
  createdAt: string;
  updatedAt: string;
}

/** File ETags are strong validators of the bytes, so equal content has an equal tag. */
export function fileEtag(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function fileView(file: FileInfo): FileView {
  return {
    path: file.path,
    size: file.size,
    contentType: file.contentType,
    etag: `"${file.etag}"`,
    createdAt: new Date(file.createdAt).toISOString(),
    updatedAt: new Date(file.updatedAt).toISOString(),
  };
}

export class SessionDataService {
  constructor(private readonly deps: SessionDataDeps) {}

  get limits(): SessionDataLimits {
    return this.deps.limits;
  }

  private refuse(record: SessionRecord, refusal: SessionRefusal): never {
    if (refusal.kind === 'no-session') throw new AppError('SESSION_NOT_FOUND', `no session ${record.id}`);
    const code = refusal.status === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_CLOSED';
    throw new AppError(code, `session ${record.id} is ${refusal.status}`, { sessionId: record.id });
  }

  async getState(projectId: string, ref: string): Promise<StateView> {
    const record = await this.deps.sessions.resolve(projectId, ref);
    const state = await this.deps.data.getState(record.id);
    return state ?? { version: 0, document: 'null', updatedAt: null };
  }

  /** Replaces the state with `document` (JSON text, stored as given); the new version. */
  async putState(projectId: string, ref: string, document: string, conditions: Preconditions): Promise<StateView> {
    const { maxStateBytes } = this.deps.limits;
    if (Buffer.byteLength(document) > maxStateBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `state is larger than ${maxStateBytes} bytes`, { limit: 'state', maxBytes: maxStateBytes });
    }
    try {
      JSON.parse(document);
    } catch {
      throw new AppError('INVALID_JSON', 'state must be a JSON document');
    }
    const record = await this.deps.sessions.resolve(projectId, ref);
    const outcome = await this.deps.data.putState({
      projectId,
      sessionId: record.id,
      document,
      conditions,
      now: this.deps.clock.now(),
    });
    if (outcome.kind === 'written') return outcome.state;
    if (outcome.kind === 'precondition-failed') {
      throw new AppError('PRECONDITION_FAILED', 'state has changed since that version', { currentVersion: outcome.version });
    }
    return this.refuse(record, outcome);
  }

  async getFile(projectId: string, ref: string, path: string): Promise<FileRecord> {
    const record = await this.deps.sessions.resolve(projectId, ref);
    const file = await this.deps.data.getFile(record.id, checkFilePath(path));
    if (!file) throw new AppError('FILE_NOT_FOUND', `session ${record.id} has no file ${path}`);
    return file;
  }

  async putFile(
    projectId: string,
    ref: string,
    path: string,
    body: { contentType: string; data: Buffer },
    conditions: Preconditions,
  ): Promise<{ created: boolean; file: FileView }> {
    const { maxFileBytes, maxSessionFileBytes } = this.deps.limits;
    checkFilePath(path);
    if (body.data.length > maxFileBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `a file is at most ${maxFileBytes} bytes`, { limit: 'file', maxBytes: maxFileBytes });
    }
    const record = await this.deps.sessions.resolve(projectId, ref);
    const outcome = await this.deps.data.putFile({
      projectId,
      sessionId: record.id,
      path,
      contentType: body.contentType,
      data: body.data,
      etag: fileEtag(body.data),
      conditions,
      maxSessionBytes: maxSessionFileBytes,
      now: this.deps.clock.now(),
    });
    if (outcome.kind === 'written') return { created: outcome.created, file: fileView(outcome.file) };
    if (outcome.kind === 'precondition-failed') throw new AppError('PRECONDITION_FAILED', `file ${path} does not match the precondition`);
    if (outcome.kind === 'session-full') {
      throw new AppError('PAYLOAD_TOO_LARGE', `the files of a session hold at most ${maxSessionFileBytes} bytes together`, {
        limit: 'session',
        maxBytes: maxSessionFileBytes,
        usedBytes: outcome.usedBytes,
      });
    }
    return this.refuse(record, outcome);
  }

  async deleteFile(projectId: string, ref: string, path: string): Promise<void> {
    checkFilePath(path);
    const record = await this.deps.sessions.resolve(projectId, ref);
    const outcome = await this.deps.data.deleteFile(projectId, record.id, path, this.deps.clock.now());
    if (outcome.kind === 'deleted') return;
    if (outcome.kind === 'file-not-found') throw new AppError('FILE_NOT_FOUND', `session ${record.id} has no file ${path}`);
    this.refuse(record, outcome);
  }

  async listFiles(
    projectId: string,
    ref: string,
    input: { prefix?: string; limit?: number; cursor?: string },
  ): Promise<{ data: FileView[]; nextCursor: string | null }> {
    const record = await this.deps.sessions.resolve(projectId, ref);
    const limit = input.limit ?? 100;
    const afterPath = input.cursor === undefined ? null : decodeFileCursor(input.cursor);
    // One extra row tells whether another page exists without a count query.
    const rows = await this.deps.data.listFiles({ sessionId: record.id, prefix: input.prefix ?? '', afterPath, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { data: page.map(fileView), nextCursor: rows.length > limit ? encodeFileCursor(page.at(-1)!.path) : null };
  }
}
