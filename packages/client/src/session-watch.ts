import type { Session } from '@tether/protocol';
import { TetherError, networkError } from './errors.js';
import { Backoff, HttpClient, sleep } from './http.js';
import { sseFrames } from './sse.js';

export type WatchEvent =
  | { type: 'session'; session: Session }
  | { type: 'session.deleted'; id: string }
  /** The snapshot (or the changes missed while away) has been sent; what follows is live. */
  | { type: 'ready' };

export interface WatchOptions {
  signal?: AbortSignal;
  /** Reconnects when nothing, not even a keep-alive, arrived for this long (default 45 s). */
  idleTimeoutMs?: number;
  onReconnect?: (error: TetherError | null) => void;
}

/**
 * Follows `GET /v1/sessions/watch`. Every event carries a change-log id; a
 * reconnect sends the last one as `Last-Event-ID`, so the server replays only
 * what was missed (or a fresh snapshot when its log no longer reaches back).
 */
export async function* watchSessions(http: HttpClient, path: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const { signal } = options;
  const backoff = new Backoff();
  let lastId: string | undefined;
  while (!signal?.aborted) {
    let failure: TetherError | null = null;
    let heard = false;
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
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const response = await http.request('GET', path, { headers, signal: connection.signal });
      if (!response.body) throw new TetherError('BAD_RESPONSE', 'SSE response has no body', response.status);
      for await (const frame of sseFrames(response.body, activity)) {
        if (frame.id !== undefined) lastId = frame.id;
        heard = true;
        backoff.reset();
        if (frame.event === 'session') yield { type: 'session', session: JSON.parse(frame.data) as Session };
        else if (frame.event === 'session.deleted') yield { type: 'session.deleted', id: (JSON.parse(frame.data) as { id: string }).id };
        else if (frame.event === 'ready') yield { type: 'ready' };
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
    options.onReconnect?.(failure);
    try {
      // A clean end after events is the server's periodic close; one that said nothing backs off.
      await sleep(failure || !heard ? backoff.next() : 0, signal);
    } catch {
      return;
    }
  }
}
