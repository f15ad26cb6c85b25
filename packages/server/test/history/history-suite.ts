/**
 * Retention of session `out` history, written once and run against each store:
 * time marks and trimming on the real store, 410 on every read mode of a real
 * listening server, `-1` at the retained head, forks of a trimmed channel,
 * transcripts kept, and two sweepers trimming the same database at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOffset, parseOffset } from '@tether/protocol';
import type { Store, StreamMeta } from '../../src/storage/types.js';
import { HistoryTrimmedError } from '../../src/storage/store-errors.js';
import { HistoryRetention } from '../../src/services/history-retention.js';
import type { ServerConfig } from '../../src/config.js';
import { eventually, sleep, turnApi, type TurnApi } from '../turns/turn-client.js';

export interface HistoryServer {
  url: string;
  key: string;
  /** The server's store. */
  store: Store;
  /** A second replica's store on the same database (the same store where one process owns it). */
  peer: Store;
  stop(): Promise<void>;
}

const ROWS = 10_000;
const message = (text: string) => ({ type: 'message', role: 'assistant', text });

export function describeHistoryRetention(name: string, start: (overrides?: Partial<ServerConfig>) => Promise<HistoryServer>): void {
  describe(`out history retention (${name})`, () => {
    let server: HistoryServer;
    let api: TurnApi;
    let auth: Record<string, string>;

    beforeAll(async () => {
      server = await start();
      api = turnApi(server.url, server.key);
      auth = { authorization: `Bearer ${server.key}` };
    });
    afterAll(() => server?.stop());

    const outUrl = (id: string, query: string) => `${server.url}/v1/stream/sessions/${id}/out?${query}`;
    const tail = async (id: string) => {
      const res = await fetch(outUrl(id, ''), { method: 'HEAD', headers: auth });
      return parseOffset(res.headers.get('stream-next-offset')!)!;
    };
    const texts = (events: Record<string, any>[]) => events.filter((e) => e.type === 'message').map((e) => e.text);
    const outStreamId = async (id: string) => {
      const lookup = await server.store.lookup(`/v1/stream/sessions/${id}/out`, Date.now());
      if (lookup.kind !== 'found') throw new Error(`no out channel for ${id}`);
      return lookup.meta.id;
    };
    /** The events of an SSE response's first `data` event; the response is cancelled after it. */
    const firstSseData = async (res: Response): Promise<Record<string, any>[]> => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`SSE ended before a data event: ${text}`);
          text += value;
          const frame = text.split('\n\n').find((block) => block.startsWith('event: data'));
          if (frame && text.includes(`${frame}\n\n`)) {
            const data = frame.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart());
            return JSON.parse(data.join('\n')) as Record<string, any>[];
          }
        }
      } finally {
        await reader.cancel();
      }
    };
    /** A session with `a` messages before a mark at `at`, then `b` more. */
    const markedSession = async (a: string[], at: number, b: string[]) => {
      const session = await api.newSession({ title: 'trim' });
      expect((await api.append(session.id, 'out', a.map(message))).status).toBe(204);
      const id = await outStreamId(session.id);
      await server.store.markOutTails(() => at, id - 1, 1, 1);
      if (b.length) expect((await api.append(session.id, 'out', b.map(message))).status).toBe(204);
      return session;
    };

    it('trims rows at or before the newest old mark; -1 starts at the retained head; nothing newer is lost', async () => {
      const session = await api.newSession({ title: 'trim' });
      await api.append(session.id, 'out', ['a1', 'a2', 'a3'].map(message));
      const id = await outStreamId(session.id);
      await server.store.markOutTails(() => 1_000, id - 1, 1, 1);
      const first = await tail(session.id);
      await api.append(session.id, 'out', ['b1', 'b2'].map(message));
      await server.store.markOutTails(() => 2_000, id - 1, 1, 1);
      const second = await tail(session.id);
      await api.append(session.id, 'out', ['c1'].map(message));

      // Nothing is older than a cutoff before the first mark.
      expect(await server.store.trimHistory(999, 1_000, ROWS)).toBe(0);
      expect(texts(await api.events(session.id, 'out'))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);

      const before = (await server.store.lookup(`/v1/stream/sessions/${session.id}/out`, Date.now())) as { kind: 'found'; meta: StreamMeta };
      expect(await server.store.trimHistory(1_500, 1_000, ROWS)).toBe(first);
      // A read that checked before the trim finds the hole instead of skipping it.
      await expect(server.store.read(before.meta, 0, before.meta.tail, 1 << 20)).rejects.toBeInstanceOf(HistoryTrimmedError);
      const meta = (await server.store.lookup(`/v1/stream/sessions/${session.id}/out`, Date.now())) as { kind: 'found'; meta: { trimmedTo: number } };
      expect(meta.meta.trimmedTo).toBe(first);
      const res = await fetch(outUrl(session.id, 'offset=-1'), { headers: auth });
      expect(res.status).toBe(200);
      expect(texts((await res.json()) as Record<string, any>[])).toEqual(['b1', 'b2', 'c1']);
      // No offset at all is the same as -1.
      const bare = await fetch(outUrl(session.id, ''), { headers: auth });
      expect(texts((await bare.json()) as Record<string, any>[])).toEqual(['b1', 'b2', 'c1']);
      const exact = await fetch(outUrl(session.id, `offset=${formatOffset(first)}`), { headers: auth });
      expect(texts((await exact.json()) as Record<string, any>[])).toEqual(['b1', 'b2', 'c1']);

      // Running it again finds nothing more to do; a later cutoff takes the next mark's rows.
      expect(await server.store.trimHistory(1_500, 1_000, ROWS)).toBe(0);
      expect(await server.store.trimHistory(2_500, 1_000, ROWS)).toBe(second - first);
      expect(texts(await api.events(session.id, 'out'))).toEqual(['c1']);
      expect(await tail(session.id)).toBe(second + 1);
      // Appends carry on at the tail.
      await api.append(session.id, 'out', [message('d1')]);
      expect(texts(await api.events(session.id, 'out'))).toEqual(['c1', 'd1']);
    });

    it('a read from -1 that a trim overtakes starts again at the new head; an explicit offset still gets 410', async () => {
      const overtake = async (query: string) => {
        const session = await markedSession(['a1', 'a2'], 1_000, ['b1']);
        const store = server.store;
        const read = store.read;
        let reads = 0;
        // The sweeper trims between the server's check of where history starts and its read of the rows.
        store.read = async (...args) => {
          if (reads++ === 0) await store.trimHistory(1_500, 1_000, ROWS);
          return read.apply(store, args);
        };
        try {
          return { res: await fetch(outUrl(session.id, query), { headers: auth }), reads };
        } finally {
          store.read = read;
        }
      };
      for (const query of ['offset=-1', '', 'offset=-1&live=long-poll']) {
        const { res } = await overtake(query);
        expect(res.status, query).toBe(200);
        expect(texts((await res.json()) as Record<string, any>[]), query).toEqual(['b1']);
      }
      const sse = await overtake('offset=-1&live=sse');
      expect(sse.res.status).toBe(200);
      expect(texts(await firstSseData(sse.res))).toEqual(['b1']);
      const { res } = await overtake(`offset=${formatOffset(0)}`);
      expect(res.status).toBe(410);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HISTORY_TRIMMED');
    });

    it('answers a trimmed offset with 410 HISTORY_TRIMMED on catch-up, long-poll and SSE', async () => {
      const session = await markedSession(['a1', 'a2'], 1_000, ['b1']);
      await server.store.trimHistory(1_500, 1_000, ROWS);
      const head = formatOffset(2);
      for (const query of [`offset=${formatOffset(0)}`, `offset=${formatOffset(1)}&live=long-poll`, `offset=${formatOffset(1)}&live=sse`]) {
        const res = await fetch(outUrl(session.id, query), { headers: auth });
        expect(res.status, query).toBe(410);
        const body = (await res.json()) as { error: { code: string; details: { earliestOffset: string } } };
        expect(body.error.code).toBe('HISTORY_TRIMMED');
        expect(body.error.details.earliestOffset).toBe(head);
      }
      // The retained head itself reads on every mode.
      const poll = await fetch(outUrl(session.id, `offset=${head}&live=long-poll`), { headers: auth });
      expect(poll.status).toBe(200);
      expect(texts((await poll.json()) as Record<string, any>[])).toEqual(['b1']);
      const controller = new AbortController();
      const sse = await fetch(outUrl(session.id, `offset=${head}&live=sse`), { headers: auth, signal: controller.signal });
      expect(sse.status).toBe(200);
      const reader = sse.body!.getReader();
      let text = '';
      while (!text.includes('event: control')) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      expect(text).toContain('"b1"');
      // offset=now is unaffected.
      expect((await fetch(outUrl(session.id, 'offset=now'), { headers: auth })).status).toBe(200);
    });

    it('keeps the transcript rows of trimmed events', async () => {
      const session = await markedSession(['kept in transcript'], 1_000, ['later']);
      expect(await server.store.trimHistory(1_500, 1_000, ROWS)).toBe(1);
      const messages = await api.call<{ data: { text: string }[] }>('GET', `/v1/sessions/${session.id}/messages`);
      expect(messages.body.data.map((m) => m.text)).toEqual(['kept in transcript', 'later']);
    });

    it('bounds each run: at most rowsPerStream rows per channel, the rest on later runs', async () => {
      const session = await markedSession(['1', '2', '3', '4', '5'], 1_000, ['6']);
      expect(await server.store.trimHistory(1_500, 1_000, 2)).toBe(2);
      expect(texts(await api.events(session.id, 'out'))).toEqual(['3', '4', '5', '6']);
      expect(await server.store.trimHistory(1_500, 1_000, 2)).toBe(2);
      expect(await server.store.trimHistory(1_500, 1_000, 2)).toBe(1);
      expect(await server.store.trimHistory(1_500, 1_000, 2)).toBe(0);
      expect(texts(await api.events(session.id, 'out'))).toEqual(['6']);
    });

    it('a fork sees its source trimmed below its fork point, and keeps what lies above', async () => {
      const source = await api.newSession({ title: 'source' });
      await api.append(source.id, 'out', ['s1', 's2'].map(message));
      const sourceId = await outStreamId(source.id);
      await server.store.markOutTails(() => 1_000, sourceId - 1, 1, 1);
      await api.append(source.id, 'out', ['s3'].map(message));
      const forked = await api.call<{ id: string }>('POST', `/v1/sessions/${source.id}/fork`, {});
      expect(forked.status).toBe(201);
      const fork = forked.body.id;
      await api.append(fork, 'out', [message('f1')]);
      expect(texts(await api.events(fork, 'out'))).toEqual(['s1', 's2', 's3', 'f1']);

      expect(await server.store.trimHistory(1_500, 1_000, ROWS)).toBe(2);
      expect(texts(await api.events(fork, 'out'))).toEqual(['s3', 'f1']);
      const gone = await fetch(outUrl(fork, `offset=${formatOffset(0)}`), { headers: auth });
      expect(gone.status).toBe(410);
      expect(((await gone.json()) as any).error.details.earliestOffset).toBe(formatOffset(2));
      // At and past the fork point the fork's own events read as before.
      const own = await fetch(outUrl(fork, `offset=${formatOffset(3)}&live=long-poll`), { headers: auth });
      expect(texts((await own.json()) as Record<string, any>[])).toEqual(['f1']);
      // A fork made after the trim starts at the same retained head, with a transcript of what was kept.
      const later = await api.call<{ id: string }>('POST', `/v1/sessions/${source.id}/fork`, {});
      expect(later.status).toBe(201);
      expect(texts(await api.events(later.body.id, 'out'))).toEqual(['s3']);
      const messages = await api.call<{ data: { text: string }[] }>('GET', `/v1/sessions/${later.body.id}/messages`);
      expect(messages.body.data.map((m) => m.text)).toEqual(['s3']);
      // Trimming the fork itself hides what it inherited below its own mark.
      const forkId = await outStreamId(fork);
      await server.store.markOutTails(() => 3_000, forkId - 1, 1, 1);
      await api.append(fork, 'out', [message('f2')]);
      expect(await server.store.trimHistory(3_500, 1_000, ROWS)).toBe(1);
      expect(texts(await api.events(fork, 'out'))).toEqual(['f2']);
      expect(texts(await api.events(source.id, 'out'))).toEqual(['s3']);
    });

    it('the sweeper walks channels in bounded batches and marks a channel again only after the spacing', async () => {
      let now = 10_000_000;
      const retention = new HistoryRetention({ store: server.store, clock: { now: () => now } }, 1_600);
      expect(retention.markSpacingMs).toBe(100);
      const sessions = [];
      for (let i = 0; i < 3; i++) {
        const s = await api.newSession({ title: `walk ${i}` });
        await api.append(s.id, 'out', [message(`${i}-old`)]);
        sessions.push(s);
      }
      // Walk every channel (earlier tests' sessions too) in batches of two.
      while (!(await retention.sweep(2)).wrapped);
      for (const s of sessions) await api.append(s.id, 'out', [message(`${s.id}-new`)]);
      // Within the spacing no new mark is taken, so the age passing trims only the old events.
      now += 50;
      while (!(await retention.sweep(2)).wrapped);
      now += 1_600;
      let trimmed = 0;
      for (let i = 0; i < 50; i++) trimmed += (await retention.sweep(2)).trimmed;
      expect(trimmed).toBeGreaterThanOrEqual(3);
      for (const s of sessions) expect(texts(await api.events(s.id, 'out'))).toEqual([`${s.id}-new`]);
    });

    it('a server started with retainOutHistoryMs trims on its own sweeps, never before the age', async () => {
      const own = await start({ retainOutHistoryMs: 4_000, sweepIntervalMs: 50 });
      try {
        const ownApi = turnApi(own.url, own.key);
        const session = await ownApi.newSession({ title: 'swept' });
        await ownApi.append(session.id, 'out', [message('old')]);
        const appendedAt = Date.now();
        await sleep(2_000);
        await ownApi.append(session.id, 'out', [message('new')]);
        expect(texts(await ownApi.events(session.id, 'out'))).toEqual(['old', 'new']);
        await eventually(async () => {
          const now = texts(await ownApi.events(session.id, 'out'));
          return now.length === 1 && now[0] === 'new';
        }, 8_000);
        expect(Date.now() - appendedAt).toBeGreaterThanOrEqual(4_000);
        const gone = await fetch(`${own.url}/v1/stream/sessions/${session.id}/out?offset=${formatOffset(0)}`, {
          headers: { authorization: `Bearer ${own.key}` },
        });
        expect(gone.status).toBe(410);
      } finally {
        await own.stop();
      }
    });

    it('two sweepers trimming the same database at once, with appends running, lose nothing newer and delete each row once', async () => {
      const sessions = [];
      const expected = new Map<string, string[]>();
      let old = 0;
      for (let i = 0; i < 12; i++) {
        const s = await api.newSession({ title: `race ${i}` });
        const before = Array.from({ length: 5 }, (_, j) => `${i}-old-${j}`);
        await api.append(s.id, 'out', before.map(message));
        old += 5;
        sessions.push(s);
      }
      const ids = await Promise.all(sessions.map((s) => outStreamId(s.id)));
      for (const id of ids) await server.store.markOutTails(() => 50_000, id - 1, 1, 1);
      const marked = await Promise.all(sessions.map((s) => tail(s.id)));
      expect(marked.reduce((a, b) => a + b, 0)).toBe(old);
      for (const [i, s] of sessions.entries()) {
        const after = [`${i}-new-0`];
        await api.append(s.id, 'out', after.map(message));
        expected.set(s.id, after);
      }
      const appending = Promise.all(
        sessions.map(async (s, i) => {
          for (let k = 1; k < 4; k++) {
            expect((await api.append(s.id, 'out', [message(`${i}-new-${k}`)])).status).toBe(204);
            expected.get(s.id)!.push(`${i}-new-${k}`);
          }
        }),
      );
      let deleted = 0;
      const sweeper = async (store: Store) => {
        // Small per-channel steps so the two runs overlap on the same channels.
        for (let round = 0; round < 10; round++) {
          const n = await store.trimHistory(60_000, 1_000, 2);
          deleted += n;
        }
      };
      await Promise.all([sweeper(server.store), sweeper(server.peer), appending]);
      // Whatever was skipped while locked is finished by a later run.
      for (let more = 1; more > 0; deleted += more) more = await server.store.trimHistory(60_000, 1_000, 2);
      expect(deleted).toBe(old);
      for (const s of sessions) expect(texts(await api.events(s.id, 'out'))).toEqual(expected.get(s.id));
      for (const [i, id] of ids.entries()) expect((await server.store.getById(id))!.trimmedTo).toBe(marked[i]);
    });
  });
}
