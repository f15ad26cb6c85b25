/**
 * Transcripts over HTTP against a real server: projection of channel events,
 * the reading routes, resume context, and a rebuild from the channel log that
 * must equal the live projection. Written once, run against each store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TOOL_OUTPUT_BYTES, parseOffset } from '@tether/protocol';
import type { ServerConfig } from '../../src/config.js';
import { turnApi, type TurnApi } from '../turns/turn-client.js';

export interface TranscriptServer {
  url: string;
  /** An admin key of the server's store, which the harness clients send. */
  key: string;
  stop(): Promise<void>;
}

export type StartServer = (overrides?: Partial<ServerConfig>) => Promise<TranscriptServer>;

const unique = () => Math.random().toString(36).slice(2, 10);

/** Rows without what differs between two sessions or two projections of one log (ids of the session, times). */
const comparable = (rows: Record<string, unknown>[]) =>
  rows
    .map(({ sessionId: _s, createdAt: _c, completedAt: _d, ...rest }) => rest)
    .sort((a, b) => `${a.channel ?? ''}${a.offset}`.localeCompare(`${b.channel ?? ''}${b.offset}`));

export function describeTranscripts(name: string, start: StartServer): void {
  describe(`transcripts (${name})`, () => {
    let server: TranscriptServer;
    let api: TurnApi;

    beforeAll(async () => {
      server = await start();
      api = turnApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    const get = <T = any>(path: string) => api.call<T>('GET', path);

    it('folds deltas into the message, keeps tool calls with results and totals usage', async () => {
      const session = await api.newSession({ title: 'projection' });
      const bigOutput = 'é'.repeat(MAX_TOOL_OUTPUT_BYTES); // two bytes each: twice the limit
      const appended = await api.append(session.id, 'out', [
        { type: 'message.started', messageId: 'm1', role: 'assistant', model: 'claude-sonnet-4-5' },
        { type: 'message.delta', messageId: 'm1', text: 'Hello, ' },
        { type: 'message.delta', messageId: 'm1', text: 'world' },
        { type: 'tool.call', toolCallId: 't1', name: 'read_file', input: { path: 'a.txt' } },
        { type: 'tool.result', toolCallId: 't1', output: bigOutput, durationMs: 12 },
        { type: 'tool.call', toolCallId: 't2', name: 'grep', input: { q: 'x' } },
        { type: 'tool.result', toolCallId: 't2', output: { lines: 3 }, isError: true },
        { type: 'usage', inputTokens: 1000, outputTokens: 200, cachedInputTokens: 50, costUsd: 0.25 },
      ]);
      expect(appended.status).toBe(204);
      // A second append completes the message; the completion carries its usage.
      await api.append(session.id, 'out', [
        { type: 'message.completed', messageId: 'm1', usage: { inputTokens: 1, outputTokens: 2 } },
        { type: 'message', role: 'assistant', text: 'Second answer' },
        { type: 'usage', inputTokens: 1_000_000, outputTokens: 0, model: 'claude-sonnet-4-5' },
      ]);

      const messages = await get(`/v1/sessions/${session.id}/messages`);
      expect(messages.status).toBe(200);
      expect(messages.body.data).toHaveLength(2);
      expect(messages.body.data[0]).toMatchObject({
        id: 'm1', role: 'assistant', text: 'Hello, world', status: 'completed', model: 'claude-sonnet-4-5', channel: 'out',
        offset: '0000000000000000_0000000000000000', usage: { inputTokens: 1, outputTokens: 2 },
      });
      expect(messages.body.data[1]).toMatchObject({ text: 'Second answer', status: 'completed', offset: '0000000000000000_0000000000000009' });

      const tools = (await get(`/v1/sessions/${session.id}/tool-calls`)).body.data;
      expect(tools).toHaveLength(2);
      expect(tools[0]).toMatchObject({ id: 't1', name: 'read_file', input: { path: 'a.txt' }, durationMs: 12, truncated: true, isError: false });
      expect(Buffer.byteLength(tools[0].output)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
      expect(tools[0].output).toMatch(/^é+\n…\[truncated\]$/);
      expect(parseOffset(tools[0].offset)).toBe(3);
      expect(parseOffset(tools[0].resultOffset)).toBe(4);
      expect(tools[1]).toMatchObject({ id: 't2', output: { lines: 3 }, isError: true, truncated: false });
      expect(typeof tools[1].durationMs).toBe('number');

      const usage = (await get(`/v1/sessions/${session.id}/usage`)).body;
      expect(usage.session.inputTokens).toBe(1_001_000);
      expect(usage.session.outputTokens).toBe(200);
      expect(usage.session.cachedInputTokens).toBe(50);
      // 0.25 given, plus a million uncached input tokens at the model's list price (3 USD).
      expect(usage.session.costUsd).toBeCloseTo(3.25, 6);
      const after = (await api.get(session.id)).body;
      expect(after).toMatchObject({ messageCount: 2, lastAssistantText: 'Second answer' });
      expect(after.usage.inputTokens).toBe(1_001_000);
    });

    it('attributes rows to turns, keeps an interrupted message incomplete, and a rebuild equals the live rows', async () => {
      const agent = `agent-${unique()}`;
      const session = await api.newSession({ agent });
      expect((await api.send(session.id, { content: 'first question' })).status).toBe(202);
      const claim = (await api.claim({ runnerId: 'r1', agents: [agent], waitMs: 5000 })).body;
      const producer = { epoch: claim.lease.epoch, seq: 0 };
      expect(
        (await api.append(session.id, 'out', [
          { type: 'message.started', messageId: 'a1', role: 'assistant' },
          { type: 'message.delta', messageId: 'a1', text: 'Let me look' },
          { type: 'tool.call', toolCallId: 'c1', name: 'search', input: {} },
          { type: 'tool.result', toolCallId: 'c1', output: 'ok', durationMs: 5 },
          { type: 'message.completed', messageId: 'a1' },
          { type: 'usage', inputTokens: 10, outputTokens: 5, costUsd: 0.01 },
          { type: 'message.started', messageId: 'a2', role: 'assistant' },
          { type: 'message.delta', messageId: 'a2', text: 'Half a tho' },
        ], producer)).status,
      ).toBe(200);
      expect((await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'interrupted' })).status).toBe(200);

      const messages = (await get(`/v1/sessions/${session.id}/messages`)).body.data;
      expect(messages.map((m: any) => [m.channel, m.role, m.text, m.status, m.turnId])).toEqual([
        ['in', 'user', 'first question', 'completed', claim.turn.id],
        ['out', 'assistant', 'Let me look', 'completed', claim.turn.id],
        ['out', 'assistant', 'Half a tho', 'incomplete', claim.turn.id],
      ]);
      const usage = (await get(`/v1/sessions/${session.id}/usage`)).body;
      expect(usage.turns).toEqual([{ turnId: claim.turn.id, inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.01 }]);
      expect((await api.get(session.id)).body).toMatchObject({ messageCount: 3, turnCount: 1, lastAssistantText: 'Let me look' });

      // A fork's transcript is rebuilt from the channel log it shares with its source.
      const fork = (await api.fork(session.id)).body;
      const [liveMessages, liveTools, liveUsage, rebuiltMessages, rebuiltTools, rebuiltUsage] = await Promise.all([
        get(`/v1/sessions/${session.id}/messages`),
        get(`/v1/sessions/${session.id}/tool-calls`),
        get(`/v1/sessions/${session.id}/usage`),
        get(`/v1/sessions/${fork.id}/messages`),
        get(`/v1/sessions/${fork.id}/tool-calls`),
        get(`/v1/sessions/${fork.id}/usage`),
      ]);
      expect(comparable(rebuiltMessages.body.data)).toEqual(comparable(liveMessages.body.data));
      expect(comparable(rebuiltTools.body.data)).toEqual(comparable(liveTools.body.data));
      expect(rebuiltUsage.body).toEqual(liveUsage.body);
      expect(fork).toMatchObject({ messageCount: 3, lastAssistantText: 'Let me look', usage: { inputTokens: 10 } });
    });

    it('rebuilds a long log, read in bulk, into the same rows as the live projection', async () => {
      const session = await api.newSession();
      // Well past the size below which reads go row by row; texts with the characters a joined read must keep.
      const events = Array.from({ length: 300 }, (_, n) =>
        n % 3 === 2
          ? { type: 'tool.call', toolCallId: `c${n}`, name: 'lookup', input: { q: `a,b],[{"c":${n}}` } }
          : { type: 'message', messageId: `m${n}`, role: 'assistant', text: `part ${n}: "quoted", [bracketed] {braced} é ✓` },
      );
      for (let i = 0; i < events.length; i += 100) expect((await api.append(session.id, 'out', events.slice(i, i + 100))).status).toBe(204);
      const fork = (await api.fork(session.id)).body;
      const [live, liveTools, rebuilt, rebuiltTools] = await Promise.all([
        get(`/v1/sessions/${session.id}/messages?limit=500`),
        get(`/v1/sessions/${session.id}/tool-calls?limit=500`),
        get(`/v1/sessions/${fork.id}/messages?limit=500`),
        get(`/v1/sessions/${fork.id}/tool-calls?limit=500`),
      ]);
      expect(live.body.data).toHaveLength(200);
      expect(liveTools.body.data).toHaveLength(100);
      expect(comparable(rebuilt.body.data)).toEqual(comparable(live.body.data));
      expect(comparable(rebuiltTools.body.data)).toEqual(comparable(liveTools.body.data));
    });

    it('pages oldest first with opaque cursors', async () => {
      const session = await api.newSession();
      await api.append(session.id, 'out', Array.from({ length: 5 }, (_, n) => ({ type: 'message', role: 'assistant', text: `m${n}` })));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await get(`/v1/sessions/${session.id}/messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.data.map((m: any) => m.text));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      const bad = await get(`/v1/sessions/${session.id}/messages?cursor=nonsense`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('INVALID_CURSOR');
      expect((await get('/v1/sessions/ses_01ARZ3NDEKTSV4RRFFQ69G5FAV/messages')).body.error.code).toBe('SESSION_NOT_FOUND');
      expect((await get(`/v1/sessions/${session.id}/tool-calls?limit=0`)).body.error.code).toBe('VALIDATION_FAILED');
    });

    it('answers the resume context from the latest compaction', async () => {
      const session = await api.newSession();
      await api.append(session.id, 'out', [
        { type: 'message', messageId: 'x1', role: 'assistant', text: 'one' },
        { type: 'message', messageId: 'x2', role: 'assistant', text: 'two' },
      ]);
      const full = (await get(`/v1/sessions/${session.id}/context`)).body;
      expect(full.summary).toBeNull();
      expect(full.messages.map((m: any) => m.text)).toEqual(['one', 'two']);
      await api.append(session.id, 'out', [
        { type: 'context.compacted', summary: 'They counted to two.', upToMessageId: 'x2' },
        { type: 'message', messageId: 'x3', role: 'assistant', text: 'three' },
      ]);
      const compacted = (await get(`/v1/sessions/${session.id}/context`)).body;
      expect(compacted.summary).toBe('They counted to two.');
      expect(compacted.messages.map((m: any) => m.text)).toEqual(['three']);
    });

    it('removes the transcript with its session', async () => {
      const session = await api.newSession();
      await api.append(session.id, 'out', [{ type: 'message', role: 'assistant', text: 'gone soon' }]);
      expect((await api.remove(session.id)).status).toBe(204);
      expect((await get(`/v1/sessions/${session.id}/messages`)).status).toBe(404);
    });
  });
}
