/**
 * The storage contract for what a session keeps beside its channels (DESIGN §4
 * "State" and "Files"): one versioned JSON document and a set of small files.
 * Writes check the session and the caller's preconditions inside the same
 * transaction that writes, so a stale `If-Match` can never overwrite a newer
 * version and nothing lands on a session that was just closed or deleted.
 */
import type { SessionStatus } from '@tether/protocol';

/**
 * Parsed `If-Match` / `If-None-Match`: `'*'`, or the opaque tags listed (quotes
 * removed). Weak tags are dropped from `ifMatch` (a weak tag never matches
 * strongly) and kept, unmarked, in `ifNoneMatch` (compared weakly).
 */
export interface Preconditions {
  ifMatch: '*' | string[] | null;
  ifNoneMatch: '*' | string[] | null;
}

export interface StateRecord {
  /** 1 for the first write, +1 for every write after. */
  version: number;
  /** The JSON text exactly as it was written. */
  document: string;
  updatedAt: number;
}

export interface FileInfo {
  path: string;
  contentType: string;
  size: number;
  /** Opaque strong validator of the bytes (a content hash). */
  etag: string;
  createdAt: number;
  updatedAt: number;
}

export interface FileRecord extends FileInfo {
  data: Buffer;
}

/** Why a write was not made: the session is gone, or no longer open. */
export type SessionRefusal = { kind: 'no-session' } | { kind: 'not-writable'; status: SessionStatus };

export type PutStateOutcome =
  | { kind: 'written'; state: StateRecord }
  /** `version` is the current one (0: nothing stored). */
  | { kind: 'precondition-failed'; version: number }
  | SessionRefusal;

export interface PutStateRequest {
  projectId: string;
  sessionId: string;
  document: string;
  conditions: Preconditions;
  now: number;
}

export interface PutFileRequest {
  projectId: string;
  sessionId: string;
  path: string;
  contentType: string;
  data: Buffer;
  etag: string;
  conditions: Preconditions;
  /** Most bytes all the session's files may hold together, this one included. */
  maxSessionBytes: number;
  now: number;
}

export type PutFileOutcome =
  | { kind: 'written'; created: boolean; file: FileInfo }
  | { kind: 'precondition-failed' }
  /** `usedBytes`: what the session's other files already hold. */
  | { kind: 'session-full'; usedBytes: number }
  | SessionRefusal;

export type DeleteFileOutcome = { kind: 'deleted' } | { kind: 'file-not-found' } | SessionRefusal;

export interface FileQuery {
  sessionId: string;
  /** Only paths starting with this (may be empty). */
  prefix: string;
  /** Only paths after this one, in byte order (paging). */
  afterPath: string | null;
  limit: number;
}

export interface SessionDataStore {
  /** The session's state, or null when none was ever written. */
  getState(sessionId: string): Promise<StateRecord | null>;
  putState(request: PutStateRequest): Promise<PutStateOutcome>;
  getFile(sessionId: string, path: string): Promise<FileRecord | null>;
  putFile(request: PutFileRequest): Promise<PutFileOutcome>;
  deleteFile(projectId: string, sessionId: string, path: string, now: number): Promise<DeleteFileOutcome>;
  /** File descriptions (no bytes), in path byte order, at most `limit`. */
  listFiles(query: FileQuery): Promise<FileInfo[]>;
}
