/**
 * The typed client (docs/client.md) against a real listening server:
 * sessions, lists over cursors, lineage, the live monitor, channels,
 * interactions and typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isTetherError, TetherError, type TetherClient, type WatchEvent } from '../src/index.js';
import { eventually, startAgent, startTestServer, unique, type TestServer } from './support.js';

let server: TestServer;
let client: TetherClient;

beforeAll(async () => {
  server = await startTestServer();
  client = createClient({ url: server.url, apiKey: server.key });
});
afterAll(() => server?.stop());

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('client.sessions', () => {
  it('creates, finds by id and externalId, patches, closes and deletes', async () => {
    const externalId = `chat-${unique()}`;
    const created = await client.sessions.create({ externalId, title: 'First', agent: 'echo', tags: ['a'] });
    expect(created.created).toBe(true);
    expect(created.session).toMatchObject({ externalId, title: 'First', status: 'idle' });
    const again = await client.sessions.create({ externalId });
    expect(again).toMatchObject({ created: false, session: { id: created.session.id } });

    expect((await client.sessions.get(externalId)).id).toBe(created.session.id);
    expect((await client.session(created.session.id).get()).externalId).toBe(externalId);

    const patched = await client.session(externalId).patch({ title: 'Renamed', metadata: { n: 1 } });
    expect(patched).toMatchObject({ title: 'Renamed', metadata: { n: 1 }, tags: ['a'] });

    const closed = await client.sessions.close(externalId, 'done');
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'done' });
    const conflict = await client.sessions.create({ externalId }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(TetherError);
    expect(conflict).toMatchObject({ code: 'SESSION_CLOSED', status: 409 });

    await client.session(created.session.id).delete();
    const missing = await client.sessions.get(created.session.id).catch((error: unknown) => error);
    expect(isTetherError(missing, 'SESSION_NOT_FOUND')).toBe(true);
    expect((missing as TetherError).status).toBe(404);
  });

  it('carries the server code and details of a rejected request', async () => {
    const error = await client.sessions.create({ externalId: 'ses_not_allowed' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TetherError', code: 'VALIDATION_FAILED', status: 400 });
    expect((error as TetherError).retriable).toBe(false);
  });

  it('lists every match across pages as an async iterator, newest first', async () => {
    const tag = `list-${unique()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.sessions.create({ tags: [tag], title: `s${i}` })).session.id);
    const page = await client.sessions.page({ tag }, { limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));

    const listed = await collect(client.sessions.list({ tag }, { limit: 2 }));
    expect(listed.map((s) => s.id)).toEqual([...ids].reverse());

    // Stopping early fetches no further pages and ends cleanly.
    const firstThree: string[] = [];
    for await (const session of client.sessions.list({ tag }, { limit: 2 })) {
      firstThree.push(session.id);
      if (firstThree.length === 3) break;
    }
    expect(firstThree).toEqual(ids.slice(2).reverse());

    await client.sessions.close(ids[0]!);
    expect((await collect(client.sessions.list({ tag, status: 'closed' }))).map((s) => s.id)).toEqual([ids[0]]);
    expect(await collect(client.sessions.list({ tag, status: ['idle', 'closed'] }))).toHaveLength(5);
  });

  it('forks a session at an offset and lists children', async () => {
    const parent = (await client.sessions.create({ title: 'parent' })).session;
    const handle = client.session(parent.id);
    await handle.out.send([
      { type: 'message', role: 'assistant', text: 'one' },
      { type: 'message', role: 'assistant', text: 'two' },
    ]);
    const [first] = (await handle.out.read()).entries;
    const fork = await handle.fork({ offset: first!.offset, title: 'fork' });
    expect(fork).toMatchObject({ title: 'fork', forkedFrom: { sessionId: parent.id, offset: first!.offset } });
    expect((await client.session(fork.id).out.read()).entries.map((e) => e.event.text)).toEqual(['one']);

    const kids = [];
    for (let i = 0; i < 3; i++) kids.push((await client.sessions.create({ parentId: parent.id })).session.id);
    expect((await collect(handle.children({}, { limit: 2 }))).map((s) => s.id)).toEqual([...kids].reverse());
  });

  it('watches sessions: a snapshot, ready, then live changes and deletions', async () => {
    const tag = `watch-${unique()}`;
    const existing = (await client.sessions.create({ tags: [tag] })).session;
    const stop = new AbortController();
    const seen: WatchEvent[] = [];
    const watching = (async () => {
      for await (const event of client.sessions.watch({ tag }, { signal: stop.signal })) seen.push(event);
    })();
    try {
      await eventually(() => seen.some((e) => e.type === 'ready'), 10_000, 'ready');
      expect(seen[0]).toMatchObject({ type: 'session', session: { id: existing.id } });
      const fresh = (await client.sessions.create({ tags: [tag] })).session;
      await client.sessions.close(fresh.id);
      await eventually(() => seen.some((e) => e.type === 'session' && e.session.id === fresh.id && e.session.status === 'closed'), 10_000, 'close');
      await client.sessions.delete(existing.id);
      await eventually(() => seen.some((e) => e.type === 'session.deleted' && e.id === existing.id), 10_000, 'deletion');
    } finally {
      stop.abort();
      await watching;
    }
  });
});

describe('session channels', () => {
  it('sends to in and subscribes to out by externalId, each entry with its resume offset', async () => {
    const externalId = `chan-${unique()}`;
    await client.sessions.create({ externalId });
    const session = client.session(externalId);
    const sent = await session.in.send({ type: 'custom.ping', n: 1 });
    expect(sent.duplicate).toBe(false);
    expect(sent.offset).toEqual(expect.any(String));
    expect((await session.in.read()).entries).toEqual([{ event: { type: 'custom.ping', n: 1 }, offset: sent.offset }]);

    for (let i = 0; i < 4; i++) await session.out.send({ type: 'custom.tick', i });
    const stop = new AbortController();
    const entries: { i: unknown; offset: string }[] = [];
    for await (const entry of session.out.subscribe({ signal: stop.signal })) {
      entries.push({ i: entry.event.i, offset: entry.offset });
      if (entries.length === 4) break;
    }
    expect(entries.map((e) => e.i)).toEqual([0, 1, 2, 3]);
    // Resuming from any entry's offset yields exactly what followed it.
    for (let k = 0; k < 4; k++) {
      const rest = (await session.out.read({ from: entries[k]!.offset })).entries.map((e) => e.event.i);
      expect(rest).toEqual([0, 1, 2, 3].slice(k + 1));
    }
    // A live subscription sees later events, then ends when the session closes.
    const live = (async () => {
      const events = [];
      for await (const entry of session.out.subscribe({ from: entries[3]!.offset })) events.push(entry.event);
      return events;
    })();
    await session.out.send({ type: 'custom.tick', i: 4 });
    await session.close();
    expect((await live).map((e) => e.i)).toEqual([4]);
  });

  it('rejects an invalid event with the server code and appends nothing', async () => {
    const session = client.session((await client.sessions.create()).session.id);
    const error = await session.out.send({ type: 'message.delta' } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_EVENT', status: 400 });
    // The producer spent no sequence number on it: the next send is accepted.
    await session.out.send({ type: 'custom.ok' });
    expect((await session.out.read()).entries.map((e) => e.event.type)).toEqual(['custom.ok']);
  });

  it('sends messages that admit turns, with the busy policy and typed SESSION_BUSY', async () => {
    const session = client.session((await client.sessions.create({ agent: `nobody-${unique()}` })).session.id);
    const first = await session.sendMessage('hello');
    expect(first.turn).toMatchObject({ status: 'queued', content: 'hello' });
    const busy = await session.sendMessage('again').catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'SESSION_BUSY', status: 409 });
    await session.sendMessage('later', { policy: 'enqueue' });
    // Turns are listed newest first.
    expect((await collect(session.turns())).map((t) => t.content)).toEqual(['later', 'hello']);
  });
});

describe('interactions', () => {
  it('lists a question, answers it once, and shows it in the inbox until then', async () => {
    const agent = `asker-${unique()}`;
    const answers: string[] = [];
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        answers.push(await ctx.waitForChoice('Which colour?', ['red', 'blue']));
      },
    });
    try {
      const session = client.session((await client.sessions.create({ agent })).session.id);
      const { turn } = await session.sendMessage('start');
      const [question] = await eventually(async () => {
        const page = await session.interactions.page({ status: 'pending' });
        return page.data.length ? page.data : null;
      }, 15_000, 'a pending question');
      expect(question).toMatchObject({ kind: 'choice', prompt: 'Which colour?', choices: ['red', 'blue'], status: 'pending' });
      const inbox = [];
      for await (const item of client.interactions.inbox()) inbox.push(item.id);
      expect(inbox).toContain(question!.id);

      const bad = await session.interactions.respond(question!.id, { response: 'green' }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(TetherError);
      expect((bad as TetherError).status).toBe(400);
      const resolved = await session.interactions.respond(question!.id, { response: 'blue' });
      expect(resolved).toMatchObject({ status: 'resolved', response: 'blue' });
      const second = await session.interactions.respond(question!.id, { response: 'red' }).catch((e: unknown) => e);
      expect(second).toMatchObject({ code: 'INTERACTION_NOT_PENDING', status: 409 });

      await runner.finished(turn.id);
      expect(answers).toEqual(['blue']);
      const after = [];
      for await (const item of client.interactions.inbox()) after.push(item.id);
      expect(after).not.toContain(question!.id);
      expect((await collect(session.interactions.list())).map((i) => i.status)).toEqual(['resolved']);
    } finally {
      await runner.stop();
    }
  });
});
