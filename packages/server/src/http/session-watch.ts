/**
 * `GET /v1/sessions/watch`: an SSE monitor of sessions. It sends the matching
 * sessions, then `ready`, then every change from the session change log as it
 * happens (woken through the notifier, so on whichever replica caused it).
 * Event ids are change-log sequence numbers: a reconnect with `Last-Event-ID`
 * resumes after the last change it saw, or starts over with a fresh snapshot
 * when the log no longer reaches back that far.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Notifier } from '../services/live-hub.js';
import { SESSION_CHANGES_KEY, type SessionService } from '../services/session-service.js';
import { matchesQuery } from '../storage/session-rules.js';
import type { SessionQuery, SessionRecord, SessionStore } from '../storage/session-types.js';
import type { LiveReaders } from './live-readers.js';
import { WatchSessionsQuery } from './schemas/session-schemas.js';
import { SseWriter } from './sse.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

const PAGE = 200;

interface WatchOptions {
  sessions: SessionService;
  store: SessionStore;
  notifier: Notifier;
  live: LiveReaders;
  keepAliveMs: number;
}

function lastEventId(request: FastifyRequest): number | null {
  const value = request.headers['last-event-id'];
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

/**
 * Remembers announced changes between polls of the change log, so a change
 * announced while the log is being read is never slept through.
 */
class ChangeSignal {
  private pending = true;
  private wake: (() => void) | null = null;
  readonly unsubscribe: () => void;

  constructor(notifier: Notifier) {
    this.unsubscribe = notifier.subscribe(SESSION_CHANGES_KEY, () => {
      this.pending = true;
      this.wake?.();
    });
  }

  /** Call before reading the log: later announcements count for the next wait. */
  take(): void {
    this.pending = false;
  }

  /** Resolves true on a change, false on timeout or abort. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.pending) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (changed: boolean) => {
        clearTimeout(timer);
        this.wake = null;
        signal.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.wake = () => finish(true);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export async function sessionWatchRoutes(app: FastifyInstance, options: WatchOptions): Promise<void> {
  const { sessions, store, notifier, live } = options;

  app.get<{ Querystring: Static<typeof WatchSessionsQuery> }>(
    '/v1/sessions/watch',
    {
      config: { access: access.project({ live: true }) },
      schema: {
        tags: ['sessions'],
        summary: 'Live monitor (SSE): `session` per match, `ready`, then `session` / `session.deleted` changes',
        querystring: WatchSessionsQuery,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const query: SessionQuery = sessions.toQuery(projectOf(request), request.query, PAGE);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-store', connection: 'keep-alive' });
      res.flushHeaders();
      const sse = new SseWriter(res);
      const controller = live.start((listener) => res.on('close', listener));
      const sent = new Set<string>();
      const announced = new ChangeSignal(notifier);
      const emit = (record: SessionRecord, seq: number) => sse.event('session', JSON.stringify(sessions.view(record)), seq);
      const anyStatus = { ...query, statuses: [] };
      try {
        let seq = lastEventId(request);
        const oldest = (await store.sessionChanges(0, 1))[0]?.seq;
        const resumed = seq !== null && oldest !== undefined && seq >= oldest - 1;
        if (!resumed) {
          // Take the position before the snapshot: changes racing it are replayed, never lost.
          seq = await store.latestSessionChange();
          for (let beforeId: string | null = null; ; ) {
            const page = await store.listSessions({ ...query, now: Date.now(), beforeId, limit: PAGE });
            for (const record of page) {
              emit(record, seq);
              sent.add(record.id);
            }
            await sse.drained(controller.signal);
            if (page.length < PAGE) break;
            beforeId = page.at(-1)!.id;
          }
        }
        let position = seq!;
        let ready = false;
        while (!controller.signal.aborted && !sse.closed) {
          announced.take();
          const changes = await store.sessionChanges(position, PAGE);
          // The latest change per session is enough: each event carries the whole current session.
          const latest = new Map<string, (typeof changes)[number]>();
          for (const change of changes) latest.set(change.sessionId, change);
          for (const change of [...latest.values()].sort((a, b) => a.seq - b.seq)) {
            const now = Date.now();
            if (change.kind === 'session.deleted') {
              const snapshot = change.snapshot;
              if (snapshot && (sent.has(snapshot.id) || matchesQuery(snapshot, { ...anyStatus, now }))) {
                sse.event('session.deleted', JSON.stringify({ id: change.sessionId }), change.seq);
                sent.delete(change.sessionId);
              }
              continue;
            }
            const record = await store.getSession(change.projectId, { id: change.sessionId });
            if (!record) continue;
            const matches = matchesQuery(record, { ...query, now });
            // A session leaving the filter is sent once more so the watcher sees it go; after a
            // resume we cannot know what was sent before, so every status change is sent.
            if (matches || sent.has(record.id) || (resumed && matchesQuery(record, { ...anyStatus, now }))) {
              emit(record, change.seq);
            }
            if (matches) sent.add(record.id);
            else sent.delete(record.id);
          }
          if (changes.length) position = changes.at(-1)!.seq;
          await sse.drained(controller.signal);
          if (changes.length === PAGE) continue;
          if (!ready) {
            // Caught up (the snapshot, or the changes missed since Last-Event-ID): now live.
            sse.event('ready', JSON.stringify({ seq: position }), position);
            ready = true;
          }
          const woke = await announced.wait(options.keepAliveMs, controller.signal);
          if (!woke && !controller.signal.aborted) sse.comment('keep-alive');
        }
      } catch (error) {
        request.log.error({ err: error }, 'session watch failed');
      } finally {
        announced.unsubscribe();
        live.finish(controller);
        sse.end();
      }
    },
  );
}
