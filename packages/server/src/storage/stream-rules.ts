/**
 * The protocol's decisions for create and append, as pure functions. Both
 * drivers call them inside their own transaction, after reading the current
 * rows, so the rules live in one place and the drivers only do I/O.
 */
import type {
  AppendBody,
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateStreamRequest,
  ProducerTuple,
  StreamMeta,
} from './types.js';
import { memoized } from '../memo.js';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Distinct content types whose parsing is kept (see `memoized`). */
const CONTENT_TYPES = 256;

export interface ProducerState {
  epoch: number;
  lastSeq: number;
}

/** `Content-Type` with its media type lower-cased and whitespace trimmed. */
export const normaliseContentType = memoized((value: string): string => {
  const [media = '', ...params] = value.split(';');
  const type = media.trim().toLowerCase();
  const rest = params.map((p) => p.trim()).filter(Boolean);
  return rest.length ? `${type}; ${rest.join('; ')}` : type;
}, CONTENT_TYPES);

export const mediaType = memoized((contentType: string): string => contentType.split(';')[0]!.trim().toLowerCase(), CONTENT_TYPES);

export function isJsonContentType(contentType: string): boolean {
  return mediaType(contentType) === 'application/json';
}

export function sameMediaType(a: string, b: string): boolean {
  return mediaType(a) === mediaType(b);
}

/** Units a body adds to the tail: bytes for byte streams, messages for JSON. */
export function bodyLength(body: AppendBody): number {
  if (body.kind === 'bytes') return body.data.length;
  if (body.kind === 'json') return body.messages.length;
  return 0;
}

/** Splits a body into stored rows starting at `position`. */
export function bodyRows(body: AppendBody, position: number): { end: number; data: Buffer }[] {
  if (body.kind === 'bytes') return body.data.length ? [{ end: position + body.data.length, data: body.data }] : [];
  if (body.kind === 'json') return body.messages.map((data, i) => ({ end: position + i + 1, data }));
  return [];
}

export function isExpired(meta: Pick<StreamMeta, 'ttlSeconds' | 'expiresAt' | 'lastAccessAt'>, now: number): boolean {
  if (meta.expiresAt !== null && now >= meta.expiresAt) return true;
  if (meta.ttlSeconds !== null && now >= meta.lastAccessAt + meta.ttlSeconds * 1000) return true;
  return false;
}

/** When an expiring stream must be gone by; used to index sweeps. */
export function expiryDeadline(meta: Pick<StreamMeta, 'ttlSeconds' | 'expiresAt' | 'lastAccessAt'>): number | null {
  const sliding = meta.ttlSeconds === null ? null : meta.lastAccessAt + meta.ttlSeconds * 1000;
  if (sliding === null) return meta.expiresAt;
  if (meta.expiresAt === null) return sliding;
  return Math.min(sliding, meta.expiresAt);
}

/** Compares a create request with an existing stream for idempotent PUT. */
export function decideExisting(existing: StreamMeta, request: CreateStreamRequest): CreateOutcome {
  if (existing.softDeleted) return { kind: 'conflict', message: 'stream was deleted and is retained for its forks' };
  const requestedType = request.contentType ?? (request.fork ? existing.contentType : DEFAULT_CONTENT_TYPE);
  if (!sameMediaType(requestedType, existing.contentType)) {
    return { kind: 'conflict', message: 'stream exists with a different content type' };
  }
  if (request.closed !== existing.closed) {
    return { kind: 'conflict', message: 'stream exists with a different closed state' };
  }
  if (request.fork) {
    if (!existing.fork || existing.fork.sourcePath !== request.fork.sourcePath) {
      return { kind: 'conflict', message: 'stream exists and is not a fork of that source' };
    }
    if (request.fork.offset !== null && request.fork.offset + request.fork.subOffset !== existing.fork.position) {
      return { kind: 'conflict', message: 'stream exists as a fork at a different offset' };
    }
    // A fork that inherited its expiry matches a request that set none.
    if (request.ttlSeconds === null && request.expiresAt === null) return { kind: 'exists', meta: existing };
  } else if (existing.fork) {
    return { kind: 'conflict', message: 'stream exists as a fork' };
  }
  if (request.ttlSeconds !== existing.ttlSeconds || request.expiresAt !== existing.expiresAt) {
    return { kind: 'conflict', message: 'stream exists with a different TTL or expiry' };
  }
  return { kind: 'exists', meta: existing };
}

export interface ForkPlan {
  sourceId: number;
  sourcePath: string;
  position: number;
  contentType: string;
  ttlSeconds: number | null;
  expiresAt: number | null;
}

/** Resolves a fork request against its source; an error outcome or a plan. */
export function planFork(
  source: StreamMeta | null,
  request: CreateStreamRequest,
): { kind: 'plan'; plan: ForkPlan } | CreateOutcome {
  const fork = request.fork!;
  if (!source) return { kind: 'source-not-found' };
  if (source.softDeleted) return { kind: 'conflict', message: 'source stream was deleted' };
  if (request.contentType !== null && !sameMediaType(request.contentType, source.contentType)) {
    return { kind: 'conflict', message: 'fork content type differs from its source' };
  }
  if (fork.subOffset > 0 && fork.offset === null) {
    return { kind: 'bad-request', message: 'Stream-Fork-Sub-Offset needs Stream-Fork-Offset' };
  }
  const anchor = fork.offset ?? source.tail;
  if (anchor > source.tail) return { kind: 'bad-request', message: 'fork offset is beyond the source tail' };
  const position = anchor + fork.subOffset;
  if (position > source.tail) return { kind: 'bad-request', message: 'fork sub-offset is beyond the source data' };
  // Expiry follows the protocol's inheritance table: a fork that asks for
  // nothing inherits its source's TTL or absolute expiry.
  const asksExpiry = request.ttlSeconds !== null || request.expiresAt !== null;
  return {
    kind: 'plan',
    plan: {
      sourceId: source.id,
      sourcePath: source.path,
      position,
      contentType: source.contentType,
      ttlSeconds: asksExpiry ? request.ttlSeconds : source.ttlSeconds,
      expiresAt: asksExpiry ? request.expiresAt : source.expiresAt,
    },
  };
}

export type AppendDecision =
  | { kind: 'accept'; producerState: ProducerState | null }
  | { kind: 'close-only'; producerState: ProducerState | null }
  | Exclude<AppendOutcome, { kind: 'appended' }>;

function sameTuple(a: ProducerTuple | null, b: ProducerTuple): boolean {
  return !!a && a.id === b.id && a.epoch === b.epoch && a.seq === b.seq;
}

/** Decides an append (or close) against the stream and the producer's state. */
export function decideAppend(meta: StreamMeta, state: ProducerState | null, request: AppendRequest): AppendDecision {
  const { producer, body } = request;
  const hasBody = body.kind !== 'empty';

  if (meta.closed) {
    if (producer && sameTuple(meta.closedBy, producer)) return { kind: 'duplicate', meta, producer };
    if (producer && state && producer.epoch < state.epoch) {
      return { kind: 'producer-fenced', currentEpoch: state.epoch };
    }
    if (request.close && !hasBody) return { kind: 'closed', meta, producer: null };
    return { kind: 'stream-closed', meta };
  }

  if (hasBody) {
    if (request.contentType === null) return { kind: 'bad-request', message: 'Content-Type is required' };
    if (!sameMediaType(request.contentType, meta.contentType)) return { kind: 'content-type-mismatch' };
  }

  let producerState: ProducerState | null = null;
  if (producer) {
    if (state && producer.epoch < state.epoch) return { kind: 'producer-fenced', currentEpoch: state.epoch };
    if (!state || producer.epoch > state.epoch) {
      if (producer.seq !== 0) {
        if (!state) return { kind: 'producer-gap', expected: 0, received: producer.seq };
        return { kind: 'bad-request', message: 'a new producer epoch must start at seq 0' };
      }
    } else if (producer.seq <= state.lastSeq) {
      return { kind: 'duplicate', meta, producer: { ...producer, seq: state.lastSeq } };
    } else if (producer.seq !== state.lastSeq + 1) {
      return { kind: 'producer-gap', expected: state.lastSeq + 1, received: producer.seq };
    }
    producerState = { epoch: producer.epoch, lastSeq: producer.seq };
  }

  if (request.streamSeq !== null && meta.streamSeq !== null) {
    if (Buffer.compare(Buffer.from(request.streamSeq), Buffer.from(meta.streamSeq)) <= 0) {
      return { kind: 'seq-conflict', lastSeq: meta.streamSeq };
    }
  }

  if (body.kind === 'invalid') return rejectBody(body);
  if (!hasBody) {
    if (!request.close) return { kind: 'bad-request', message: 'empty append body' };
    return { kind: 'close-only', producerState };
  }
  return { kind: 'accept', producerState };
}

/** The stream as an accepted append (or close) leaves it. */
export function appliedAppend(meta: StreamMeta, request: AppendRequest): StreamMeta {
  return {
    ...meta,
    tail: meta.tail + bodyLength(request.body),
    closed: meta.closed || request.close,
    streamSeq: request.streamSeq ?? meta.streamSeq,
    closedBy: request.close ? request.producer : meta.closedBy,
    lastAccessAt: request.now,
  };
}

/** The outcome for a body `parseBody` refused; malformed JSON is told apart from `[]`. */
export function rejectBody(body: Extract<AppendBody, { kind: 'invalid' }>): { kind: 'bad-request'; message: string; invalidJson: boolean } {
  return { kind: 'bad-request', message: body.message, invalidJson: body.malformed };
}

/**
 * Turns a request body into what is stored. For JSON streams one level of
 * array is flattened into separate messages; an empty array is an error on
 * append but a valid empty initial body on create.
 */
export function parseBody(contentType: string, raw: Buffer, mode: 'create' | 'append'): AppendBody {
  if (raw.length === 0) return { kind: 'empty' };
  if (!isJsonContentType(contentType)) return { kind: 'bytes', data: raw };
  const untrimmed = raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(untrimmed);
  } catch {
    return { kind: 'invalid', message: 'body is not valid JSON', malformed: true };
  }
  const text = untrimmed.trim();
  // Most bodies are one message with nothing to trim: store the request's own bytes.
  if (!Array.isArray(value)) return { kind: 'json', messages: [text.length === untrimmed.length ? raw : Buffer.from(text)] };
  if (value.length === 0) {
    return mode === 'create' ? { kind: 'empty' } : { kind: 'invalid', message: 'empty JSON array', malformed: false };
  }
  return { kind: 'json', messages: splitTopLevelArray(text).map((item) => Buffer.from(item)) };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isOpening = (byte: number) => byte === 0x5b || byte === 0x7b; // [ {
const isClosing = (byte: number) => byte === 0x5d || byte === 0x7d; // ] }

/**
 * Splits stored JSON messages joined by commas back into each message's
 * bytes. A message is one JSON value, so a comma outside strings and
 * brackets can only be a separator; the scan works on bytes, so messages keep
 * their exact bytes whatever they hold.
 */
export function splitJoinedMessages(joined: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  if (joined.length === 0) return messages;
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < joined.length; i++) {
    const byte = joined[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (isOpening(byte)) depth++;
    else if (isClosing(byte)) depth--;
    else if (byte === COMMA && depth === 0) {
      messages.push(joined.subarray(start, i));
      start = i + 1;
    }
  }
  messages.push(joined.subarray(start));
  return messages;
}

const isJsonSpace = (ch: string) => ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t';

/**
 * Splits the text of a valid JSON array into the exact text of its elements,
 * so stored messages keep their bytes (and numbers beyond double precision).
 */
export function splitTopLevelArray(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (isJsonSpace(ch)) continue;
    if (depth === 1 && start < 0 && ch !== ',' && ch !== ']') start = i;
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        if (start >= 0) elements.push(text.slice(start, i).trimEnd());
        break;
      }
    } else if (ch === ',' && depth === 1) {
      elements.push(text.slice(start, i).trimEnd());
      start = -1;
    }
  }
  return elements;
}
