import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { DEFAULT_PROJECT } from '../services/projects.js';
import { memoized } from '../memo.js';

export const STREAM_PREFIX = '/v1/stream/';

/**
 * Decodes a stream URL path into the key streams are stored under. Rejects
 * what could alias another stream or confuse a log: bad escapes, control
 * characters, empty, `.` and `..` segments, and over-long paths.
 */
export function decodeStreamPath(raw: string, maxLength: number): string {
  const { path, problem } = decoded(raw);
  if (path.length > maxLength) throw new AppError('PATH_TOO_LONG', `stream path is longer than ${maxLength} characters`);
  if (problem) throw new AppError('BAD_REQUEST', problem);
  return path;
}

/** A URL path decoded, and what is wrong with its name if anything; throws on a malformed escape. */
const decoded = memoized((raw: string): { path: string; problem: string | null } => {
  let path = raw.startsWith(STREAM_PREFIX) ? raw : STREAM_PREFIX + raw.replace(/^\/+/, '');
  if (path.includes('%')) {
    try {
      path = path
        .split('/')
        .map((segment) => decodeURIComponent(segment))
        .join('/');
    } catch {
      throw new AppError('BAD_REQUEST', 'stream path has a malformed escape');
    }
  }
  const name = path.slice(STREAM_PREFIX.length);
  // eslint-disable-next-line no-control-regex
  if (name === '' || /[\u0000-\u001f\u007f]/.test(name)) return { path, problem: 'invalid stream path' };
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return { path, problem: 'stream path has an empty or relative segment' };
  }
  return { path, problem: null };
}, 4096);

export function requestStreamPath(request: FastifyRequest, maxLength: number): string {
  const raw = request.url.split('?')[0]!;
  return decodeStreamPath(raw, maxLength);
}

/** Raw streams of projects other than the default one are kept under this first segment. */
const PROJECT_NAMESPACE = '.projects';

/**
 * The key a project's raw stream is stored under: the default project's
 * streams keep their own paths (so data from before projects stays where it
 * was); other projects' go under `.projects/{id}/`, which no request may name.
 * Session channels are global paths: their session decides who may use them.
 */
export function projectStreamPath(path: string, projectId: string): string {
  const name = path.slice(STREAM_PREFIX.length);
  if (name === PROJECT_NAMESPACE || name.startsWith(`${PROJECT_NAMESPACE}/`)) {
    throw new AppError('FORBIDDEN', `stream paths starting with ${PROJECT_NAMESPACE}/ are reserved`);
  }
  if (projectId === DEFAULT_PROJECT || name.startsWith('sessions/')) return path;
  return `${STREAM_PREFIX}${PROJECT_NAMESPACE}/${projectId}/${name}`;
}
