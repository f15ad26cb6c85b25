/**
 * runAgent against a real server (docs/turns.md): turns streamed end to end,
 * interrupts, questions, failures and completion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoAgent } from '@tether/example-echo-agent';
import { TetherError, runAgent, type TurnContext } from '../src/index.js';
import { api, authOf, deltasOf, eventually, startAgent, startTestServer, unique, watchOut, type TestServer } from './support.js';

let server: TestServer;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url, server.key);
});
afterAll(() => server?.stop());

describe('runAgent', () => {
  it('streams a turn end to end: messages, a tool call, usage, completion, read live over SSE', async () => {
    const agent = `echo-${unique()}`;
    const runner = startAgent({ url: server.url, apiKey: server.key, agents: [agent], handler: echoAgent({ delayMs: 5 }) });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const sent = await client.send(session.id, 'hello durable world');
      expect(sent.status).toBe(202);
      const turnId = sent.body.turn.id;

      await out.waitFor((e) => e.type === 'turn.completed' && e.turnId === turnId);
      const types = out.events.map((e) => e.type).filter((t) => !t.startsWith('turn.'));
      expect(types.slice(0, 2)).toEqual(['message.started', 'message.delta']);
      const [first, second] = out.events.filter((e) => e.type === 'message.started');
      expect(first).toMatchObject({ role: 'assistant', model: 'echo-1' });
      expect(deltasOf(out.events, first!.messageId as string)).toEqual(['You', ' said:', ' hello', ' durable', ' world']);
      expect(deltasOf(out.events, second!.messageId as string).join('')).toBe('That was 3 words.');
      expect(out.events.filter((e) => e.type === 'message.completed').map((e) => e.messageId)).toEqual([first!.messageId, second!.messageId]);

      const call = out.events.find((e) => e.type === 'tool.call')!;
      expect(call).toMatchObject({ name: 'word_count', input: { text: 'hello durable world' } });
      const result = out.events.find((e) => e.type === 'tool.result')!;
      expect(result).toMatchObject({ toolCallId: call.toolCallId, output: { words: 3 } });
      expect(result.durationMs).toEqual(expect.any(Number));
      expect(out.events.find((e) => e.type === 'usage')).toMatchObject({ inputTokens: 3, outputTokens: 9, model: 'echo-1' });
      // Everything the runner wrote comes before the server's turn.completed.
      expect(out.events.at(-1)).toMatchObject({ type: 'turn.completed', turnId });

      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'completed' });
      await eventually(async () => (await client.getSession(session.id)).status === 'idle', 5_000, 'status idle');
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('interrupt fires the AbortSignal at once and the turn ends interrupted', async () => {
    const agent = `slow-${unique()}`;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let reason: unknown;
    let abortedAfterMs = -1;
    // A long lease: heartbeats come every 10 s, so only the `in` channel can be this quick.
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      leaseMs: 30_000,
      handler: async (ctx: TurnContext) => {
        const message = await ctx.startMessage();
        await message.delta('working');
        started();
        const t0 = Date.now();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        abortedAfterMs = Date.now() - t0;
        reason = ctx.signal.reason;
        // The lease is still ours: last words are allowed before the turn completes.
        await message.complete();
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const turnId = (await client.send(session.id, 'take your time')).body.turn.id;
      await running;
      const requested = Date.now();
      expect((await client.interrupt(session.id)).status).toBeLessThan(300);
      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'interrupted' });
      expect(Date.now() - requested).toBeLessThan(3_000);
      expect(abortedAfterMs).toBeGreaterThanOrEqual(0);
      expect(reason).toBeInstanceOf(TetherError);
      expect(reason).toMatchObject({ code: 'ABORTED', details: { reason: 'interrupt' } });
      await out.waitFor((e) => e.type === 'turn.interrupted' && e.turnId === turnId);
      expect(out.events.some((e) => e.type === 'message.completed')).toBe(true);
      expect((await client.turns(session.id)).data.find((t) => t.id === turnId)?.status).toBe('interrupted');
      expect((await client.interrupt(session.id)).body).toMatchObject({ error: { code: 'SESSION_NOT_RUNNING' } });
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('waitForChoice: the session waits, the respond route answers, the turn goes on', async () => {
    const agent = `choose-${unique()}`;
    const runner = startAgent({ url: server.url, apiKey: server.key, agents: [agent], handler: echoAgent({ delayMs: 1 }) });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const turnId = (await client.send(session.id, 'please choose a colour')).body.turn.id;
      const asked = await out.waitFor((e) => e.type === 'interaction.requested');
      expect(asked).toMatchObject({ kind: 'choice', prompt: 'Pick one', choices: ['red', 'green', 'blue'] });
      await eventually(async () => (await client.getSession(session.id)).status === 'waiting', 5_000, 'status waiting');

      const wrong = await client.respond(session.id, asked.interactionId as string, { response: 'purple' });
      expect(wrong.status).toBe(400);
      expect((await client.respond(session.id, asked.interactionId as string, { response: 'green' })).status).toBe(200);

      await out.waitFor((e) => e.type === 'turn.completed' && e.turnId === turnId);
      const messages = out.events.filter((e) => e.type === 'message.started').map((e) => deltasOf(out.events, e.messageId as string).join(''));
      expect(messages.at(-1)).toBe('You picked green. Good choice.');
      expect(out.events.find((e) => e.type === 'interaction.resolved')).toMatchObject({ interactionId: asked.interactionId });
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('approve rejects on deny; waitForInput resolves with the text', async () => {
    const agent = `approve-${unique()}`;
    const outcomes: unknown[] = [];
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        outcomes.push(await ctx.waitForInput('Your name?'));
        outcomes.push(await ctx.approve('Delete everything?').catch((error) => error));
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const turnId = (await client.send(session.id, 'go')).body.turn.id;
      const input = await out.waitFor((e) => e.type === 'interaction.requested' && e.kind === 'input');
      expect((await client.respond(session.id, input.interactionId as string, { response: 'Ada' })).status).toBe(200);
      const approval = await out.waitFor((e) => e.type === 'interaction.requested' && e.kind === 'approval');
      expect((await client.respond(session.id, approval.interactionId as string, { deny: true })).status).toBe(200);
      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'completed' });
      expect(outcomes[0]).toBe('Ada');
      expect(outcomes[1]).toMatchObject({ name: 'TetherError', code: 'INTERACTION_DENIED' });
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('a handler that throws fails the turn with its message; the runner goes on', async () => {
    const agent = `boom-${unique()}`;
    let calls = 0;
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        calls++;
        if (ctx.text === 'boom') throw new Error('the model caught fire');
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const failed = (await client.send(session.id, 'boom')).body.turn.id;
      await out.waitFor((e) => e.type === 'turn.failed' && e.turnId === failed);
      expect(JSON.stringify(out.events.find((e) => e.type === 'turn.failed'))).toContain('the model caught fire');
      const ok = (await client.send(session.id, 'fine')).body.turn.id;
      expect(await runner.finished(ok)).toMatchObject({ outcome: 'completed' });
      expect(calls).toBe(2);
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('cancel ends the turn cancelled, and a context kept past its turn refuses to emit', async () => {
    const agent = `cancel-${unique()}`;
    let kept: TurnContext | undefined;
    let reason: unknown;
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        kept = ctx;
        await ctx.waitForInput('Anything else?').catch((error) => (reason = error));
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const turnId = (await client.send(session.id, 'hi')).body.turn.id;
      await out.waitFor((e) => e.type === 'interaction.requested');
      expect((await client.call('POST', `/v1/sessions/${session.id}/turns/${turnId}/cancel`)).status).toBe(200);
      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'cancelled' });
      expect(reason).toMatchObject({ name: 'TetherError' });
      expect(['ABORTED', 'INTERACTION_CANCELLED']).toContain((reason as TetherError).code);
      await out.waitFor((e) => e.type === 'turn.cancelled' && e.turnId === turnId);
      await expect(kept!.emit({ type: 'custom.late' })).rejects.toMatchObject({ code: 'TURN_FINISHED' });
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('a message sent with policy interrupt stops the running turn and runs next, untouched by that interrupt', async () => {
    const agent = `policy-${unique()}`;
    const stopped: string[] = [];
    const runner = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        if (ctx.text === 'first') {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          stopped.push(ctx.turn.id);
          return;
        }
        // The control.interrupt for the first turn is on `in` too; it must not stop this one.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await ctx.emit({ type: 'custom.second', aborted: ctx.signal.aborted });
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const first = (await client.send(session.id, 'first')).body.turn.id;
      await eventually(async () => (await client.getSession(session.id)).status === 'running', 5_000, 'status running');
      const second = (await client.send(session.id, 'second', { policy: 'interrupt' })).body.turn.id;
      expect(await runner.finished(first)).toMatchObject({ outcome: 'interrupted' });
      expect(await runner.finished(second)).toMatchObject({ outcome: 'completed' });
      expect(stopped).toEqual([first]);
      expect(out.events.find((e) => e.type === 'custom.second')).toEqual({ type: 'custom.second', aborted: false });
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('runs a turn admitted by appending a user.message straight to in', async () => {
    const agent = `raw-${unique()}`;
    const texts: string[] = [];
    const runner = startAgent({ url: server.url, apiKey: server.key, agents: [agent], handler: (ctx) => void texts.push(ctx.text) });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const appended = await fetch(server.url + session.channels.in.url, {
        method: 'POST',
        headers: { ...authOf(server), 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'user.message', text: 'typed by hand' }),
      });
      expect(appended.status).toBeLessThan(300);
      const done = await out.waitFor((e) => e.type === 'turn.completed');
      expect(await runner.finished(done.turnId as string)).toMatchObject({ outcome: 'completed' });
      expect(texts).toEqual(['typed by hand']);
      await out.close();
    } finally {
      await runner.stop();
    }
  });

  it('rejects with a typed error when retrying cannot help', async () => {
    const failure = await runAgent({ url: `${server.url}/no-such-prefix`, handler: () => {} }).catch((error) => error);
    expect(failure).toBeInstanceOf(TetherError);
    expect(failure).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});
