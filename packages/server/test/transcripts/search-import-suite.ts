/**
 * Search, export/import and retention over HTTP against real servers.
 * Written once, run against each store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnApi, eventually, type TurnApi } from '../turns/turn-client.js';
import type { StartServer, TranscriptServer } from './transcript-suite.js';

const unique = () => Math.random().toString(36).slice(2, 10).replace(/\d/g, 'q');

/** What must survive an export and an import: everything but ids, times and where rows sit. */
const portable = (transcript: any) => ({
  messages: transcript.messages.map(({ sessionId: _s, createdAt: _c, offset: _o, ...rest }: any) => rest),
  toolCalls: transcript.toolCalls.map(({ sessionId: _s, createdAt: _c, completedAt: _d, offset: _o, resultOffset: _r, ...rest }: any) => rest),
  usage: transcript.usage,
  title: transcript.session.title,
  messageCount: transcript.session.messageCount,
});

const claudeCodeLines = (sessionId: string, word: string) => [
  { type: 'summary', summary: `Fixing the ${word} parser`, leafUuid: 'u4' },
  { type: 'user', uuid: 'u1', parentUuid: null, sessionId, timestamp: '2025-01-01T00:00:00Z', cwd: '/src', message: { role: 'user', content: `please fix the ${word} parser` } },
  { type: 'assistant', uuid: 'u2', parentUuid: 'u1', sessionId, timestamp: '2025-01-01T00:00:01Z',
    message: { id: 'resp1', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Looking at it.' }],
      usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 5 } } },
  { type: 'assistant', uuid: 'u3', parentUuid: 'u2', sessionId, timestamp: '2025-01-01T00:00:02Z',
    message: { id: 'resp1', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: 'p.ts' } }],
      usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 5 } } },
  { type: 'user', uuid: 'u4', parentUuid: 'u3', sessionId, timestamp: '2025-01-01T00:00:03Z',
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'export const x = 1;' }] } },
  { type: 'assistant', uuid: 's1', parentUuid: null, isSidechain: true, agentId: 'a1', sessionId, timestamp: '2025-01-01T00:00:04Z',
    message: { id: 'resp2', role: 'assistant', model: 'claude-haiku-4-5', content: 'sub-agent findings' } },
];

export function describeSearchAndImport(name: string, start: StartServer): void {
  describe(`search, import and retention (${name})`, () => {
    let server: TranscriptServer;
    let api: TurnApi;

    beforeAll(async () => {
      server = await start();
      api = turnApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    const search = (query: string) => api.call<any>('GET', `/v1/search?${query}`);
    const importBody = (body: string, query = '') =>
      fetch(`${server.url}/v1/sessions/import${query}`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' }, body }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as any }),
      );

    it('finds message text, tool names and titles, most relevant first, with marked snippets', async () => {
      const w = unique();
      const a = await api.newSession({ title: `Trip to ${w} & back`, agent: `travel-${w}`, tags: ['trip'] });
      const b = await api.newSession({ agent: `other-${w}`, type: 'chat' });
      await api.append(a.id, 'out', [
        { type: 'message', role: 'assistant', text: `${w} ${w} ${w}: the <b>best</b> season is spring` },
        { type: 'tool.call', toolCallId: 't1', name: `lookup_${w}`, input: {} },
      ]);
      await api.append(b.id, 'out', [{ type: 'message', role: 'assistant', text: `a long text that mentions ${w} only once among many other words` }]);

      const all = await search(`q=${w}`);
      expect(all.status).toBe(200);
      expect(all.body.data.map((h: any) => h.kind).sort()).toEqual(['message', 'message', 'title', 'tool']);
      const messages = all.body.data.filter((h: any) => h.kind === 'message');
      expect(messages[0].session.id).toBe(a.id);
      expect(messages[0].score).toBeGreaterThan(messages[1].score);
      expect(messages[0].snippet).toBe(`<mark>${w}</mark> <mark>${w}</mark> <mark>${w}</mark>: the &lt;b&gt;best&lt;/b&gt; season is spring`);
      expect(messages[0].message).toMatchObject({ sessionId: a.id, role: 'assistant' });
      expect(all.body.data.find((h: any) => h.kind === 'title').snippet).toBe(`Trip to <mark>${w}</mark> &amp; back`);
      expect(all.body.data.find((h: any) => h.kind === 'tool').snippet).toBe(`lookup_<mark>${w}</mark>`);

      expect((await search(`q=${w}&agent=other-${w}`)).body.data.map((h: any) => h.session.id)).toEqual([b.id]);
      expect((await search(`q=${w}&tag=trip`)).body.data.every((h: any) => h.session.id === a.id)).toBe(true);
      expect((await search(`q=${w}&tool=lookup_${w}`)).body.data.every((h: any) => h.session.id === a.id)).toBe(true);
      expect((await search(`q=${w}&type=chat`)).body.data.map((h: any) => h.session.id)).toEqual([b.id]);
      expect((await search(`q=${w}&status=closed`)).body.data).toEqual([]);
      expect((await search(`q=${w}&createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data).toEqual([]);
      expect((await search(`q=${w}&createdBefore=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data.length).toBe(4);
    });

    it('matches phrases, prefixes and non-English text', async () => {
      const w = unique();
      const session = await api.newSession({ title: `Größenordnung ${w}` });
      await api.append(session.id, 'out', [
        { type: 'message', role: 'assistant', text: `quick brown fox ${w} jumps` },
        { type: 'message', role: 'assistant', text: `brown quick ${w}` },
        { type: 'message', role: 'assistant', text: `Привет мир ${w}, 日本語のテキスト` },
      ]);
      const texts = async (q: string) =>
        (await search(`q=${encodeURIComponent(q)}`)).body.data.filter((h: any) => h.session.id === session.id).map((h: any) => h.message?.text ?? h.session.title);
      expect(await texts(`"quick brown" ${w}`)).toEqual([`quick brown fox ${w} jumps`]);
      expect((await texts(`${w.slice(0, 5)}* brown`)).sort()).toEqual([`brown quick ${w}`, `quick brown fox ${w} jumps`]);
      expect(await texts(`привет ${w}`)).toEqual([`Привет мир ${w}, 日本語のテキスト`]);
      expect(await texts(`ПРИВЕТ ${w}`)).toEqual([`Привет мир ${w}, 日本語のテキスト`]);
      expect(await texts(`日本語のテキスト ${w}`)).toEqual([`Привет мир ${w}, 日本語のテキスト`]);
      expect(await texts(`größenordnung ${w}`)).toEqual([`Größenordnung ${w}`]);
    });

    it('never fails on operators and punctuation', async () => {
      const queries = ['"', '""', '*', 'AND', 'a OR b', 'NOT x', '(a', 'a)', 'NEAR(a b)', "it's", 'a:b', '-x', '^x', 'x AND', '{x}', '\\', "'", '&|!', '%', 'a"b"c"', 'col:"x', '<mark>', '👍'];
      for (const q of queries) {
        const res = await search(`q=${encodeURIComponent(q)}`);
        expect(res.status, q).toBe(200);
        expect(Array.isArray(res.body.data)).toBe(true);
      }
      // NUL is refused before any route sees it, like everywhere else.
      const nul = await search(`q=${encodeURIComponent('a\u0000b')}`);
      expect([nul.status, nul.body.error.code]).toEqual([400, 'BAD_REQUEST']);
      expect((await search('q=')).body.error.code).toBe('VALIDATION_FAILED');
      expect((await search('q=x&cursor=abc')).body.error.code).toBe('INVALID_CURSOR');
    });

    it('pages hits in relevance order without repeats', async () => {
      const w = unique();
      const session = await api.newSession();
      await api.append(session.id, 'out', Array.from({ length: 7 }, (_, n) => ({ type: 'message', role: 'assistant', text: `${`${w} `.repeat(n + 1)}filler ${'x '.repeat(7 - n)}` })));
      const seen: string[] = [];
      const scores: number[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await search(`q=${w}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.data.map((h: any) => h.message.id));
        scores.push(...page.body.data.map((h: any) => h.score));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    });

    it('finds filtered hits that rank below hundreds of others, in order across pages', async () => {
      const w = unique();
      const loud = await api.newSession({ agent: `loud-${w}` });
      const quiet = await api.newSession({ agent: `quiet-${w}` });
      // 600 short, high-scoring matches the filter excludes, then 5 long, low-scoring ones it keeps.
      await api.append(loud.id, 'out', Array.from({ length: 600 }, (_, n) => ({ type: 'message', role: 'assistant', text: `${w} ${w} n${n}` })));
      await api.append(quiet.id, 'out', Array.from({ length: 5 }, (_, n) => ({ type: 'message', role: 'assistant', text: `${w} ${'padding '.repeat(40 + n * 10)}` })));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await search(`q=${w}&agent=quiet-${w}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.data.map((h: any) => h.message.text.length));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(5);
      // Shorter texts rank higher for the same one match.
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      const unfiltered = await search(`q=${w}&limit=100`);
      expect(unfiltered.body.data).toHaveLength(100);
      expect(unfiltered.body.data.every((h: any) => h.session.id === loud.id)).toBe(true);
    });

    it('exports a transcript and imports it into a fresh server unchanged, once', async () => {
      const session = await api.newSession({ title: 'round trip', externalId: `rt-${unique()}` });
      await api.append(session.id, 'in', [{ type: 'custom.note', text: 'not a message' }]);
      await api.append(session.id, 'out', [
        { type: 'message.started', messageId: 'm1', role: 'assistant', model: 'gpt-4o' },
        { type: 'message.delta', messageId: 'm1', text: 'partial' },
        { type: 'message', messageId: 'm2', role: 'assistant', text: 'whole', content: [{ type: 'text', text: 'whole' }], usage: { inputTokens: 3, outputTokens: 4 } },
        { type: 'tool.call', toolCallId: 't1', name: 'fetch', input: { url: 'x' } },
        { type: 'tool.result', toolCallId: 't1', output: 'x'.repeat(40_000), durationMs: 9 },
        { type: 'usage', inputTokens: 7, outputTokens: 8, cachedInputTokens: 1, costUsd: 0.5 },
      ]);
      const json = (await api.call<any>('GET', `/v1/sessions/${session.id}/transcript?format=json`)).body;
      expect(json.messages).toHaveLength(2);
      expect(json.toolCalls[0].truncated).toBe(true);
      const jsonl = await fetch(`${server.url}/v1/sessions/${session.id}/transcript?format=jsonl`, { headers: { authorization: `Bearer ${server.key}` } });
      expect(jsonl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const lines = (await jsonl.text()).trim().split('\n');
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'session', session: { id: session.id } });

      const fresh = await start();
      try {
        const body = lines.join('\n');
        const post = (query = '') =>
          fetch(`${fresh.url}/v1/sessions/import${query}`, { method: 'POST', headers: { authorization: `Bearer ${fresh.key}`, 'content-type': 'text/plain' }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
        const first = await post();
        expect(first.status).toBe(200);
        expect(first.body).toMatchObject({ sessions: [{ externalId: session.externalId, created: true }], errors: [] });
        expect(first.body.imported).toBe(lines.length);
        const imported = (await turnApi(fresh.url, fresh.key).call<any>('GET', `/v1/sessions/${first.body.sessions[0].id}/transcript`)).body;
        expect(portable(imported)).toEqual(portable(json));
        const again = await post();
        expect(again.body).toMatchObject({ sessions: [{ id: first.body.sessions[0].id, created: false }], imported: 0 });
        expect((await turnApi(fresh.url, fresh.key).list()).body.data).toHaveLength(1);
      } finally {
        await fresh.stop();
      }
    });

    it("imports Claude Code transcripts, with sub-agents as child sessions", async () => {
      const sessionId = `cc-${unique()}`;
      const body = claudeCodeLines(sessionId, 'yaml').map((line) => JSON.stringify(line)).join('\n');
      const result = await importBody(body);
      expect(result.status).toBe(200);
      expect(result.body.errors).toEqual([]);
      const [main, child] = result.body.sessions;
      expect(main).toMatchObject({ externalId: `claude-code:${sessionId}`, created: true });
      expect(child).toMatchObject({ externalId: `claude-code:${sessionId}:agent:a1`, created: true });
      const parent = (await api.get(main.id)).body;
      expect(parent).toMatchObject({ title: 'Fixing the yaml parser', agent: 'claude-code', model: 'claude-sonnet-4-5', messageCount: 2 });
      // One usage per API response, though Claude Code repeats it on each of its lines.
      expect(parent.usage).toMatchObject({ inputTokens: 105, outputTokens: 20, cachedInputTokens: 30 });
      expect(parent.usage.costUsd).toBeGreaterThan(0);
      const messages = (await api.call<any>('GET', `/v1/sessions/${main.id}/messages`)).body.data;
      expect(messages.map((m: any) => [m.id, m.role, m.text])).toEqual(
        expect.arrayContaining([['u1', 'user', 'please fix the yaml parser'], ['u2', 'assistant', 'Looking at it.']]),
      );
      const tools = (await api.call<any>('GET', `/v1/sessions/${main.id}/tool-calls`)).body.data;
      expect(tools).toMatchObject([{ id: 'toolu_1', name: 'Read', input: { file_path: 'p.ts' }, output: 'export const x = 1;' }]);
      expect((await api.get(child.id)).body).toMatchObject({ parentId: main.id, lastAssistantText: 'sub-agent findings' });
      expect((await api.children(main.id)).body.data.map((s: any) => s.id)).toEqual([child.id]);

      const again = await importBody(body);
      expect(again.body.sessions.map((s: any) => s.created)).toEqual([false, false]);
      expect(again.body.imported).toBe(0);
    });

    it('reports bad lines by number and imports nothing unless asked for a partial import', async () => {
      const sessionId = `bad-${unique()}`;
      const lines = claudeCodeLines(sessionId, 'toml').slice(1, 3).map((line) => JSON.stringify(line));
      const body = [lines[0], '{not json', lines[1], '[1,2]', JSON.stringify({ type: 'assistant', sessionId })].join('\n');
      const refused = await importBody(body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_IMPORT');
      expect(refused.body.error.details.errors.map((e: any) => e.line)).toEqual([2, 4, 5]);
      expect((await api.get(`claude-code:${sessionId}`)).status).toBe(404);

      const partial = await importBody(body, '?partial=true');
      expect(partial.status).toBe(200);
      expect(partial.body.errors.map((e: any) => e.line)).toEqual([2, 4, 5]);
      expect(partial.body.imported).toBe(2);
      expect((await api.get(`claude-code:${sessionId}`)).body.messageCount).toBe(2);
      expect((await importBody('', '')).body.error.code).toBe('INVALID_IMPORT');
    });

    it('deletes sessions closed longer ago than the retention age, in batches', async () => {
      const retained = await start({ retainClosedSessionsMs: 300, sweepIntervalMs: 100, sweepBatchSize: 2 });
      try {
        const r = turnApi(retained.url, retained.key);
        const closed = await Promise.all(Array.from({ length: 5 }, () => r.newSession()));
        for (const s of closed) await r.append(s.id, 'out', [{ type: 'message', role: 'assistant', text: 'bye' }]);
        const open = await r.newSession();
        for (const s of closed) expect((await r.close(s.id)).status).toBe(200);
        await eventually(async () => {
          const statuses = await Promise.all(closed.map(async (s) => (await r.get(s.id)).status));
          return statuses.every((status) => status === 404);
        }, 10_000);
        expect((await r.get(open.id)).status).toBe(200);
      } finally {
        await retained.stop();
      }
    });
  });
}
