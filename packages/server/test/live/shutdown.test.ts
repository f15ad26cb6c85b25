import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process.js';

async function readUntilEnd(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += Buffer.from(value).toString();
  }
}

describe('SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-drain-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('ends live readers with a final control event, finishes in-flight appends, then exits', async () => {
    const server = await startServerProcess(['--data-dir', dataDir, '--long-poll-timeout-ms', '30000']);
    const auth = { authorization: `Bearer ${server.adminKey!}` };
    const stream = `${server.url}/v1/stream/drain`;
    expect((await fetch(stream, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } })).status).toBe(201);

    const sse = await fetch(`${stream}?offset=-1&live=sse`, { headers: auth });
    const sseText = readUntilEnd(sse);
    const longPoll = fetch(`${stream}?offset=now&live=long-poll`, { headers: auth });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Appends racing the signal: each either lands (2xx) or is refused before it starts.
    const appends = Array.from({ length: 20 }, (_, i) =>
      fetch(stream, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ i }) }).then(
        (r) => r.status,
        () => 'refused' as const,
      ),
    );
    const signalledAt = Date.now();
    const exitCode = server.stop('SIGTERM');

    const poll = await longPoll;
    expect([200, 204]).toContain(poll.status);
    const events = await sseText;
    // The response ends on a control event telling the reader where to resume.
    const frames = events.trim().split('\n\n');
    expect(frames.at(-1)).toMatch(/^event: control\ndata:\{"streamNextOffset":"\d{16}_\d{16}"/);
    expect(await exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(3000);

    const statuses = await Promise.all(appends);
    for (const status of statuses) expect([204, 503, 'refused']).toContain(status);
    const landed = statuses.filter((s) => s === 204).length;

    const again = await startServerProcess(['--data-dir', dataDir]);
    try {
      const res = await fetch(`${again.url}/v1/stream/drain?offset=-1`, { headers: auth });
      expect(((await res.json()) as unknown[]).length).toBe(landed);
    } finally {
      await again.stop();
    }
  }, 30_000);
});
