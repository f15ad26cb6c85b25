/**
 * What a session file path may be, and the cursors that page file listings.
 * Paths are plain relative names so they can never climb out of their session
 * or mean two things: 1–512 characters of `A–Z a–z 0–9 . _ - /`, in
 * non-empty segments other than `.` and `..`.
 */
import { AppError } from '../errors.js';

export const MAX_FILE_PATH_LENGTH = 512;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

function invalid(reason: string, message: string): never {
  throw new AppError('INVALID_PATH', message, { reason });
}

/** Throws INVALID_PATH unless `path` is a valid session file path. */
export function checkFilePath(path: string): string {
  if (path.length === 0) invalid('empty', 'file path is empty');
  if (path.length > MAX_FILE_PATH_LENGTH) invalid('too-long', `file path is longer than ${MAX_FILE_PATH_LENGTH} characters`);
  if (path.startsWith('/')) invalid('leading-slash', 'file path may not start with /');
  for (const segment of path.split('/')) {
    if (segment === '') invalid('empty-segment', 'file path has an empty segment');
    if (segment === '.' || segment === '..') invalid('relative-segment', 'file path has a . or .. segment');
    if (!SEGMENT.test(segment)) invalid('character', 'file path may only hold A-Z a-z 0-9 . _ - and /');
  }
  return path;
}

/**
 * Decodes a file path as it appears in a URL. Each segment is decoded on its
 * own, so an encoded slash (`%2F`) cannot create a segment boundary; what
 * decodes to anything outside the allowed characters (`%2e%2e`, `%5C`, a
 * double-encoded `%252e`) is then refused by `checkFilePath`.
 */
export function decodeFilePath(raw: string): string {
  const segments = raw.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return invalid('encoding', 'file path has a malformed escape');
    }
    if (decoded.includes('/')) invalid('encoded-slash', 'file path may not contain an encoded /');
    return decoded;
  });
  return checkFilePath(segments.join('/'));
}

const CURSOR_VERSION = 1;

/** Cursors name the last path of a page; opaque to clients, checked on the way back. */
export function encodeFileCursor(lastPath: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, p: lastPath })).toString('base64url');
}

export function decodeFileCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; p?: unknown };
    if (value.v === CURSOR_VERSION && typeof value.p === 'string') return checkFilePath(value.p);
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new AppError('INVALID_CURSOR', 'cursor is malformed or was not issued by this server');
}
