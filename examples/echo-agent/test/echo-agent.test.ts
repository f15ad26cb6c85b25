/**
 * The example as a user runs it: the built `main.js` as its own process
 * against a real server (needs `npm run build`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@tether/server';
import { HttpClient, followChannel, type ChannelEvent } from '@tether/client';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let server: RunningServer;
let dataDir: string;
const auth = () => ({ authorization: `Bearer ${server.createdAdminKey!}` });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tether-echo-'));
  server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<any> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

it('answers a message and a choice, then stops cleanly on SIGTERM', async () => {
  // No --api-key: the agent finds the admin key the server wrote to its data directory.
  const agent = spawn(process.execPath, [MAIN, '--url', server.url, '--data-dir', dataDir, '--agent', 'echo', '--delay-ms', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  agent.stdout.on('data', (chunk) => (output += chunk));
  agent.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
  try {
    const { session } = await post('/v1/sessions', { agent: 'echo' });
    const { turn } = await post(`/v1/sessions/${session.id}/messages`, { content: 'choose wisely' });
    const stop = new AbortController();
    const events: ChannelEvent[] = [];
    const http = new HttpClient({ url: server.url, apiKey: server.createdAdminKey! });
    for await (const batch of followChannel<ChannelEvent>(http, { path: session.channels.out.url, offset: '-1', signal: stop.signal })) {
      events.push(...batch.events);
      const asked = batch.events.find((e) => e.type === 'interaction.requested');
      if (asked) await post(`/v1/sessions/${session.id}/interactions/${asked.interactionId}/respond`, { response: 'blue' });
      if (events.some((e) => e.type === 'turn.completed' && e.turnId === turn.id)) break;
    }
    const text = events
      .filter((e) => e.type === 'message.delta')
      .map((e) => e.text)
      .join('');
    expect(text).toBe('You said: choose wiselyThat was 2 words.You picked blue. Good choice.');
    expect(events.filter((e) => e.type === 'tool.result')).toMatchObject([{ output: { words: 2 } }]);
    expect(output).toContain(`echo agent working for ${server.url}`);
    // The server writes turn.completed when the runner completes; the runner logs it just after.
    for (let i = 0; i < 100 && !/turn \S+ completed/.test(output); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(output).toMatch(new RegExp(`turn ${turn.id} completed`));
  } finally {
    agent.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
