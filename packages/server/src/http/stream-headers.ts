/**
 * Parses and validates the protocol's request headers and query parameters.
 * Every function throws `AppError` with a stable code on bad input, so a
 * handler either gets clean values or the request is rejected untouched.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { Header, NOW_OFFSET_SENTINEL, START_OFFSET_SENTINEL, parseOffset } from '@tether/protocol';
import { normaliseContentType } from '../storage/stream-rules.js';
import type { ProducerTuple } from '../storage/types.js';
import { AppError } from '../errors.js';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Anything with request headers: a Fastify request, or a raw one on the append fast path. */
export interface HeaderSource {
  headers: IncomingHttpHeaders;
}

export type OffsetParam = { kind: 'start' } | { kind: 'now' } | { kind: 'at'; position: number };

function single(request: HeaderSource, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw new AppError('INVALID_HEADER', `${name} must be given once`);
  return value;
}

function nonNegativeInteger(value: string, name: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isSafeInteger(n)) {
    throw new AppError('INVALID_HEADER', `${name} must be a non-negative integer`);
  }
  return n;
}

export function contentTypeHeader(request: HeaderSource): string | null {
  const value = single(request, 'content-type');
  if (value === undefined || value.trim() === '') return null;
  const normalised = normaliseContentType(value);
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+/.test(normalised)) {
    throw new AppError('INVALID_HEADER', 'Content-Type is not a valid media type');
  }
  return normalised;
}

/** `Stream-Closed` counts only when it is exactly `true`, in any case. */
export function closedHeader(request: HeaderSource): boolean {
  const value = request.headers[Header.closed];
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

/** `Date.parse` rolls 2031-02-30 over into March and accepts hour 24; RFC 3339 allows neither. */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && Number(value.slice(11, 13)) <= 23;
}

export function expiryHeaders(request: HeaderSource): { ttlSeconds: number | null; expiresAt: number | null } {
  const ttl = single(request, Header.ttl);
  const expires = single(request, Header.expiresAt);
  if (ttl !== undefined && expires !== undefined) {
    throw new AppError('INVALID_HEADER', 'Stream-TTL and Stream-Expires-At cannot both be given');
  }
  let ttlSeconds: number | null = null;
  let expiresAt: number | null = null;
  if (ttl !== undefined) ttlSeconds = nonNegativeInteger(ttl, 'Stream-TTL');
  if (expires !== undefined) {
    const parsed = Date.parse(expires);
    if (!RFC3339.test(expires) || Number.isNaN(parsed) || !isCalendarDate(expires)) {
      throw new AppError('INVALID_HEADER', 'Stream-Expires-At must be an RFC 3339 timestamp');
    }
    expiresAt = parsed;
  }
  return { ttlSeconds, expiresAt };
}

export function streamSeqHeader(request: HeaderSource): string | null {
  const value = single(request, Header.seq);
  return value === undefined || value === '' ? null : value;
}

export function producerHeaders(request: HeaderSource): ProducerTuple | null {
  const id = single(request, Header.producerId);
  const epoch = single(request, Header.producerEpoch);
  const seq = single(request, Header.producerSeq);
  if (id === undefined && epoch === undefined && seq === undefined) return null;
  if (id === undefined || epoch === undefined || seq === undefined) {
    throw new AppError('INVALID_HEADER', 'Producer-Id, Producer-Epoch and Producer-Seq go together');
  }
  if (id.trim() === '') throw new AppError('INVALID_HEADER', 'Producer-Id must not be empty');
  return {
    id,
    epoch: nonNegativeInteger(epoch, 'Producer-Epoch'),
    seq: nonNegativeInteger(seq, 'Producer-Seq'),
  };
}

export function parseOffsetValue(value: string, name: string): OffsetParam {
  if (value === START_OFFSET_SENTINEL) return { kind: 'start' };
  if (value === NOW_OFFSET_SENTINEL) return { kind: 'now' };
  const position = parseOffset(value);
  if (position === null) throw new AppError('INVALID_OFFSET', `${name} is not a valid offset`);
  return { kind: 'at', position };
}

export function forkHeaders(
  request: HeaderSource,
  decodePath: (raw: string) => string,
): { sourcePath: string; offset: number | null; subOffset: number } | null {
  const from = single(request, Header.forkedFrom);
  const offset = single(request, Header.forkOffset);
  const sub = single(request, Header.forkSubOffset);
  if (from === undefined) {
    if (offset !== undefined || sub !== undefined) {
      throw new AppError('INVALID_HEADER', 'fork headers need Stream-Forked-From');
    }
    return null;
  }
  const sourcePath = decodePath(from.split('?')[0]!);
  let position: number | null = null;
  if (offset !== undefined) {
    const parsed = parseOffsetValue(offset, 'Stream-Fork-Offset');
    position = parsed.kind === 'at' ? parsed.position : parsed.kind === 'start' ? 0 : null;
  }
  const subOffset = sub === undefined ? 0 : nonNegativeInteger(sub, 'Stream-Fork-Sub-Offset');
  return { sourcePath, offset: position, subOffset };
}

/** Query parameters must appear at most once. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('BAD_REQUEST', `query parameter ${name} must be given once`);
  return value;
}
