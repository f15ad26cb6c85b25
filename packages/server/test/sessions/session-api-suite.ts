/**
 * The session API, tested over HTTP against a real listening server. Written
 * once and run against each store by the files that call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stream } from '@durable-streams/client';
import { MAX_METADATA_BYTES } from '@tether/protocol';
import { sessionApi, type SessionApi } from './session-client.js';

export interface ServerUnderTest {
  url: string;
  /** An admin key of the server. */
  key: string;
  stop(): Promise<void>;
}

const unique = () => Math.random().toString(36).slice(2, 10);

export function describeSessionApi(name: string, start: () => Promise<ServerUnderTest>): void {
  describe(`session API (${name})`, () => {
    let server: ServerUnderTest;
    let api: SessionApi;

    beforeAll(async () => {
      server = await start();
      api = sessionApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    it('creates idempotently by externalId and refuses closed and expired ones', async () => {
      const externalId = `chat-${unique()}`;
      const first = await api.create({ externalId, title: 'Hello', tags: ['a'], agent: 'echo', metadata: { k: 1 } });
      expect(first.status).toBe(201);
      expect(first.body.created).toBe(true);
      const session = first.body.session;
      expect(session.id).toMatch(/^ses_[0-9A-Z]{26}$/);
      expect(session).toMatchObject({ externalId, title: 'Hello', tags: ['a'], agent: 'echo', status: 'idle', metadata: { k: 1 } });
      expect(session.rootId).toBe(session.id);
      expect(session.channels.out.url).toBe(`/v1/stream/sessions/${session.id}/out`);

      const again = await api.create({ externalId, title: 'ignored' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, session: { id: session.id, title: 'Hello' } });

      expect((await api.close(externalId, 'done')).status).toBe(200);
      const closed = await api.create({ externalId });
      expect(closed.status).toBe(409);
      expect(closed.body).toMatchObject({ error: { code: 'SESSION_CLOSED' } });

      const expiring = `exp-${unique()}`;
      const soon = new Date(Date.now() + 400).toISOString();
      expect((await api.create({ externalId: expiring, expiresAt: soon })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await api.get(expiring)).body.status).toBe('expired');
      const late = await api.create({ externalId: expiring });
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
    });

    it('gets by id or externalId and answers 404 with a code', async () => {
      const { body } = await api.create({ externalId: `g-${unique()}` });
      expect((await api.get(body.session.id)).body.id).toBe(body.session.id);
      expect((await api.get(body.session.externalId!)).body.id).toBe(body.session.id);
      const missing = await api.get('ses_00000000000000000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    });

    it('lists with combined filters, newest first, paging by cursor', async () => {
      const agent = `agent-${unique()}`;
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        const tags = i % 2 === 0 ? ['even', 'x'] : ['odd', 'x'];
        made.push((await api.create({ agent, tags, type: i < 5 ? 'chat' : 'task' })).body.session.id);
      }
      await api.close(made[0]!);
      const all = await api.list(`agent=${agent}`);
      expect(all.body.data.map((s) => s.id)).toEqual([...made].reverse());

      const evenChats = await api.list(`agent=${agent}&tag=even&tag=x&type=chat&status=idle`);
      expect(evenChats.body.data.map((s) => s.id)).toEqual([made[4], made[2]]);
      expect((await api.list(`agent=${agent}&status=closed`)).body.data.map((s) => s.id)).toEqual([made[0]]);
      expect((await api.list(`agent=${agent}&status=closed&status=idle`)).body.data).toHaveLength(7);

      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<SessionApi['list']>> = await api.list(`agent=${agent}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        pages.push(...page.body.data.map((s) => s.id));
        cursor = page.body.nextCursor;
        // Inserts racing the pager land on an earlier page, never in the middle.
        if (pages.length === 3) await api.create({ agent });
      } while (cursor);
      expect(pages).toEqual([...made].reverse());

      const created = (await api.get(made[3]!)).body.createdAt;
      const after = await api.list(`agent=${agent}&createdAfter=${encodeURIComponent(created)}`);
      expect(after.body.data.every((s) => s.createdAt > created)).toBe(true);
      const before = await api.list(`agent=${agent}&createdBefore=${encodeURIComponent(created)}`);
      expect(before.body.data.map((s) => s.id)).toEqual(made.slice(0, 3).reverse());
    });

    it('patches title, tags and metadata, never externalId', async () => {
      const { body } = await api.create({ externalId: `p-${unique()}`, tags: ['one'] });
      const patched = await api.patch(body.session.id, { title: 'New', tags: ['two', 'three'], metadata: { a: [1] } });
      expect(patched.body).toMatchObject({ title: 'New', tags: ['two', 'three'], metadata: { a: [1] } });
      expect((await api.list(`tag=two&tag=three`)).body.data.map((s) => s.id)).toContain(body.session.id);
      expect((await api.list(`tag=one`)).body.data.map((s) => s.id)).not.toContain(body.session.id);
      const immutable = await api.patch(body.session.id, { externalId: 'other' });
      expect(immutable.status).toBe(400);
      expect(immutable.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    });

    it('closes once, with both channels, and appends then meet the protocol 409', async () => {
      const { body } = await api.create();
      const { session } = body;
      expect((await api.appendEvents(session, 'out', { type: 'message', role: 'assistant', text: 'hi' })).status).toBe(204);
      const closed = await api.close(session.id, 'finished');
      expect(closed.body).toMatchObject({ status: 'closed', closedReason: 'finished' });
      const again = await api.close(session.id, 'other reason');
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ closedReason: 'finished', closedAt: closed.body.closedAt });
      for (const channel of ['out', 'in'] as const) {
        const res = await api.appendEvents(session, channel, { type: 'custom.note' });
        expect(res.status).toBe(409);
        expect(res.headers.get('stream-closed')).toBe('true');
      }
      const read = await api.readChannel(session, 'out');
      expect(read.events).toEqual([{ type: 'message', role: 'assistant', text: 'hi' }]);
      expect(read.headers.get('stream-closed')).toBe('true');
    });

    it('deletes a session with its channels', async () => {
      const { body } = await api.create({ externalId: `d-${unique()}` });
      expect((await api.remove(body.session.id)).status).toBe(204);
      expect((await api.get(body.session.id)).status).toBe(404);
      expect((await api.readChannel(body.session, 'out')).status).toBe(404);
      expect((await api.remove(body.session.id)).status).toBe(404);
      // The external id is free again.
      expect((await api.create({ externalId: body.session.externalId })).status).toBe(201);
    });

    it('keeps lineage: parentId, rootId and children', async () => {
      const root = (await api.create()).body.session;
      const child = (await api.create({ parentId: root.id })).body.session;
      const grandchild = (await api.create({ parentId: child.id, rootId: root.id })).body.session;
      expect(child).toMatchObject({ parentId: root.id, rootId: root.id });
      expect(grandchild).toMatchObject({ parentId: child.id, rootId: root.id });
      expect((await api.children(root.id)).body.data.map((s) => s.id)).toEqual([child.id]);
      expect((await api.list(`rootId=${root.id}`)).body.data.map((s) => s.id)).toEqual([grandchild.id, child.id, root.id]);
      const wrongRoot = await api.create({ parentId: child.id, rootId: child.id });
      expect(wrongRoot.status).toBe(400);
      const noParent = await api.create({ parentId: 'ses_00000000000000000000000000' });
      expect(noParent.status).toBe(404);
    });

    it('forks a session: channels fork at an offset and forkedFrom is recorded', async () => {
      const source = (await api.create({ title: 'src', tags: ['t'] })).body.session;
      for (const text of ['one', 'two', 'three']) {
        expect((await api.appendEvents(source, 'out', { type: 'message', role: 'assistant', text })).status).toBe(204);
      }
      const atTwo = (await api.readChannel(source, 'out')).events.length === 3 ? '0000000000000000_0000000000000002' : '';
      const fork = await api.fork(source.id, { offset: atTwo, title: 'branch' });
      expect(fork.status).toBe(201);
      expect(fork.body).toMatchObject({ title: 'branch', tags: ['t'], forkedFrom: { sessionId: source.id, offset: atTwo } });
      const forked = await api.readChannel(fork.body, 'out');
      expect(forked.events.map((e: any) => e.text)).toEqual(['one', 'two']);
      expect((await api.appendEvents(fork.body, 'out', { type: 'message', role: 'assistant', text: 'other' })).status).toBe(204);
      expect((await api.readChannel(fork.body, 'out')).events.map((e: any) => e.text)).toEqual(['one', 'two', 'other']);
      expect((await api.readChannel(source, 'out')).events).toHaveLength(3);
      // Deleting the source leaves the fork's inherited history readable.
      expect((await api.remove(source.id)).status).toBe(204);
      expect((await api.readChannel(fork.body, 'out')).events).toHaveLength(3);
      const tooFar = await api.fork(fork.body.id, { offset: '0000000000000000_0000000000000099' });
      expect(tooFar.status).toBe(400);
    });

    it('guards channels: the raw stream API may not create, close or delete them; events are validated', async () => {
      const { session } = (await api.create()).body;
      const url = server.url + session.channels.out.url;
      const auth = { authorization: `Bearer ${server.key}` };
      expect((await fetch(url, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } })).status).toBe(403);
      expect((await fetch(url, { method: 'DELETE', headers: auth })).status).toBe(403);
      expect((await fetch(url, { method: 'POST', headers: { ...auth, 'stream-closed': 'true' } })).status).toBe(403);
      expect((await fetch(`${server.url}/v1/stream/sessions/mine`, { method: 'PUT', headers: auth })).status).toBe(403);
      const invalid = [
        ['out', 5],
        ['out', { no: 'type' }],
        ['out', { type: 'message.delta', messageId: 'm1' }],
        ['out', { type: 'tool.call', toolCallId: 't1' }],
        ['out', { type: 'usage', inputTokens: 'many', outputTokens: 1 }],
        ['out', { type: 'interaction.requested', interactionId: 'i', kind: 'quiz', prompt: 'p' }],
        ['in', { type: 'user.message' }],
        ['in', { type: 'message', role: 'user', text: 'wrong channel' }],
        ['out', [{ type: 'custom.ok' }, { type: 'turn.started' }]],
      ] as const;
      for (const [channel, event] of invalid) {
        const res = await api.appendEvents(session, channel, event);
        expect(res.status, JSON.stringify(event)).toBe(400);
        expect(((await res.json()) as any).error.code).toBe('INVALID_EVENT');
      }
      expect((await api.readChannel(session, 'out')).events).toEqual([]);
      expect((await api.readChannel(session, 'in')).events).toEqual([]);
      expect((await api.appendEvents(session, 'in', { type: 'user.message', text: 'hi' })).status).toBe(204);
      expect((await api.appendEvents(session, 'out', [{ type: 'custom.x', any: 1 }, { type: 'turn.started', turnId: 't' }])).status).toBe(204);
    });

    it('serves channels to a stock Durable Streams client, live and resumable', async () => {
      const { session } = (await api.create()).body;
      const url = server.url + session.channels.out.url;
      const headers = { authorization: `Bearer ${server.key}` };
      const live = await stream<{ type: string; text: string }>({ url, headers, offset: '-1', live: 'sse', json: true });
      const seen: string[] = [];
      const reading = (async () => {
        for await (const event of live.jsonStream()) seen.push(event.text);
      })();
      for (const text of ['a', 'b', 'c']) {
        expect((await api.appendEvents(session, 'out', { type: 'message', role: 'assistant', text })).status).toBe(204);
      }
      await api.close(session.id);
      await reading;
      expect(seen).toEqual(['a', 'b', 'c']);
      // Resume from an offset handed out earlier: only what came after it.
      const caughtUp = await stream<{ text: string }>({ url, headers, offset: '0000000000000000_0000000000000002', live: false, json: true });
      expect((await caughtUp.json()).map((e) => e.text)).toEqual(['c']);
    });

    it('rejects bad input with stable codes and writes nothing', async () => {
      const tag = `bad-${unique()}`;
      const cases: [Record<string, unknown>, string][] = [
        [{ externalId: 'ses_mine', tags: [tag] }, 'VALIDATION_FAILED'],
        [{ tags: [tag, ...Array.from({ length: 20 }, (_, i) => `t${i}`)] }, 'VALIDATION_FAILED'],
        [{ tags: [tag], metadata: { blob: 'x'.repeat(MAX_METADATA_BYTES) } }, 'VALIDATION_FAILED'],
        [{ tags: [tag], unknownField: true }, 'VALIDATION_FAILED'],
        [{ tags: [tag], ttlSeconds: 10, expiresAt: new Date().toISOString() }, 'VALIDATION_FAILED'],
        [{ tags: [tag], ttlSeconds: -1 }, 'VALIDATION_FAILED'],
        [{ tags: [tag], title: '' }, 'VALIDATION_FAILED'],
      ];
      for (const [body, code] of cases) {
        const res = await api.create(body);
        expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect(res.body).toMatchObject({ error: { code } });
      }
      expect((await api.list(`tag=${tag}`)).body.data).toEqual([]);
      for (const [query, code] of [
        ['status=sleeping', 'VALIDATION_FAILED'],
        ['limit=0', 'VALIDATION_FAILED'],
        ['limit=201', 'VALIDATION_FAILED'],
        ['colour=red', 'VALIDATION_FAILED'],
        ['createdAfter=yesterday', 'VALIDATION_FAILED'],
        ['cursor=not-a-cursor', 'INVALID_CURSOR'],
        [`cursor=${Buffer.from('{"v":1,"id":"x"}').toString('base64url')}`, 'INVALID_CURSOR'],
      ]) {
        const res = await api.list(query!);
        expect(res.status, query).toBe(400);
        expect(res.body).toMatchObject({ error: { code } });
      }
      const raw = await fetch(`${server.url}/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(raw.status).toBe(400);
    });
  });
}
