/**
 * Reading streams: catch-up, long-poll and SSE. All three read from the store
 * by position; live modes wait on the notifier for the stream they read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Header, START_OFFSET_SENTINEL, formatOffset } from '@tether/protocol';
import type { StreamService } from '../services/stream-service.js';
import { isJsonContentType, mediaType } from '../storage/stream-rules.js';
import type { ReadResult, StreamMeta } from '../storage/types.js';
import { nextCursor } from './cursor.js';
import { AppError } from '../errors.js';
import { sendError } from './errors.js';
import type { LiveReaders } from './live-readers.js';
import { parseOffsetValue, queryParam } from './stream-headers.js';
import { SseWriter } from './sse.js';
import { HistoryTrimmedError } from '../storage/store-errors.js';

export interface ReadLimits {
  /** Largest body one catch-up or long-poll response carries. */
  maxReadBytes: number;
  longPollTimeoutMs: number;
  sseKeepAliveMs: number;
  /** SSE responses end after this long so CDNs can collapse reconnects. */
  sseMaxDurationMs: number;
}

interface ReadContext {
  service: StreamService;
  live: LiveReaders;
  limits: ReadLimits;
}

const OPEN_BRACKET = Buffer.from('[');
const CLOSE_BRACKET = Buffer.from(']');
const COMMA = Buffer.from(',');

function encodeBody(meta: StreamMeta, result: ReadResult): Buffer {
  if (result.joined) return Buffer.concat([OPEN_BRACKET, result.joined, CLOSE_BRACKET]);
  const items = result.items;
  if (!isJsonContentType(meta.contentType)) return items.length === 1 ? items[0]! : Buffer.concat(items);
  const parts: Buffer[] = [OPEN_BRACKET];
  items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  });
  parts.push(CLOSE_BRACKET);
  return Buffer.concat(parts);
}

/** 410 `HISTORY_TRIMMED`, naming where the retained history now starts. */
function trimmed(retained: number): AppError {
  return new AppError('HISTORY_TRIMMED', 'the requested offset lies before the retained history', {
    earliestOffset: formatOffset(retained),
  });
}

/**
 * Where a read starts. `-1` (or no offset) is the oldest retained position;
 * an offset before it was trimmed away and is answered with 410.
 */
async function startPosition(request: FastifyRequest, meta: StreamMeta, required: boolean, service: StreamService): Promise<number> {
  const raw = queryParam(request, 'offset');
  if (raw === undefined) {
    if (required) throw new AppError('INVALID_OFFSET', 'offset is required for live reads');
    return service.retainedFrom(meta);
  }
  const offset = parseOffsetValue(raw, 'offset');
  if (offset.kind === 'start') return service.retainedFrom(meta);
  const position = offset.kind === 'now' ? meta.tail : offset.position;
  if (position > meta.tail) throw new AppError('INVALID_OFFSET', 'offset is beyond the end of the stream');
  // At or past a fork point only the stream's own trim point matters, and it
  // is in the metadata: the common live read of a fork asks its sources nothing.
  const retained = meta.fork && position < meta.fork.position ? await service.retainedFrom(meta) : meta.trimmedTo;
  if (position < retained) throw trimmed(retained);
  return position;
}

/** Attempts a read from the oldest retained position makes before it gives up on a sweeper that keeps trimming. */
const START_ATTEMPTS = 3;

/**
 * A read that the sweeper overtook (it trimmed past `position` since the
 * check) answers 410 too — unless it asked for the oldest retained position
 * (`-1`), which it then gets: the read starts again where history now starts.
 */
async function readRetained(
  ctx: ReadContext,
  meta: StreamMeta,
  position: number,
  fromStart: boolean,
): Promise<{ result: ReadResult; position: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await ctx.service.read(meta, position, ctx.limits.maxReadBytes), position };
    } catch (error) {
      if (!(error instanceof HistoryTrimmedError)) throw error;
      const current = (await ctx.service.refresh(meta)) ?? meta;
      const retained = await ctx.service.retainedFrom(current);
      if (!fromStart || attempt >= START_ATTEMPTS || retained <= position) throw trimmed(Math.max(retained, position));
      position = retained;
    }
  }
}

/** No offset, or `-1`: the oldest retained position, wherever that is by the time the rows are read. */
function isStartRequest(request: FastifyRequest): boolean {
  const offset = (request.query as Record<string, unknown>).offset;
  return offset === undefined || offset === START_OFFSET_SENTINEL;
}

function isNowRequest(request: FastifyRequest): boolean {
  return (request.query as Record<string, unknown>).offset === 'now';
}

export async function handleRead(
  request: FastifyRequest,
  reply: FastifyReply,
  meta: StreamMeta,
  mode: 'catch-up' | 'long-poll' | 'sse',
  ctx: ReadContext,
): Promise<unknown> {
  const position = await startPosition(request, meta, mode !== 'catch-up', ctx.service);
  ctx.service.touch(meta);
  if (mode === 'sse') return streamSse(request, reply, meta, position, ctx);
  if (mode === 'long-poll') return longPoll(request, reply, meta, position, ctx);
  const read = await readRetained(ctx, meta, position, isStartRequest(request));
  return sendChunk(request, reply, meta, read.position, read.result, { live: false, now: isNowRequest(request) });
}

function sendChunk(
  request: FastifyRequest,
  reply: FastifyReply,
  meta: StreamMeta,
  from: number,
  result: ReadResult,
  mode: { live: boolean; now: boolean },
): FastifyReply {
  const upToDate = result.next >= meta.tail;
  const closedAtEnd = upToDate && meta.closed;
  reply.header('content-type', meta.contentType);
  reply.header(Header.nextOffset, formatOffset(result.next));
  if (upToDate) reply.header(Header.upToDate, 'true');
  if (closedAtEnd) reply.header(Header.closed, 'true');
  if (!closedAtEnd) reply.header(Header.cursor, nextCursor(Date.now(), queryParam(request, 'cursor')));
  if (mode.now) {
    reply.header('cache-control', 'no-store');
  } else {
    // The same range can be the tail now and a budget-cut chunk later (when a
    // message too big for the budget follows); the tag must tell them apart.
    const etag = `"${meta.id}:${from}:${result.next}${closedAtEnd ? ':c' : upToDate ? ':u' : ''}"`;
    reply.header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    // Data chunks never change and may be cached; an empty tail answer may not.
    reply.header('cache-control', result.next > from ? 'private, max-age=60, stale-while-revalidate=300' : 'no-store');
  }
  if (mediaType(meta.contentType) === 'application/octet-stream') reply.header('content-disposition', 'attachment');
  return reply.code(200).send(encodeBody(meta, result));
}

async function longPoll(
  request: FastifyRequest,
  reply: FastifyReply,
  meta: StreamMeta,
  position: number,
  ctx: ReadContext,
): Promise<unknown> {
  const { service, limits } = ctx;
  let current = meta;
  if (position >= current.tail && !current.closed) {
    const controller = ctx.live.start((listener) => reply.raw.on('close', listener));
    try {
      await service.waitForChange(current, position, limits.longPollTimeoutMs, controller.signal);
    } finally {
      ctx.live.finish(controller);
    }
    const refreshed = await service.refresh(current);
    if (!refreshed) return sendError(reply, 'STREAM_NOT_FOUND', 'stream was deleted');
    current = refreshed;
  }
  if (position < current.tail) {
    const read = await readRetained(ctx, current, position, isStartRequest(request));
    return sendChunk(request, reply, current, read.position, read.result, { live: true, now: false });
  }
  reply.header(Header.nextOffset, formatOffset(current.tail));
  reply.header(Header.upToDate, 'true');
  reply.header('cache-control', 'no-store');
  if (current.closed) reply.header(Header.closed, 'true');
  else reply.header(Header.cursor, nextCursor(Date.now(), queryParam(request, 'cursor')));
  return reply.code(204).send();
}

async function streamSse(
  request: FastifyRequest,
  reply: FastifyReply,
  meta: StreamMeta,
  start: number,
  ctx: ReadContext,
): Promise<void> {
  const { service, limits } = ctx;
  const binary = !isJsonContentType(meta.contentType) && !mediaType(meta.contentType).startsWith('text/');
  const clientCursor = queryParam(request, 'cursor');
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...(binary ? { [Header.sseDataEncoding]: 'base64' } : {}),
  });
  res.flushHeaders();
  const sse = new SseWriter(res);
  const controller = ctx.live.start((listener) => res.on('close', listener));
  const untrack = ctx.live.track(res);
  const deadline = Date.now() + limits.sseMaxDurationMs;
  let current: StreamMeta | null = meta;
  let position = start;
  let announcedUpToDate = false;
  // A reader from `-1` that a trim overtakes before it was sent anything starts again at the new head.
  let restartable = isStartRequest(request);
  let restarts = 0;

  const controlPayload = (m: StreamMeta, upToDate: boolean): string => {
    restartable = false;
    const closed = upToDate && m.closed;
    const payload: Record<string, unknown> = { streamNextOffset: formatOffset(position) };
    if (!closed) payload.streamCursor = nextCursor(Date.now(), clientCursor);
    if (upToDate) payload.upToDate = true;
    if (closed) payload.streamClosed = true;
    return JSON.stringify(payload);
  };
  const control = (m: StreamMeta, upToDate: boolean) => sse.event('control', controlPayload(m, upToDate));

  try {
    while (current && !sse.closed) {
      if (position < current.tail) {
        let result: ReadResult;
        try {
          result = await service.read(current, position, limits.maxReadBytes);
        } catch (error) {
          if (!(error instanceof HistoryTrimmedError) || !restartable || ++restarts >= START_ATTEMPTS) throw error;
          current = await service.refresh(current);
          if (current) position = Math.max(position, await service.retainedFrom(current));
          continue;
        }
        position = result.next;
        const data = binary ? Buffer.concat(result.items).toString('base64') : encodeBody(current, result).toString('utf8');
        const upToDate = position >= current.tail;
        // With its control event in the same write, a reader never holds data without the offset after it.
        sse.events([
          ['data', data],
          ['control', controlPayload(current, upToDate)],
        ]);
        announcedUpToDate = upToDate;
        if (upToDate && current.closed) break;
        await sse.drained(controller.signal);
        if (!upToDate) continue;
      } else if (current.closed) {
        control(current, true);
        break;
      } else if (!announcedUpToDate) {
        control(current, true);
        announcedUpToDate = true;
      }
      if (controller.signal.aborted) {
        if (ctx.live.isDraining) control(current, position >= current.tail);
        break;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const waited = await service.waitForChange(current, position, Math.min(limits.sseKeepAliveMs, remaining), controller.signal);
      if (waited === 'timeout') sse.comment('keep-alive');
      current = await service.refresh(current);
    }
  } catch (error) {
    // Trimmed past a slow reader: end the stream; reconnecting at the last
    // control offset is answered with 410.
    if (!(error instanceof HistoryTrimmedError)) request.log.error({ err: error }, 'sse reader failed');
  } finally {
    ctx.live.finish(controller);
    untrack();
    sse.end();
  }
}
