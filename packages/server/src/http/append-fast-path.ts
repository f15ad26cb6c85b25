/**
 * Appends are most of what a busy server answers, so `POST /v1/stream/...`
 * skips Fastify. It has two entries: a request listener in front of
 * Fastify's, for requests Node has parsed, and `answer`, for appends read
 * straight off a connection (`wire-appends.ts`). Either way it does what the
 * route and its hooks do — security and CORS headers,
 * authentication with its rate limit, the body limit, the append, error
 * answers, metrics and the debug log line — without Fastify's request and
 * reply objects, hook runners and content-type parsing, which cost about as
 * much per append as the fsynced write itself.
 *
 * Anything unusual goes to Fastify instead, so it is answered exactly as
 * before: a query string or fragment, a percent-escape (Fastify's router
 * decides what a malformed one gets), a URL longer than the router takes, a
 * content type that is not a plain media type, or a server that is closing.
 * The Fastify route stays registered: it answers those, and the OpenAPI
 * description and the access-rule checks see it.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ERROR_CODES, type ErrorCode } from '@tether/protocol';
import { AppError } from '../errors.js';
import type { StreamService } from '../services/stream-service.js';
import type { Authenticator } from './authenticate.js';
import type { Metrics } from './metrics.js';
import type { SecurityHeaders } from './security.js';
import { STREAM_PREFIX, decodeStreamPath, projectStreamPath } from './stream-paths.js';
import { answerAppend, type AppendAnswer } from './stream-routes.js';

export interface AppendFastPathDeps {
  service: StreamService;
  authenticator: Authenticator;
  security: SecurityHeaders;
  metrics: Metrics;
  logger: Logger;
  maxMessageBytes: number;
  maxPathLength: number;
  /** Fastify's router takes wildcard values up to this many characters; longer URLs are its to answer. */
  maxParamLength: number;
  isClosing: () => boolean;
  onAppend: () => void;
}

/** The route's URL as Fastify reports it, so metrics label both paths alike. */
const ROUTE = '/v1/stream/*';
const EMPTY = Buffer.alloc(0);
/**
 * Content types the fast path takes. Fastify refuses a body whose media type
 * it cannot parse (415) before the route runs; every other header goes to it
 * so that refusal stays its own.
 */
const PLAIN_MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\s*(;.*)?$/i;

/**
 * What the append handler needs of a response. Node's `ServerResponse` has
 * it, and so does the reply the connection-level path writes itself
 * (`wire-appends.ts`).
 */
export interface AppendReply {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: string | number): unknown;
  hasHeader(name: string): boolean;
  end(body?: string): unknown;
  destroy(): unknown;
}

/** An append request whose head has been read: the URL has passed `takes`. */
export interface AppendRequest {
  url: string;
  headers: IncomingHttpHeaders;
}

export interface AppendFastPath {
  /** Answers the request and returns true, or returns false and leaves it to Fastify. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether a request with this method, URL and Content-Type is one the path answers (false while closing). */
  takes(method: string, url: string, contentType: string | undefined): boolean;
  /** Answers a request whose whole body was read already; settles once `reply` has been ended or destroyed. */
  answer(request: AppendRequest, body: Buffer, reply: AppendReply): Promise<void>;
  /** Requests it has taken, by either entry (tests use it to show the path is in use). */
  readonly taken: number;
}

export function appendFastPath(deps: AppendFastPathDeps): AppendFastPath {
  const maxUrl = STREAM_PREFIX.length + deps.maxParamLength;
  const debug = deps.logger.isLevelEnabled('debug');

  const finish = (status: number, started: number, url: string): void => {
    deps.metrics.observe('POST', ROUTE, status, (performance.now() - started) / 1000);
    if (debug) deps.logger.debug({ method: 'POST', url, status }, 'request');
  };

  const sendError = (res: AppendReply, code: ErrorCode, message: string, details?: unknown): void => {
    const error = details === undefined ? { code, message } : { code, message, details };
    if (ERROR_CODES[code] === 503 && !res.hasHeader('retry-after')) res.setHeader('retry-after', '1');
    const body = JSON.stringify({ error });
    res.statusCode = ERROR_CODES[code];
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  };

  const send = (res: AppendReply, answer: AppendAnswer): void => {
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    if (answer.error) return sendError(res, answer.error.code, answer.error.message, answer.error.details);
    res.statusCode = answer.status;
    if (answer.status !== 204) res.setHeader('content-length', '0');
    res.end();
  };

  /** Reads the body up to the limit; null when it was too large (and answered) or the client went away. */
  const readBody = (req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > deps.maxMessageBytes) {
      sendError(res, 'PAYLOAD_TOO_LARGE', 'request body is too large');
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > deps.maxMessageBytes) {
          cleanup();
          sendError(res, 'PAYLOAD_TOO_LARGE', 'request body is too large');
          resolve(null);
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      };
      const onGone = () => {
        cleanup();
        resolve(null);
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('aborted', onGone);
        req.off('error', onGone);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('aborted', onGone);
      req.on('error', onGone);
    });
  };

  /** Everything after the request head: `body` reads the body once the request is admitted. */
  const handle = async (req: AppendRequest, res: AppendReply, body: () => Buffer | null | Promise<Buffer | null>): Promise<void> => {
    deps.security(req, res);
    try {
      const admission = await deps.authenticator.admit({ method: 'POST', url: req.url, headers: req.headers }, { kind: 'stream' });
      if ('denied' in admission) {
        const { denied } = admission;
        // A bare 404 is only ever a HEAD's answer; a POST's denials carry an error code.
        if ('bare' in denied) return sendError(res, 'STREAM_NOT_FOUND', 'stream not found');
        for (const [name, value] of Object.entries(denied.headers ?? {})) res.setHeader(name, value);
        return sendError(res, denied.code, denied.message);
      }
      const raw = await body();
      if (raw === null) return;
      const projectId = admission.principal.projectId;
      const path = projectStreamPath(decodeStreamPath(req.url, deps.maxPathLength), projectId);
      send(res, await answerAppend(deps.service, req, raw, path, projectId, deps.onAppend));
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof AppError) return sendError(res, error.code, error.message, error.details);
      deps.logger.error({ err: error }, 'request failed');
      sendError(res, 'INTERNAL', 'internal error');
    }
  };

  const takes = (method: string, url: string, contentType: string | undefined): boolean =>
    method === 'POST' &&
    url.startsWith(STREAM_PREFIX) &&
    url.length <= maxUrl &&
    !url.includes('?') &&
    !url.includes('#') &&
    !url.includes('%') &&
    (contentType === undefined || PLAIN_MEDIA_TYPE.test(contentType)) &&
    !deps.isClosing();

  let taken = 0;
  const listener = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (url === undefined || !takes(req.method ?? '', url, req.headers['content-type'])) return false;
    taken++;
    const started = performance.now();
    res.once('finish', () => finish(res.statusCode, started, url));
    void handle({ url, headers: req.headers }, res, () => readBody(req, res));
    return true;
  };
  const answer = async (request: AppendRequest, body: Buffer, reply: AppendReply): Promise<void> => {
    taken++;
    const started = performance.now();
    // Bodies over the limit never come this way: the connection hands such requests to Node.
    await handle(request, reply, () => body);
    finish(reply.statusCode, started, request.url);
  };
  return Object.defineProperties(listener, {
    taken: { get: () => taken },
    takes: { value: takes },
    answer: { value: answer },
  }) as AppendFastPath;
}
