import { TetherError, networkError } from './errors.js';
import { Backoff, HttpClient, sleep } from './http.js';
import { sseFrames, type SseFrame } from './sse.js';

/** One connection of a live SSE read, as the reader that decodes its frames sees it. */
export interface SseConnection {
  /**
   * Sends the request and reads the answer's frames. Every frame, keep-alive
   * comments included, restarts the idle watchdog.
   */
  frames(path: string, headers?: Record<string, string>): AsyncIterable<SseFrame>;
  /** The server said something: backoff starts over, and a clean end reconnects at once. */
  heard(): void;
}

export interface SseFollowOptions {
  signal?: AbortSignal;
  /** Reconnects when nothing, not even a keep-alive, arrived for this long (default 45 s). */
  idleTimeoutMs?: number;
  /** Called before each reconnect with what ended the connection (null: the server closed it cleanly). */
  onReconnect?: (error: TetherError | null) => void;
}

/**
 * Reads an SSE resource for as long as `signal` allows, reconnecting when a
 * response ends, fails or goes silent. `connect` opens one connection and
 * yields what it decodes; it resumes from whatever position its caller keeps.
 * A connection that ends cleanly after the server was heard (its periodic
 * close) reconnects at once; one that failed, or said nothing at all, waits
 * with backoff so it cannot spin. Throws only what retrying cannot fix.
 */
export async function* followSse<T>(
  http: HttpClient,
  options: SseFollowOptions,
  connect: (connection: SseConnection) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const { signal } = options;
  const backoff = new Backoff();
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
    async function* frames(path: string, headers: Record<string, string> = {}): AsyncGenerator<SseFrame> {
      const response = await http.request('GET', path, {
        headers: { accept: 'text/event-stream', ...headers },
        signal: connection.signal,
      });
      if (!response.body) throw new TetherError('BAD_RESPONSE', 'SSE response has no body', response.status);
      yield* sseFrames(response.body, activity);
    }
    const heardNow = () => {
      heard = true;
      backoff.reset();
    };
    try {
      activity();
      yield* connect({ frames, heard: heardNow });
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
    options.onReconnect?.(failure);
    if (failure || !heard) {
      try {
        await sleep(backoff.next(), signal);
      } catch {
        return;
      }
    }
  }
}
