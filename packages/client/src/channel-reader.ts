import type { TetherError } from './errors.js';
import type { HttpClient } from './http.js';
import { followSse } from './sse-follow.js';

/** What a Durable Streams server says in each SSE `control` event. */
interface ControlPayload {
  streamNextOffset?: string;
  streamCursor?: string;
  upToDate?: boolean;
  streamClosed?: boolean;
}

export interface ChannelBatch<E = Record<string, unknown>> {
  /** The events of one `data` frame, in stream order. */
  events: E[];
  /** Where to resume after these events. */
  offset: string;
  upToDate: boolean;
  /** The stream is closed and everything in it has been read. */
  closed: boolean;
}

export interface FollowOptions {
  /** Stream path (`/v1/stream/...`) or absolute URL. */
  path: string;
  /** `-1` (start), `now` (tail) or an offset from an earlier batch. */
  offset?: string;
  signal?: AbortSignal;
  /**
   * Reconnects when nothing (not even a keep-alive comment, which Tether
   * sends every 15 s) arrived for this long. Default 45 s.
   */
  idleTimeoutMs?: number;
  onReconnect?: (error: TetherError | null, offset: string) => void;
}

/**
 * Follows a JSON stream live over SSE. A `data` frame is yielded only once its
 * `control` frame names the offset after it, so a consumer that stores
 * `batch.offset` can always resume without losing or repeating events. The
 * server ends SSE responses every minute and networks drop: both reconnect
 * from the last offset, the second with backoff. Ends when the stream is
 * closed or `signal` fires; throws only on errors that retrying cannot fix.
 */
export async function* followChannel<E = Record<string, unknown>>(
  http: HttpClient,
  options: FollowOptions,
): AsyncGenerator<ChannelBatch<E>> {
  let offset = options.offset ?? '-1';
  let cursor: string | undefined;
  const batches = followSse<ChannelBatch<E>>(
    http,
    { signal: options.signal, idleTimeoutMs: options.idleTimeoutMs, onReconnect: (error) => options.onReconnect?.(error, offset) },
    async function* (connection) {
      const query = new URLSearchParams({ offset, live: 'sse' });
      if (cursor) query.set('cursor', cursor);
      const separator = options.path.includes('?') ? '&' : '?';
      let pending: E[] | null = null;
      for await (const frame of connection.frames(`${options.path}${separator}${query}`)) {
        if (frame.event === 'data') {
          const parsed = JSON.parse(frame.data) as E | E[];
          pending = [...(pending ?? []), ...(Array.isArray(parsed) ? parsed : [parsed])];
        } else if (frame.event === 'control') {
          const control = JSON.parse(frame.data) as ControlPayload;
          if (control.streamNextOffset) offset = control.streamNextOffset;
          if (control.streamCursor) cursor = control.streamCursor;
          connection.heard();
          const closed = control.streamClosed === true;
          if (pending || closed) {
            yield { events: pending ?? [], offset, upToDate: control.upToDate === true, closed };
            pending = null;
          }
        }
      }
    },
  );
  for await (const batch of batches) {
    yield batch;
    if (batch.closed) return;
  }
}
