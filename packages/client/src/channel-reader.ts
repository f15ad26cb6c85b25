import { TetherError, networkError } from './errors.js';
import { Backoff, HttpClient, sleep } from './http.js';
import { sseFrames } from './sse.js';

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
  const backoff = new Backoff();
  const { signal } = options;
  while (!signal?.aborted) {
    let failure: TetherError | null = null;
    let heard = false;
    // One controller per connection: the watchdog may end it without ending the follow.
    const connection = new AbortController();
    const forward = () => connection.abort(signal!.reason);
    signal?.addEventListener('abort', forward, { once: true });
    let idle = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const activity = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        idle = true;
        connection.abort();
      }, options.idleTimeoutMs ?? 45_000);
    };
    try {
      activity();
      const query = new URLSearchParams({ offset, live: 'sse' });
      if (cursor) query.set('cursor', cursor);
      const separator = options.path.includes('?') ? '&' : '?';
      const response = await http.request('GET', `${options.path}${separator}${query}`, {
        headers: { accept: 'text/event-stream' },
        signal: connection.signal,
      });
      if (!response.body) throw new TetherError('BAD_RESPONSE', 'SSE response has no body', response.status);
      let pending: E[] | null = null;
      for await (const frame of sseFrames(response.body, activity)) {
        if (frame.event === 'data') {
          const parsed = JSON.parse(frame.data) as E | E[];
          pending = [...(pending ?? []), ...(Array.isArray(parsed) ? parsed : [parsed])];
        } else if (frame.event === 'control') {
          const control = JSON.parse(frame.data) as ControlPayload;
          if (control.streamNextOffset) offset = control.streamNextOffset;
          if (control.streamCursor) cursor = control.streamCursor;
          heard = true;
          backoff.reset();
          const closed = control.streamClosed === true;
          if (pending || closed) {
            yield { events: pending ?? [], offset, upToDate: control.upToDate === true, closed };
            pending = null;
          }
          if (closed) return;
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (idle) failure = new TetherError('NETWORK_ERROR', 'SSE connection went silent');
      else if (error instanceof TetherError) failure = error;
      else if (error instanceof SyntaxError) failure = new TetherError('BAD_RESPONSE', `SSE frame is not JSON: ${error.message}`);
      else failure = networkError(error, signal);
      if (!failure.retriable) throw failure;
    } finally {
      clearTimeout(watchdog);
      signal?.removeEventListener('abort', forward);
    }
    options.onReconnect?.(failure, offset);
    // A clean end after data is the server's periodic close: come back at once.
    // One that said nothing at all is treated like a failure, so it cannot spin.
    if (failure || !heard) {
      try {
        await sleep(backoff.next(), signal);
      } catch {
        return;
      }
    }
  }
}
