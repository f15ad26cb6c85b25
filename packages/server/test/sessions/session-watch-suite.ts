/** The session monitor over SSE, against a real server; run against each store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionApi, type SessionApi } from './session-client.js';
import type { ServerUnderTest } from './session-api-suite.js';

interface WatchEvent {
  event: string;
  id: string | null;
  data: any;
}

/** Reads SSE events from the monitor as they arrive. */
export async function watch(url: string, key: string, query = '', lastEventId?: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/sessions/watch${query ? `?${query}` : ''}`, {
    signal: controller.signal,
    headers: { authorization: `Bearer ${key}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
  });
  const events: WatchEvent[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          const name = lines.find((l) => l.startsWith('event: '))?.slice(7);
          if (!name) continue;
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? null;
          const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n');
          events.push({ event: name, id, data: JSON.parse(data) });
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  const until = async (predicate: (events: WatchEvent[]) => boolean, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(events.map((e) => [e.event, e.data?.id, e.data?.status]))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return { status: res.status, events, until, close: () => controller.abort() };
}

export function describeSessionWatch(name: string, start: () => Promise<ServerUnderTest>): void {
  describe(`session monitor (${name})`, () => {
    let server: ServerUnderTest;
    let api: SessionApi;
    beforeAll(async () => {
      server = await start();
      api = sessionApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    it('sends matching sessions, then ready, then changes as they happen', async () => {
      const agent = `w-${Math.random().toString(36).slice(2)}`;
      const a = (await api.create({ agent })).body.session;
      const b = (await api.create({ agent })).body.session;
      await api.create({ agent: 'someone-else' });
      const w = await watch(server.url, server.key, `agent=${agent}`);
      expect(w.status).toBe(200);
      await w.until((e) => e.some((x) => x.event === 'ready'));
      const beforeReady = w.events.slice(0, w.events.findIndex((x) => x.event === 'ready'));
      expect(beforeReady.map((x) => x.data.id).sort()).toEqual([a.id, b.id].sort());

      const c = (await api.create({ agent })).body.session;
      await w.until((e) => e.some((x) => x.event === 'session' && x.data.id === c.id));
      await api.close(a.id);
      await w.until((e) => e.some((x) => x.event === 'session' && x.data.id === a.id && x.data.status === 'closed'));
      await api.remove(b.id);
      await w.until((e) => e.some((x) => x.event === 'session.deleted' && x.data.id === b.id));
      expect(w.events.filter((x) => x.data?.agent === 'someone-else')).toEqual([]);
      w.close();
    });

    it('with a status filter, a session leaving the filter is sent once more', async () => {
      const agent = `s-${Math.random().toString(36).slice(2)}`;
      const a = (await api.create({ agent })).body.session;
      const w = await watch(server.url, server.key, `agent=${agent}&status=idle`);
      await w.until((e) => e.some((x) => x.event === 'ready'));
      await api.close(a.id);
      await w.until((e) => e.some((x) => x.data?.id === a.id && x.data.status === 'closed'));
      w.close();
    });

    it('resumes with Last-Event-ID without missing a change', async () => {
      const agent = `r-${Math.random().toString(36).slice(2)}`;
      const a = (await api.create({ agent })).body.session;
      const first = await watch(server.url, server.key, `agent=${agent}`);
      await first.until((e) => e.some((x) => x.event === 'ready'));
      const lastId = first.events.at(-1)!.id!;
      first.close();
      // Changes while nobody watches.
      const b = (await api.create({ agent })).body.session;
      await api.patch(a.id, { title: 'renamed' });
      await api.close(b.id);
      const second = await watch(server.url, server.key, `agent=${agent}`, lastId);
      await second.until((e) => e.some((x) => x.data?.id === b.id && x.data.status === 'closed'));
      await second.until((e) => e.some((x) => x.data?.id === a.id && x.data.title === 'renamed'));
      // No snapshot replay: the resumed stream starts with changes, then ready.
      expect(second.events[0]!.event).toBe('session');
      expect(Number(second.events[0]!.id)).toBeGreaterThan(Number(lastId));
      second.close();
    });
  });
}
