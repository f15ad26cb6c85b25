/** getState / setState from a turn, against the real state routes (ETag / If-Match). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, authOf, startAgent, startTestServer, unique, type TestServer } from './support.js';

let server: TestServer;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url, server.key);
});
afterAll(() => server?.stop());

it('keeps a resume record across turns and refuses a write over a newer version', async () => {
  const agent = `stateful-${unique()}`;
  const seen: unknown[] = [];
  let conflict: unknown;
  const runner = startAgent({
    url: server.url,
    apiKey: server.key,
    agents: [agent],
    handler: async (ctx) => {
      const state = await ctx.getState<{ turns: number }>();
      seen.push(state);
      if (ctx.text === 'race') {
        // Someone else writes between our read and our write.
        const other = await fetch(`${server.url}/v1/sessions/${ctx.session.id}/state`, {
          method: 'PUT',
          headers: { ...authOf(server), 'content-type': 'application/json' },
          body: JSON.stringify({ turns: 100 }),
        });
        expect(other.status).toBe(200);
        conflict = await ctx.setState({ turns: (state?.turns ?? 0) + 1 }).catch((error) => error);
        return;
      }
      await ctx.setState({ turns: (state?.turns ?? 0) + 1 });
    },
  });
  try {
    const session = await client.createSession({ agent });
    for (const text of ['one', 'two', 'race']) {
      const turnId = (await client.send(session.id, text)).body.turn.id;
      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'completed' });
    }
    expect(seen).toEqual([null, { turns: 1 }, { turns: 2 }]);
    expect(conflict).toMatchObject({ name: 'TetherError', code: 'PRECONDITION_FAILED', status: 412 });
    const stored = await fetch(`${server.url}/v1/sessions/${session.id}/state`, { headers: authOf(server) });
    expect(await stored.json()).toEqual({ turns: 100 });
  } finally {
    await runner.stop();
  }
});
