/**
 * A deliberately naive in-memory model of the Durable Streams protocol, as
 * Tether documents it (docs/streams.md): forks copy their inherited data,
 * every decision is written out in the protocol's order, and nothing is
 * persisted. The property test runs the same requests against it and against
 * a real server and expects identical answers.
 *
 * JSON bodies given to the model must be canonical (`JSON.stringify` output,
 * optionally with whitespace between top-level elements), so re-serialising a
 * parsed element gives back its exact stored text.
 */

export interface Tuple {
  id: string;
  epoch: number;
  seq: number;
}

export interface ModelStream {
  path: string;
  contentType: string;
  json: boolean;
  bytes: Buffer;
  messages: string[];
  closed: boolean;
  ttl: number | null;
  fork: { source: ModelStream; position: number } | null;
  streamSeq: string | null;
  producers: Map<string, { epoch: number; lastSeq: number }>;
  closedBy: Tuple | null;
  softDeleted: boolean;
  /** Streams (soft-deleted ones included) forked from this one. */
  forkCount: number;
}

/** What the server must answer; fields left undefined are not checked. */
export interface Expected {
  status: number;
  code?: string;
  next?: number;
  closed?: boolean;
  contentType?: string;
  /** `Producer-Epoch` / `Producer-Seq` on success; absent means the headers must be absent. */
  producer?: { epoch: number; seq: number } | null;
  fencedEpoch?: number;
  gap?: { expected: number; received: number };
}

export interface CreateInput {
  contentType: string | null;
  ttl: number | null;
  closed: boolean;
  body: Buffer;
  fork: { source: string; offset: number | null; sub: number } | null;
}

export interface AppendInput {
  contentType: string | null;
  body: Buffer;
  close: boolean;
  streamSeq: string | null;
  producer: Tuple | null;
}

const OCTET = 'application/octet-stream';
const mediaType = (ct: string) => ct.split(';')[0]!.trim().toLowerCase();
const isJson = (ct: string) => mediaType(ct) === 'application/json';

export function tailOf(stream: ModelStream): number {
  return stream.json ? stream.messages.length : stream.bytes.length;
}

type Parsed = { kind: 'empty' } | { kind: 'invalid'; malformed: boolean } | { kind: 'data'; bytes: Buffer; messages: string[] };

function parse(contentType: string, raw: Buffer, mode: 'create' | 'append'): Parsed {
  if (raw.length === 0) return { kind: 'empty' };
  if (!isJson(contentType)) return { kind: 'data', bytes: raw, messages: [] };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { kind: 'invalid', malformed: true };
  }
  if (!Array.isArray(value)) return { kind: 'data', bytes: raw, messages: [raw.toString('utf8').trim()] };
  if (value.length === 0) return mode === 'create' ? { kind: 'empty' } : { kind: 'invalid', malformed: false };
  return { kind: 'data', bytes: raw, messages: value.map((item) => JSON.stringify(item)) };
}

const error = (status: number, code: string, extra: Partial<Expected> = {}): Expected => ({ status, code, ...extra });

export class StreamModel {
  readonly streams = new Map<string, ModelStream>();

  head(path: string): Expected {
    const stream = this.streams.get(path);
    if (!stream) return { status: 404 };
    if (stream.softDeleted) return { status: 410 };
    return { status: 200, next: tailOf(stream), closed: stream.closed, contentType: stream.contentType };
  }

  create(path: string, input: CreateInput): Expected {
    const existing = this.streams.get(path);
    if (existing?.softDeleted) return error(409, 'STREAM_EXISTS');
    if (existing) return this.matchExisting(existing, input);
    let source: ModelStream | null = null;
    let position = 0;
    let ttl = input.ttl;
    if (input.fork) {
      source = this.streams.get(input.fork.source) ?? null;
      if (!source) return error(404, 'STREAM_NOT_FOUND');
      if (source.softDeleted) return error(409, 'STREAM_EXISTS');
      if (input.contentType !== null && mediaType(input.contentType) !== mediaType(source.contentType)) {
        return error(409, 'STREAM_EXISTS');
      }
      if (input.fork.sub > 0 && input.fork.offset === null) return error(400, 'BAD_REQUEST');
      const anchor = input.fork.offset ?? tailOf(source);
      position = anchor + input.fork.sub;
      if (position > tailOf(source)) return error(400, 'BAD_REQUEST');
      // A fork that asks for no expiry inherits its source's.
      if (ttl === null) ttl = source.ttl;
    }
    const contentType = source?.contentType ?? input.contentType ?? OCTET;
    const body = parse(contentType, input.body, 'create');
    if (body.kind === 'invalid') return error(400, 'INVALID_JSON');
    const stream: ModelStream = {
      path,
      contentType,
      json: isJson(contentType),
      bytes: source ? Buffer.from(source.bytes.subarray(0, position)) : Buffer.alloc(0),
      messages: source ? source.messages.slice(0, position) : [],
      closed: input.closed,
      ttl,
      fork: source ? { source, position } : null,
      streamSeq: null,
      producers: new Map(),
      closedBy: null,
      softDeleted: false,
      forkCount: 0,
    };
    if (body.kind === 'data') this.write(stream, body);
    if (source) source.forkCount++;
    this.streams.set(path, stream);
    return { status: 201, next: tailOf(stream), closed: stream.closed, contentType };
  }

  private matchExisting(existing: ModelStream, input: CreateInput): Expected {
    const exists: Expected = { status: 200, next: tailOf(existing), closed: existing.closed, contentType: existing.contentType };
    const requested = input.contentType ?? (input.fork ? existing.contentType : OCTET);
    if (mediaType(requested) !== mediaType(existing.contentType)) return error(409, 'STREAM_EXISTS');
    if (input.closed !== existing.closed) return error(409, 'STREAM_EXISTS');
    if (input.fork) {
      if (!existing.fork || existing.fork.source.path !== input.fork.source) return error(409, 'STREAM_EXISTS');
      if (input.fork.offset !== null && input.fork.offset + input.fork.sub !== existing.fork.position) {
        return error(409, 'STREAM_EXISTS');
      }
      if (input.ttl === null) return exists;
    } else if (existing.fork) {
      return error(409, 'STREAM_EXISTS');
    }
    return input.ttl === existing.ttl ? exists : error(409, 'STREAM_EXISTS');
  }

  append(path: string, input: AppendInput): Expected {
    const hasBody = input.body.length > 0;
    if (!hasBody && !input.close) return error(400, 'EMPTY_BODY');
    const stream = this.streams.get(path);
    if (!stream) return error(404, 'STREAM_NOT_FOUND');
    if (stream.softDeleted) return error(410, 'STREAM_GONE');
    const { producer } = input;
    const state = producer ? stream.producers.get(producer.id) : undefined;

    if (stream.closed) {
      const closedBy = stream.closedBy;
      if (producer && closedBy && closedBy.id === producer.id && closedBy.epoch === producer.epoch && closedBy.seq === producer.seq) {
        return { status: 204, next: tailOf(stream), closed: true, producer: { epoch: producer.epoch, seq: producer.seq } };
      }
      if (producer && state && producer.epoch < state.epoch) return error(403, 'PRODUCER_FENCED', { fencedEpoch: state.epoch });
      if (input.close && !hasBody) return { status: 204, next: tailOf(stream), closed: true, producer: null };
      return error(409, 'STREAM_CLOSED', { next: tailOf(stream), closed: true });
    }

    if (hasBody) {
      if (input.contentType === null) return error(400, 'BAD_REQUEST');
      if (mediaType(input.contentType) !== mediaType(stream.contentType)) return error(409, 'CONTENT_TYPE_MISMATCH');
    }

    if (producer) {
      if (state && producer.epoch < state.epoch) return error(403, 'PRODUCER_FENCED', { fencedEpoch: state.epoch });
      if (!state || producer.epoch > state.epoch) {
        if (producer.seq !== 0) {
          if (!state) return error(409, 'PRODUCER_SEQ_GAP', { gap: { expected: 0, received: producer.seq } });
          return error(400, 'BAD_REQUEST');
        }
      } else if (producer.seq <= state.lastSeq) {
        return { status: 204, next: tailOf(stream), closed: false, producer: { epoch: producer.epoch, seq: state.lastSeq } };
      } else if (producer.seq !== state.lastSeq + 1) {
        return error(409, 'PRODUCER_SEQ_GAP', { gap: { expected: state.lastSeq + 1, received: producer.seq } });
      }
    }

    if (input.streamSeq !== null && stream.streamSeq !== null) {
      if (Buffer.compare(Buffer.from(input.streamSeq), Buffer.from(stream.streamSeq)) <= 0) {
        return error(409, 'SEQUENCE_CONFLICT');
      }
    }

    // The server parses the body by the request's content type, which by now matches the stream's.
    const body = hasBody ? parse(input.contentType!, input.body, 'append') : ({ kind: 'empty' } as const);
    if (body.kind === 'invalid') return error(400, body.malformed ? 'INVALID_JSON' : 'BAD_REQUEST');
    if (body.kind === 'data') this.write(stream, body);
    if (producer) stream.producers.set(producer.id, { epoch: producer.epoch, lastSeq: producer.seq });
    if (input.streamSeq !== null) stream.streamSeq = input.streamSeq;
    if (input.close) {
      stream.closed = true;
      stream.closedBy = producer;
    }
    const status = body.kind === 'data' && producer ? 200 : 204;
    return { status, next: tailOf(stream), closed: stream.closed, producer: producer ? { epoch: producer.epoch, seq: producer.seq } : null };
  }

  delete(path: string): Expected {
    const stream = this.streams.get(path);
    if (!stream) return error(404, 'STREAM_NOT_FOUND');
    if (stream.softDeleted) return error(410, 'STREAM_GONE');
    if (stream.forkCount > 0) stream.softDeleted = true;
    else this.remove(stream);
    return { status: 204 };
  }

  /** Removes a stream, then any soft-deleted ancestor that only it kept alive. */
  private remove(stream: ModelStream): void {
    this.streams.delete(stream.path);
    const source = stream.fork?.source;
    if (!source) return;
    source.forkCount--;
    if (source.softDeleted && source.forkCount === 0) this.remove(source);
  }

  private write(stream: ModelStream, body: { bytes: Buffer; messages: string[] }): void {
    if (stream.json) stream.messages.push(...body.messages);
    else stream.bytes = Buffer.concat([stream.bytes, body.bytes]);
  }
}
