import { Header, formatOffset, parseOffset } from '@tether/protocol';
import { followChannel } from './channel-reader.js';
import { TetherError } from './errors.js';
import { HttpClient, readText, retrying } from './http.js';
import { newId } from './ids.js';
import { IdempotentProducer } from './producer.js';
import type { ChannelEvent } from './types.js';

/** One event read from a channel, with the offset to resume from after it. */
export interface ChannelEntry<E = ChannelEvent> {
  event: E;
  /**
   * Hand this to `subscribe({ from })` (or a Durable Streams client) to get
   * exactly the events after this one.
   */
  offset: string;
}

export interface SubscribeOptions {
  /** `-1` (the start, default), `now` (only what comes next) or an `offset` from an earlier entry. */
  from?: string;
  signal?: AbortSignal;
  /** Reconnects when a connection is silent this long (default 45 s; the server sends keep-alives every 15 s). */
  idleTimeoutMs?: number;
  /** Hears every reconnect: `error` is null after the server's periodic close of a live response. */
  onReconnect?: (error: TetherError | null, offset: string) => void;
}

export interface ReadOptions {
  from?: string;
  signal?: AbortSignal;
}

export interface ReadResult<E = ChannelEvent> {
  entries: ChannelEntry<E>[];
  /** Where the next read starts. */
  offset: string;
  /** The stream is closed: nothing will ever follow. */
  closed: boolean;
}

export interface SendResult {
  /** The channel's tail after the event; absent when the server recognised a repeat. */
  offset?: string;
  duplicate: boolean;
}

export interface ChannelOptions {
  /** Attempts per append before a network failure is given up on (default 10). */
  sendAttempts?: number;
}

/**
 * Offsets of the events of one SSE `data` frame. Tether's JSON-stream offsets
 * count messages, so the event `k` places before the frame's end sits at
 * `end - k`; that lets a caller persist after every event. Offsets from a
 * server that mints them differently fall back to the frame's start for all
 * but the last event: a resume may then repeat part of a frame, never skip one.
 */
export function entryOffsets(start: string, end: string, count: number): string[] {
  const position = parseOffset(end);
  if (position !== null && position - count >= 0) {
    return Array.from({ length: count }, (_, i) => formatOffset(position - (count - 1 - i)));
  }
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? end : start));
}

/**
 * A JSON stream: a session's `out` or `in` channel or a raw stream. Reads
 * resume from any offset it handed out; sends are idempotent (a retried send
 * is stored once), so both survive dropped connections and server restarts.
 */
export class Channel<E = ChannelEvent> {
  private producer: Promise<IdempotentProducer> | null = null;

  constructor(
    private readonly http: HttpClient,
    /** Resolves the stream path (a session handle may need to look its id up first). */
    private readonly path: () => Promise<string>,
    private readonly options: ChannelOptions = {},
  ) {}

  /**
   * Yields every event from `from` on, then follows live until the stream is
   * closed or `signal` fires. Reconnects by itself, from the last offset it
   * yielded, so nothing is missed and nothing is yielded twice.
   */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<ChannelEntry<E>> {
    const path = await this.path();
    let start = options.from ?? '-1';
    const batches = followChannel<E>(this.http, {
      path,
      offset: start,
      signal: options.signal,
      idleTimeoutMs: options.idleTimeoutMs,
      onReconnect: options.onReconnect,
    });
    for await (const batch of batches) {
      const offsets = entryOffsets(start, batch.offset, batch.events.length);
      for (let i = 0; i < batch.events.length; i++) yield { event: batch.events[i]!, offset: offsets[i]! };
      start = batch.offset;
    }
  }

  /** Reads what is there now (from `from`, default the start) without waiting for more. */
  async read(options: ReadOptions = {}): Promise<ReadResult<E>> {
    const path = await this.path();
    let offset = options.from ?? '-1';
    const entries: ChannelEntry<E>[] = [];
    for (;;) {
      const response = await retrying(() => this.http.request('GET', `${path}?offset=${encodeURIComponent(offset)}`, { signal: options.signal, timeoutMs: 30_000 }), {
        signal: options.signal,
        attempts: 5,
      });
      const text = await readText(response, options.signal);
      let events: E[];
      try {
        events = text ? (JSON.parse(text) as E[]) : [];
      } catch (error) {
        throw new TetherError('BAD_RESPONSE', `${path} answered invalid JSON`, response.status, undefined, { cause: error });
      }
      const next = response.headers.get(Header.nextOffset) ?? offset;
      const offsets = entryOffsets(offset, next, events.length);
      events.forEach((event, i) => entries.push({ event, offset: offsets[i]! }));
      const done = response.headers.get(Header.upToDate) === 'true' || events.length === 0 || next === offset;
      offset = next;
      if (done) return { entries, offset, closed: response.headers.get(Header.closed) === 'true' };
    }
  }

  /**
   * Appends one event (or an array, stored as consecutive events) as an
   * idempotent producer: sends are ordered, and a retry after a lost answer
   * is recognised by the server instead of stored twice.
   */
  async send(event: E | E[]): Promise<SendResult> {
    this.producer ??= this.path().then(
      (path) => new IdempotentProducer(this.http, { path, id: newId('client'), epoch: 0, attempts: this.options.sendAttempts ?? 10 }),
    );
    let producer: IdempotentProducer;
    try {
      producer = await this.producer;
    } catch (error) {
      this.producer = null;
      throw error;
    }
    const result = await producer.append(event);
    return { offset: result.offset, duplicate: result.duplicate };
  }

  /** The offset after the last event now in the stream (a `HEAD`). */
  async tail(options: { signal?: AbortSignal } = {}): Promise<{ offset: string; closed: boolean }> {
    const path = await this.path();
    const response = await this.http.request('HEAD', path, { signal: options.signal });
    return { offset: response.headers.get(Header.nextOffset) ?? '-1', closed: response.headers.get(Header.closed) === 'true' };
  }
}
