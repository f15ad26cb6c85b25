/**
 * The Durable Streams protocol at `/v1/stream/*`: create, append, close,
 * delete, HEAD and reads. Handlers validate, call the stream service, and
 * translate outcomes into the protocol's statuses and headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Header, formatOffset, type ErrorCode } from '@tether/protocol';
import type { StreamService } from '../services/stream-service.js';
import { parseBody } from '../storage/stream-rules.js';
import type { AppendBody, StreamMeta } from '../storage/types.js';
import { AppError } from '../errors.js';
import { sendError } from './errors.js';
import type { LiveReaders } from './live-readers.js';
import {
  closedHeader,
  contentTypeHeader,
  expiryHeaders,
  forkHeaders,
  producerHeaders,
  queryParam,
  streamSeqHeader,
  type HeaderSource,
} from './stream-headers.js';
import { decodeStreamPath, projectStreamPath, requestStreamPath } from './stream-paths.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';
import { handleRead, type ReadLimits } from './stream-reads.js';

export interface StreamRouteOptions {
  service: StreamService;
  live: LiveReaders;
  limits: ReadLimits & { maxMessageBytes: number; maxPathLength: number };
  /** Counts acknowledged appends for /metrics. */
  onAppend?: () => void;
}

const EMPTY = Buffer.alloc(0);

export function setMetaHeaders(reply: FastifyReply, meta: StreamMeta): void {
  reply.header('content-type', meta.contentType);
  reply.header(Header.nextOffset, formatOffset(meta.tail));
  if (meta.closed) reply.header(Header.closed, 'true');
}

/** An append's answer, written by the Fastify route or by the raw fast path (append-fast-path.ts). */
export interface AppendAnswer {
  /** The success status; an error answer's status comes from its code. */
  status: number;
  headers: [string, string][];
  error?: { code: ErrorCode; message: string; details?: unknown };
}

/** Validates an append's headers, appends, and says what to answer. Bad headers throw `AppError`. */
export async function answerAppend(
  service: StreamService,
  request: HeaderSource,
  raw: Buffer,
  path: string,
  projectId: string,
  onAppend?: () => void,
): Promise<AppendAnswer> {
  const close = closedHeader(request);
  if (raw.length === 0 && !close) throw new AppError('EMPTY_BODY', 'append body is empty');
  const contentType = contentTypeHeader(request);
  const producer = producerHeaders(request);
  const body: AppendBody =
    raw.length === 0 ? { kind: 'empty' } : contentType ? parseBody(contentType, raw, 'append') : { kind: 'bytes', data: raw };
  const outcome = await service.append({ path, projectId, contentType, body, close, streamSeq: streamSeqHeader(request), producer });
  const headers: [string, string][] = [];
  const fail = (code: ErrorCode, message: string, details?: unknown): AppendAnswer => ({ status: 0, headers, error: { code, message, details } });
  switch (outcome.kind) {
    case 'appended':
    case 'duplicate':
    case 'closed': {
      const { meta } = outcome;
      headers.push([Header.nextOffset, formatOffset(meta.tail)]);
      if (meta.closed) headers.push([Header.closed, 'true']);
      if (outcome.producer) {
        headers.push([Header.producerEpoch, String(outcome.producer.epoch)], [Header.producerSeq, String(outcome.producer.seq)]);
      }
      if (outcome.kind === 'appended') onAppend?.();
      return { status: outcome.kind === 'appended' && outcome.producer ? 200 : 204, headers };
    }
    case 'not-found':
      return fail('STREAM_NOT_FOUND', 'stream not found');
    case 'gone':
      return fail('STREAM_GONE', 'stream was deleted');
    case 'stream-closed':
      headers.push([Header.closed, 'true'], [Header.nextOffset, formatOffset(outcome.meta.tail)]);
      return fail('STREAM_CLOSED', 'stream is closed');
    case 'content-type-mismatch':
      return fail('CONTENT_TYPE_MISMATCH', 'Content-Type does not match the stream');
    case 'seq-conflict':
      return fail('SEQUENCE_CONFLICT', 'Stream-Seq must be greater than the last one', { lastSeq: outcome.lastSeq });
    case 'producer-fenced':
      headers.push([Header.producerEpoch, String(outcome.currentEpoch)]);
      return fail('PRODUCER_FENCED', 'producer epoch is stale');
    case 'producer-gap':
      headers.push([Header.producerExpectedSeq, String(outcome.expected)], [Header.producerReceivedSeq, String(outcome.received)]);
      return fail('PRODUCER_SEQ_GAP', 'producer sequence gap');
    case 'bad-request':
      return fail(outcome.invalidJson ? 'INVALID_JSON' : 'BAD_REQUEST', outcome.message);
  }
}

export async function streamRoutes(app: FastifyInstance, options: StreamRouteOptions): Promise<void> {
  const { service, limits } = options;
  const pathOf = (request: FastifyRequest) => projectStreamPath(requestStreamPath(request, limits.maxPathLength), projectOf(request));

  // Stream bodies are opaque bytes of any content type (or none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const summaries = {
    PUT: 'Create a stream (idempotent), optionally closed, with an initial body, or as a fork',
    POST: 'Append to a stream; with Stream-Closed: true, close it',
    DELETE: 'Delete a stream (soft delete while forks exist)',
    HEAD: 'Stream metadata: tail offset, TTL, expiry, closed state',
    GET: 'Read from an offset: catch-up, live=long-poll or live=sse; 410 HISTORY_TRIMMED before the oldest retained offset',
  };
  const route = (method: keyof typeof summaries, handler: (r: FastifyRequest, p: FastifyReply) => Promise<unknown>) =>
    app.route({
      method,
      url: '/v1/stream/*',
      bodyLimit: limits.maxMessageBytes,
      exposeHeadRoute: false,
      config: { access: access.stream() },
      schema: { tags: ['streams'], summary: summaries[method] },
      handler,
    });

  route('PUT', async (request, reply) => {
    const path = pathOf(request);
    const fork = forkHeaders(request, (raw) => projectStreamPath(decodeStreamPath(raw, limits.maxPathLength), projectOf(request)));
    const outcome = await service.create({
      path,
      contentType: contentTypeHeader(request),
      ...expiryHeaders(request),
      closed: closedHeader(request),
      body: (request.body as Buffer | undefined) ?? EMPTY,
      fork,
    });
    switch (outcome.kind) {
      case 'created':
        setMetaHeaders(reply, outcome.meta);
        reply.header('location', `${request.protocol}://${request.headers.host ?? request.hostname}${request.url.split('?')[0]}`);
        return reply.code(201).send();
      case 'exists':
        setMetaHeaders(reply, outcome.meta);
        return reply.code(200).send();
      case 'conflict':
        return sendError(reply, 'STREAM_EXISTS', outcome.message);
      case 'source-not-found':
        return sendError(reply, 'STREAM_NOT_FOUND', 'fork source stream not found');
      case 'bad-request':
        return sendError(reply, outcome.invalidJson ? 'INVALID_JSON' : 'BAD_REQUEST', outcome.message);
    }
  });

  route('POST', async (request, reply) => {
    const body = (request.body as Buffer | undefined) ?? EMPTY;
    const answer = await answerAppend(service, request, body, pathOf(request), projectOf(request), options.onAppend);
    for (const [name, value] of answer.headers) reply.header(name, value);
    if (answer.error) return sendError(reply, answer.error.code, answer.error.message, answer.error.details);
    return reply.code(answer.status).send();
  });

  route('DELETE', async (request, reply) => {
    const outcome = await service.delete(pathOf(request));
    if (outcome.kind === 'not-found') return sendError(reply, 'STREAM_NOT_FOUND', 'stream not found');
    if (outcome.kind === 'gone') return sendError(reply, 'STREAM_GONE', 'stream was deleted');
    return reply.code(204).send();
  });

  route('HEAD', async (request, reply) => {
    const lookup = await service.lookup(pathOf(request));
    reply.header('cache-control', 'no-store');
    if (lookup.kind === 'not-found') return reply.code(404).send();
    if (lookup.kind === 'gone') return reply.code(410).send();
    const { meta } = lookup;
    setMetaHeaders(reply, meta);
    if (meta.ttlSeconds !== null) reply.header(Header.ttl, String(meta.ttlSeconds));
    if (meta.expiresAt !== null) reply.header(Header.expiresAt, new Date(meta.expiresAt).toISOString());
    return reply.code(200).send();
  });

  route('GET', async (request, reply) => {
    const path = pathOf(request);
    const live = queryParam(request, 'live');
    if (live !== undefined && live !== 'long-poll' && live !== 'sse') {
      throw new AppError('BAD_REQUEST', 'live must be long-poll or sse');
    }
    const lookup = await service.lookup(path);
    if (lookup.kind === 'not-found') return sendError(reply, 'STREAM_NOT_FOUND', 'stream not found');
    if (lookup.kind === 'gone') return sendError(reply, 'STREAM_GONE', 'stream was deleted');
    return handleRead(request, reply, lookup.meta, live ?? 'catch-up', options);
  });
}
