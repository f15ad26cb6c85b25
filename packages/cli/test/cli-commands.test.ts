/**
 * The built `tether` CLI as a child process against a real `tether serve`
 * process: session commands, tail, send/respond/inbox, credentials and exit codes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, TetherError, type TetherClient } from '@tether/client';
import { startServerProcess, type ServerProcess } from '../../server/test/support/server-process.js';
import { eventually, startAgent, unique } from '../../client/test/support.js';
import { resolveConnection } from '../src/connection.js';
import { exitCodeFor } from '../src/failures.js';
import { ExitCode, UsageError } from '../src/usage.js';
import { cleanEnv, runCli, startCli } from './cli-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tether-cli-'));
let server: ServerProcess;
let client: TetherClient;
let env: NodeJS.ProcessEnv;
/** The admin key, once the server writes one (when it runs with auth). */
let apiKey: string | undefined;
/** The CLI as a user on the server's machine runs it: it finds the server's data directory (and key) itself. */
const tether = (...args: string[]) => runCli([...args, '--data-dir', dataDir], env);

beforeAll(async () => {
  server = await startServerProcess(['--data-dir', dataDir]);
  const keyFile = join(dataDir, 'admin-key');
  apiKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
  client = createClient({ url: server.url, apiKey });
  env = cleanEnv({ TETHER_URL: server.url });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

describe('tether sessions', () => {
  it('creates, lists, gets, forks, closes and removes sessions, as text and as JSON lines', async () => {
    const tag = `cli-${unique()}`;
    const created = await tether('sessions', 'create', '--title', 'From the CLI', '--agent', 'echo', '--tag', tag, '--external-id', `ext-${tag}`);
    expect(created).toMatchObject({ code: 0 });
    const id = created.stdout.trim();
    expect(id).toMatch(/^ses_/);
    await tether('sessions', 'create', '--tag', tag);

    const listed = await tether('sessions', 'ls', '--tag', tag);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STATUS\s+AGENT\s+TITLE\s+UPDATED$/);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toContain(id);
    expect(rows[2]).toContain('From the CLI');

    const asJson = await tether('sessions', 'ls', '--tag', tag, '--json', '--limit', '1');
    expect(jsonLines(asJson.stdout)).toHaveLength(1);
    const all = jsonLines((await tether('sessions', 'ls', '--tag', tag, '--json', '--all')).stdout);
    expect(all.map((s) => s.id)).toContain(id);

    const got = await tether('sessions', 'get', `ext-${tag}`);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(got.stdout).toMatch(/^status\s+idle$/m);
    expect(jsonLines((await tether('sessions', 'get', id, '--json')).stdout)[0]).toMatchObject({ id, title: 'From the CLI' });

    await client.session(id).out.send([{ type: 'custom.a' }, { type: 'custom.b' }]);
    const first = (await client.session(id).out.read()).entries[0]!;
    const forked = await tether('sessions', 'fork', id, '--offset', first.offset, '--title', 'forked', '--json');
    expect(forked.code).toBe(0);
    const fork = jsonLines(forked.stdout)[0]!;
    expect(fork).toMatchObject({ title: 'forked', forkedFrom: { sessionId: id, offset: first.offset } });

    const closed = await tether('sessions', 'close', id, '--reason', 'finished');
    expect(closed).toMatchObject({ code: 0, stdout: `${id} closed\n` });
    expect((await client.sessions.get(id)).closedReason).toBe('finished');

    expect(await tether('sessions', 'rm', fork.id)).toMatchObject({ code: 0, stdout: `${fork.id} deleted\n` });
    const gone = await client.sessions.get(fork.id).catch((e: unknown) => e);
    expect((gone as TetherError).code).toBe('SESSION_NOT_FOUND');
  });
});

describe('exit codes', () => {
  it('2 for usage errors, with a hint on stderr', async () => {
    for (const args of [['bogus'], ['sessions'], ['sessions', 'ls', '--no-such-flag'], ['sessions', 'ls', '--status', 'sleepy'], ['send'], ['sessions', 'get'], ['tail', 'x', 'y']]) {
      const result = await tether(...args);
      expect(result.code, args.join(' ')).toBe(ExitCode.usage);
      expect(result.stderr).toMatch(/^tether: /);
      expect(result.stdout).toBe('');
    }
    expect((await tether('sessions', 'ls', '--limit', '0')).code).toBe(ExitCode.usage);
    const help = await tether('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sessions ls');
  });

  it('3 for a session that does not exist', async () => {
    for (const args of [['sessions', 'get', 'no-such-session'], ['sessions', 'rm', 'ses_01ARZ3NDEKTSV4RRFFQ69G5FAV'], ['tail', 'nope'], ['send', 'nope', 'hi']]) {
      const result = await tether(...args);
      expect(result.code, args.join(' ')).toBe(ExitCode.notFound);
      expect(result.stderr).toContain('SESSION_NOT_FOUND');
    }
  });

  it('4 for a conflict with the current state', async () => {
    const { session } = await client.sessions.create({ agent: `idle-${unique()}` });
    expect((await tether('send', session.id, 'first')).code).toBe(0);
    const busy = await tether('send', session.id, 'second');
    expect(busy.code).toBe(ExitCode.conflict);
    expect(busy.stderr).toContain('SESSION_BUSY');
    expect((await tether('send', session.id, 'queued', '--policy', 'enqueue')).code).toBe(0);
    await client.sessions.close(session.id);
    const closed = await tether('send', session.id, 'too late');
    expect(closed.code).toBe(ExitCode.conflict);
    expect(closed.stderr).toContain('SESSION_CLOSED');
  });

  it('5 when the server cannot be reached', async () => {
    const result = await runCli(['sessions', 'ls', '--url', 'http://127.0.0.1:9'], env);
    expect(result.code).toBe(ExitCode.server);
    expect(result.stderr).toContain('NETWORK_ERROR');
  });

  it('maps every kind of failure to its code', () => {
    const failure = (status: number, code = 'X') => new TetherError(code as never, 'm', status);
    expect(exitCodeFor(new UsageError('x'))).toBe(ExitCode.usage);
    expect(exitCodeFor(failure(400, 'VALIDATION_FAILED'))).toBe(ExitCode.usage);
    expect(exitCodeFor(failure(404, 'SESSION_NOT_FOUND'))).toBe(ExitCode.notFound);
    expect(exitCodeFor(failure(409, 'SESSION_BUSY'))).toBe(ExitCode.conflict);
    expect(exitCodeFor(failure(412, 'PRECONDITION_FAILED'))).toBe(ExitCode.conflict);
    expect(exitCodeFor(failure(401, 'UNAUTHORIZED'))).toBe(ExitCode.unauthorized);
    expect(exitCodeFor(failure(403, 'FORBIDDEN'))).toBe(ExitCode.unauthorized);
    expect(exitCodeFor(failure(500, 'INTERNAL'))).toBe(ExitCode.server);
    expect(exitCodeFor(failure(503, 'STORE_UNAVAILABLE'))).toBe(ExitCode.server);
    expect(exitCodeFor(failure(0, 'NETWORK_ERROR'))).toBe(ExitCode.server);
    expect(exitCodeFor(new Error('boom'))).toBe(ExitCode.failure);
  });
});

describe('tether tail', () => {
  it('replays what is there, follows live, and ends when the session closes (--json)', async () => {
    const { session } = await client.sessions.create();
    const out = client.session(session.id).out;
    await out.send([{ type: 'custom.n', n: 1 }, { type: 'custom.n', n: 2 }]);
    const tail = startCli(['tail', session.id, '--json', '--data-dir', dataDir], env);
    try {
      await eventually(() => tail.lines().length >= 2, 15_000, 'the replay');
      await out.send({ type: 'custom.n', n: 3 });
      await eventually(() => tail.lines().length >= 3, 15_000, 'a live event');
      await out.send({ type: 'custom.n', n: 4 });
      await client.sessions.close(session.id);
      expect(await tail.exited).toBe(0);
    } finally {
      await tail.kill();
    }
    const lines = jsonLines(tail.output.stdout);
    expect(lines.map((l) => l.event.n)).toEqual([1, 2, 3, 4]);
    const offsets = lines.map((l) => l.offset as string);
    expect([...offsets].sort()).toEqual(offsets);
    // Each printed offset resumes right after its line.
    const resumed = await tether('tail', session.id, '--json', '--from', offsets[1]!, '--no-follow');
    expect(jsonLines(resumed.stdout).map((l) => l.event.n)).toEqual([3, 4]);
  });

  it('prints a readable transcript by default: streamed text on one line, tools, questions and turns', async () => {
    const { session } = await client.sessions.create();
    await client.session(session.id).in.send({ type: 'user.message', text: 'count my words' });
    await client.session(session.id).out.send([
      { type: 'turn.started', turnId: 'turn_x' },
      { type: 'message.started', messageId: 'm1', role: 'assistant' },
      { type: 'message.delta', messageId: 'm1', text: 'Hello' },
      { type: 'message.delta', messageId: 'm1', text: ' there' },
      { type: 'message.completed', messageId: 'm1' },
      { type: 'tool.call', toolCallId: 'c1', name: 'word_count', input: { text: 'count my words' } },
      { type: 'tool.result', toolCallId: 'c1', name: 'word_count', output: 3, durationMs: 4 },
      { type: 'custom.note', note: 'free-form' },
    ]);
    const replay = await tether('tail', session.id, '--no-follow');
    expect(replay.code).toBe(0);
    expect(replay.stdout.split('\n')).toEqual([
      '── started turn_x',
      'assistant: Hello there',
      '→ word_count({"text":"count my words"})',
      '← word_count: 3 (4 ms)',
      'custom.note {"note":"free-form"}',
      '',
    ]);
    const inbound = await tether('tail', session.id, '--no-follow', '--channel', 'in');
    expect(inbound.stdout).toContain('user: count my words');
  });
});

describe('tether tail across a server crash', () => {
  it('reconnects from the last offset it printed: nothing lost, nothing printed twice', async () => {
    const crashDir = mkdtempSync(join(tmpdir(), 'tether-cli-crash-'));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const args = ['--data-dir', crashDir, '--port', String(port)];
    let crashing = await startServerProcess(args);
    const keyFile = join(crashDir, 'admin-key');
    const local = createClient({ url: crashing.url, apiKey: existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined });
    try {
      const { session } = await local.sessions.create();
      const following = startCli(['tail', session.id, '--json', '--data-dir', crashDir], cleanEnv({ TETHER_URL: crashing.url }));
      try {
        const out = local.session(session.id).out;
        await out.send([{ type: 'custom.n', n: 1 }, { type: 'custom.n', n: 2 }]);
        await eventually(() => following.lines().length >= 2, 15_000, 'the first events');
        await crashing.stop('SIGKILL');
        crashing = await startServerProcess(args);
        await out.send({ type: 'custom.n', n: 3 });
        await local.sessions.close(session.id);
        expect(await following.exited).toBe(0);
      } finally {
        await following.kill();
      }
      expect(jsonLines(following.output.stdout).map((l) => l.event.n)).toEqual([1, 2, 3]);
      expect(following.output.stderr).toContain('reconnecting');
    } finally {
      await crashing.stop('SIGKILL');
      rmSync(crashDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('tether send, inbox and respond', () => {
  it('answers a question from the inbox; a second, different answer is a conflict', async () => {
    const agent = `cli-asker-${unique()}`;
    const approvals: string[] = [];
    const runner = startAgent({
      url: server.url,
      apiKey,
      agents: [agent],
      handler: async (ctx) => {
        approvals.push(String(await ctx.approve('Ship it?')));
      },
    });
    try {
      const { session } = await client.sessions.create({ agent });
      const sent = await tether('send', session.id, 'please', 'ship', '--json');
      expect(sent.code).toBe(0);
      const turnId = jsonLines(sent.stdout)[0]!.turn.id as string;
      const pending = await eventually(async () => {
        const inbox = jsonLines((await tether('inbox', '--json', '--all')).stdout);
        return inbox.find((i) => i.sessionId === session.id);
      }, 20_000, 'the question in the inbox');
      expect(pending).toMatchObject({ kind: 'approval', prompt: 'Ship it?', status: 'pending' });
      const text = await tether('inbox', '--all');
      expect(text.stdout).toMatch(new RegExp(`${pending.id}\\s+${session.id}\\s+approval\\s+pending\\s+Ship it\\?`));

      expect((await tether('respond', session.id, pending.id, 'maybe')).code).toBe(ExitCode.usage);
      const answered = await tether('respond', session.id, pending.id, 'yes');
      expect(answered).toMatchObject({ code: 0, stdout: `${pending.id} resolved\n` });
      expect((await tether('respond', session.id, pending.id, 'yes')).code).toBe(0);
      const changed = await tether('respond', session.id, pending.id, '--deny');
      expect(changed.code).toBe(ExitCode.conflict);
      expect(changed.stderr).toContain('INTERACTION_NOT_PENDING');
      await runner.finished(turnId);
      expect(approvals).toEqual(['true']);
      expect((await tether('respond', session.id, 'int_missing', 'x')).code).toBe(ExitCode.notFound);
    } finally {
      await runner.stop();
    }
  });
});

describe('credentials', () => {
  it('prefers --api-key, then TETHER_API_KEY, then the admin key in the data directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-cli-key-'));
    try {
      expect(resolveConnection({ 'data-dir': dir }, {})).toEqual({ url: 'http://127.0.0.1:4437', keySource: 'none' });
      writeFileSync(join(dir, 'admin-key'), 'tk_from_file\n', { mode: 0o600 });
      expect(resolveConnection({ 'data-dir': dir }, {})).toMatchObject({ apiKey: 'tk_from_file', keySource: 'data-dir' });
      expect(resolveConnection({ 'data-dir': dir }, { TETHER_API_KEY: 'tk_env' })).toMatchObject({ apiKey: 'tk_env', keySource: 'env' });
      expect(resolveConnection({ 'data-dir': dir, 'api-key': 'tk_flag' }, { TETHER_API_KEY: 'tk_env' })).toMatchObject({ apiKey: 'tk_flag' });
      expect(resolveConnection({ url: 'http://h:1' }, { TETHER_URL: 'http://other:2' }).url).toBe('http://h:1');
      expect(resolveConnection({}, { TETHER_URL: 'http://other:2' }).url).toBe('http://other:2');
      expect(() => resolveConnection({ url: 'ftp://x' }, {})).toThrow(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends the discovered key as a bearer credential on every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-cli-key-'));
    writeFileSync(join(dir, 'admin-key'), 'tk_local_admin\n', { mode: 0o600 });
    const seen: IncomingHttpHeaders[] = [];
    const recorder = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [], nextCursor: null }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(recorder.address() as { port: number }).port}`;
    try {
      expect((await runCli(['sessions', 'ls', '--url', url, '--data-dir', dir], env)).code).toBe(0);
      expect((await runCli(['inbox', '--url', url, '--data-dir', dir], cleanEnv({ TETHER_API_KEY: 'tk_env_key' }))).code).toBe(0);
      expect((await runCli(['inbox', '--url', url, '--data-dir', dir, '--api-key', 'tk_flag_key'], env)).code).toBe(0);
      expect(seen.map((h) => h.authorization)).toEqual(['Bearer tk_local_admin', 'Bearer tk_env_key', 'Bearer tk_flag_key']);
    } finally {
      recorder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
