/**
 * `tether export`, `import` (with its progress), `search` and `keys` as child
 * processes against a real `tether serve` with auth on: the CLI finds the
 * admin key the server wrote to its data directory by itself.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TetherClient } from '@tether/client';
import { startServerProcess, type ServerProcess } from '../../server/test/support/server-process.js';
import { unique } from '../../client/test/support.js';
import { ExitCode } from '../src/usage.js';
import { cleanEnv, runCli } from './cli-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tether-cli-transcripts-'));
const workDir = mkdtempSync(join(tmpdir(), 'tether-cli-files-'));
let server: ServerProcess;
let client: TetherClient;
let env: NodeJS.ProcessEnv;
const tether = (...args: string[]) => runCli([...args, '--data-dir', dataDir], env);
const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

beforeAll(async () => {
  server = await startServerProcess(['--data-dir', dataDir]);
  const keyFile = join(dataDir, 'admin-key');
  expect(existsSync(keyFile)).toBe(true);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  client = createClient({ url: server.url, apiKey: readFileSync(keyFile, 'utf8').trim() });
  env = cleanEnv({ TETHER_URL: server.url });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

async function seeded(word: string) {
  const { session } = await client.sessions.create({ title: `Notes on ${word}`, agent: 'seed' });
  await client.session(session.id).out.send([
    { type: 'message', messageId: `m-${word}`, role: 'assistant', text: `the ${word} is here` },
    { type: 'tool.call', toolCallId: `c-${word}`, name: 'lookup', input: { q: word } },
    { type: 'tool.result', toolCallId: `c-${word}`, name: 'lookup', output: 'ok' },
  ]);
  return session;
}

describe('credentials from the data directory', () => {
  it('works with no flags, and is refused (exit 6) with a wrong key', async () => {
    expect((await tether('sessions', 'ls')).code).toBe(0);
    const refused = await runCli(['sessions', 'ls', '--api-key', 'tk_wrong'], env);
    expect(refused.code).toBe(ExitCode.unauthorized);
    expect(refused.stderr).toContain('UNAUTHORIZED');
    // Without the data directory there is no key at all.
    expect((await runCli(['sessions', 'ls', '--data-dir', workDir], env)).code).toBe(ExitCode.unauthorized);
  });
});

describe('tether export and import', () => {
  it('exports sessions, and imports a directory of them with progress on stderr', async () => {
    const words = [`alpha${unique()}`, `beta${unique()}`, `gamma${unique()}`];
    const sessions = [];
    const dir = join(workDir, 'exports');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    for (const [i, word] of words.entries()) {
      const session = await seeded(word);
      sessions.push(session);
      const file = join(i === 2 ? join(dir, 'nested') : dir, `${i}.jsonl`);
      const exported = await tether('export', session.id, '-o', file);
      expect(exported.code).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!)).toMatchObject({ type: 'session', session: { id: session.id } });
    }
    writeFileSync(join(dir, 'ignored.txt'), 'not a transcript');
    const asJson = await tether('export', sessions[0]!.id, '--format', 'json');
    expect(JSON.parse(asJson.stdout)).toMatchObject({ session: { id: sessions[0]!.id } });
    for (const session of sessions) await client.sessions.delete(session.id);

    const first = await tether('import', dir);
    expect(first.code).toBe(0);
    const progress = first.stderr.split('\n').filter((line) => line.startsWith('['));
    expect(progress).toHaveLength(3);
    expect(progress[0]).toMatch(/^\[1\/3\] \d+% .* 0\.jsonl: 1 session$/);
    expect(progress[1]).toMatch(/^\[2\/3\] /);
    expect(progress[2]).toMatch(/^\[3\/3\] 100% .*nested\/2\.jsonl: 1 session$/);
    expect(first.stdout).toBe('imported 3 sessions (3 new) from 3/3 files\n');

    const again = await tether('import', dir);
    expect(again.stdout).toBe('imported 3 sessions (0 new) from 3/3 files\n');

    const broken = join(workDir, 'broken.jsonl');
    writeFileSync(broken, '{not json\n');
    const bad = await tether('import', broken);
    // Rejected whole (400) or answered with its bad lines: either way reported, and not a success.
    expect([ExitCode.usage, ExitCode.failure]).toContain(bad.code);
    expect(bad.stderr).toMatch(/\[1\/1\] .*(failed: |bad lines)/);
    expect((await tether('import', join(workDir, 'missing.jsonl'))).code).toBe(ExitCode.usage);
    expect((await tether('export', 'no-such-session')).code).toBe(ExitCode.notFound);
  });
});

describe('tether search', () => {
  it('finds messages with highlighted snippets, filters, and prints JSON lines', async () => {
    const word = `wombat${unique()}`;
    const session = await seeded(word);
    const text = await tether('search', word);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(session.id);
    expect(text.stdout).toContain(`[${word}]`);
    const hits = jsonLines((await tether('search', word, '--json')).stdout);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]).toMatchObject({ session: { id: session.id } });
    expect(hits.some((hit) => String(hit.snippet).includes(`<mark>${word}</mark>`))).toBe(true);
    expect((await tether('search', word, '--agent', 'someone-else')).stderr).toContain('no matches');
    expect((await tether('search')).code).toBe(ExitCode.usage);
  });
});

describe('tether keys', () => {
  it('creates a key shown once, lists it, and revokes it', async () => {
    const name = `ci-${unique()}`;
    const created = await tether('keys', 'create', '--name', name, '--role', 'client');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^tk_/);
    expect(created.stderr).toContain('only time');
    const listed = jsonLines((await tether('keys', 'ls', '--json')).stdout).find((k) => k.name === name)!;
    expect(listed).toMatchObject({ role: 'client', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(key);

    expect((await runCli(['sessions', 'ls', '--api-key', key], env)).code).toBe(0);
    expect((await runCli(['keys', 'ls', '--api-key', key], env)).code).toBe(ExitCode.unauthorized);
    expect((await tether('keys', 'revoke', listed.id)).code).toBe(0);
    expect((await runCli(['sessions', 'ls', '--api-key', key], env)).code).toBe(ExitCode.unauthorized);
    expect((await tether('keys', 'create', '--role', 'root')).code).toBe(ExitCode.usage);
  });
});
