/**
 * The SDK's transcript, search, import/export, key and token calls against a
 * real server (DESIGN §6–§7).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@tether/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, TetherError, type TetherClient } from '../src/index.js';
import { unique } from './support.js';

let stop: () => Promise<void>;
let url: string;
let adminKey: string | undefined;
let client: TetherClient;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-client-transcripts-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
  url = server.url;
  const keyFile = join(dataDir, 'admin-key');
  adminKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
  client = createClient({ url, apiKey: adminKey });
  stop = async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
});
afterAll(() => stop?.());

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A session with one exchange, a tool call and usage, written as a runner would. */
async function seededSession(word: string) {
  const { session } = await client.sessions.create({ title: `About ${word}`, agent: 'seed', externalId: `seed-${unique()}` });
  const handle = client.session(session.id);
  await handle.in.send({ type: 'user.message', text: `tell me about ${word}` });
  await handle.out.send([
    { type: 'message', messageId: 'm1', role: 'assistant', text: `${word} is a fine word` },
    { type: 'tool.call', toolCallId: 'c1', name: 'lookup', input: { q: word } },
    { type: 'tool.result', toolCallId: 'c1', name: 'lookup', output: { found: true }, durationMs: 12 },
    { type: 'usage', inputTokens: 10, outputTokens: 5, costUsd: 0.01 },
  ]);
  return { session, handle };
}

describe('transcripts through the SDK', () => {
  it('pages messages and tool calls, reports usage, exports and re-imports', async () => {
    const word = `zebra${unique()}`;
    const { session, handle } = await seededSession(word);
    const messages = await collect(handle.messages({ limit: 1 }));
    expect(messages.map((m) => m.role)).toContain('assistant');
    expect(messages.find((m) => m.role === 'assistant')).toMatchObject({ text: `${word} is a fine word`, status: 'completed' });
    expect(await collect(handle.toolCalls())).toEqual([expect.objectContaining({ name: 'lookup', input: { q: word }, output: { found: true } })]);
    expect((await handle.usage()).session).toMatchObject({ inputTokens: 10, outputTokens: 5 });

    const json = await client.exportTranscript(session.id);
    expect(json.session.id).toBe(session.id);
    expect(json.messages.length).toBe(messages.length);
    const jsonl = await client.exportTranscript(session.id, { format: 'jsonl' });
    expect(JSON.parse(jsonl.split('\n')[0]!)).toMatchObject({ type: 'session', session: { id: session.id } });

    await client.sessions.delete(session.id);
    const imported = await client.importTranscript(jsonl);
    expect(imported.errors).toEqual([]);
    expect(imported.sessions).toHaveLength(1);
    expect(imported.sessions[0]!.created).toBe(true);
    const again = await client.importTranscript(jsonl);
    expect(again.sessions[0]).toMatchObject({ id: imported.sessions[0]!.id, created: false });
    const restored = client.session(imported.sessions[0]!.id);
    expect((await collect(restored.messages())).map((m) => m.text)).toEqual(messages.map((m) => m.text));

    // A broken line is refused whole (400) or reported by line number; it never creates a session.
    const bad = await client.importTranscript('{not json\n').catch((e: unknown) => e);
    if (bad instanceof TetherError) expect(bad.status).toBe(400);
    else expect(bad).toMatchObject({ imported: 0, sessions: [], errors: [{ line: 1 }] });
  });

  it('searches with highlighted snippets and filters', async () => {
    const word = `quokka${unique()}`;
    const { session } = await seededSession(word);
    await seededSession(`other${unique()}`);
    const hits = await collect(client.search(word));
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((hit) => hit.session.id === session.id)).toBe(true);
    expect(hits.some((hit) => hit.snippet.includes(`<mark>${word}</mark>`))).toBe(true);
    expect(await collect(client.search(word, { agent: 'nobody' }))).toEqual([]);
    expect((await collect(client.search(word, { tool: 'lookup' }))).length).toBeGreaterThan(0);
  });
});

describe('keys and tokens through the SDK', () => {
  it('creates, lists and revokes keys; a revoked key gets UNAUTHORIZED', async () => {
    const created = await client.keys.create({ name: `ci-${unique()}`, role: 'client' });
    expect(created.key).toMatch(/^tk_/);
    expect((await client.keys.list()).find((k) => k.id === created.id)).toMatchObject({ role: 'client', revokedAt: null });
    const asClient = createClient({ url, apiKey: created.key });
    await asClient.sessions.page();
    const forbidden = await asClient.keys.list().catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ code: 'FORBIDDEN', status: 403 });

    await client.keys.revoke(created.id);
    expect((await client.keys.list()).find((k) => k.id === created.id)!.revokedAt).toEqual(expect.any(String));
    const refused = await asClient.sessions.page().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('a session token reads and writes its own session only', async () => {
    const { session, token } = await client.sessions.create();
    const mine = createClient({ url, token: token ?? (await client.session(session.id).token()).token });
    await mine.session(session.id).in.send({ type: 'custom.hello' });
    expect((await mine.session(session.id).in.read()).entries.map((e) => e.event.type)).toEqual(['custom.hello']);
    const other = (await client.sessions.create()).session;
    const refused = await mine.session(other.id).in.read().catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 403 });
  });
});
