import type { Session } from '@tether/protocol';
import type { HttpClient } from './http.js';
import { followSse, type SseFollowOptions } from './sse-follow.js';

export type WatchEvent =
  | { type: 'session'; session: Session }
  | { type: 'session.deleted'; id: string }
  /** The snapshot (or the changes missed while away) has been sent; what follows is live. */
  | { type: 'ready' };

export type WatchOptions = SseFollowOptions;

/**
 * Follows `GET /v1/sessions/watch`. Every event carries a change-log id; a
 * reconnect sends the last one as `Last-Event-ID`, so the server replays only
 * what was missed (or a fresh snapshot when its log no longer reaches back).
 */
export async function* watchSessions(http: HttpClient, path: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  let lastId: string | undefined;
  yield* followSse<WatchEvent>(http, options, async function* (connection) {
    const headers: Record<string, string> = {};
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    for await (const frame of connection.frames(path, headers)) {
      if (frame.id !== undefined) lastId = frame.id;
      connection.heard();
      if (frame.event === 'session') yield { type: 'session', session: JSON.parse(frame.data) as Session };
      else if (frame.event === 'session.deleted') yield { type: 'session.deleted', id: (JSON.parse(frame.data) as { id: string }).id };
      else if (frame.event === 'ready') yield { type: 'ready' };
    }
  });
}
