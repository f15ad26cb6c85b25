/**
 * "No gap, no duplicate" across a server crash: a real `tether serve` process
 * on a fixed data directory and port is killed mid-subscription and started
 * again, while the SDK keeps sending and following both channels.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../server/test/support/server-process.js';
import { createClient, type ChannelEntry, type ChannelEvent } from '../src/index.js';
import { delay, eventually } from './support.js';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const dataDir = mkdtempSync(join(tmpdir(), 'tether-client-restart-'));
let server: ServerProcess | null = null;
afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('subscriptions across a server crash and restart', () => {
  it('deliver every event exactly once, in order, and resume from a persisted offset', async () => {
    const port = await freePort();
    const args = ['--data-dir', dataDir, '--port', String(port)];
    server = await startServerProcess(args);
    // The first start wrote the admin key to the data directory; the restart reuses it.
    const apiKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    const client = createClient({ url: server.url, apiKey, sendAttempts: 30 });
    const { session } = await client.sessions.create({ title: 'crash test' });
    const handle = client.session(session.id);
    const total = 120;

    const reconnects: string[] = [];
    const follow = (channel: 'out' | 'in') => {
      const seen: ChannelEntry[] = [];
      const done = (async () => {
        for await (const entry of handle[channel].subscribe({ from: '-1', onReconnect: (e) => reconnects.push(`${channel}:${e?.code}`) })) {
          seen.push(entry);
        }
      })();
      return { seen, done };
    };
    const out = follow('out');
    const inbound = follow('in');

    const write = async () => {
      for (let i = 0; i < total; i++) {
        await handle.out.send({ type: 'custom.n', i });
        await handle.in.send({ type: 'custom.n', i });
        if (i % 10 === 0) await delay(20);
      }
    };
    const writing = write();
    // A reader that stops part-way and keeps only its last offset, as an app would in storage.
    let persisted = '-1';
    const firstPart: number[] = [];
    for await (const entry of handle.out.subscribe({ from: persisted })) {
      firstPart.push(entry.event.i as number);
      persisted = entry.offset;
      if (firstPart.length === 10) break;
    }
    // Let the readers get well into the stream, then crash the server without warning.
    await eventually(() => out.seen.length >= 30 && inbound.seen.length >= 30, 30_000, 'readers under way');
    expect(await server.stop('SIGKILL')).toBe(null);
    const before = out.seen.length;
    await delay(500);
    server = await startServerProcess(args);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);

    await writing;
    await handle.close();
    await Promise.all([out.done, inbound.done]);
    expect(before).toBeLessThan(total);
    expect(reconnects.some((r) => r.startsWith('out:NETWORK_ERROR'))).toBe(true);

    const expected = Array.from({ length: total }, (_, i) => i);
    for (const reader of [out, inbound]) {
      expect(reader.seen.map((e) => (e.event as ChannelEvent).i)).toEqual(expected);
      const offsets = reader.seen.map((e) => e.offset);
      expect(new Set(offsets).size).toBe(total);
      expect([...offsets].sort()).toEqual(offsets);
    }
    // Every entry's offset resumes right after it, on the restarted server.
    const resumed = (await handle.out.read({ from: out.seen[total - 41]!.offset })).entries.map((e) => e.event.i);
    expect(resumed).toEqual(expected.slice(total - 40));

    // The reader that stopped resumes from what it stored, with nothing missed or repeated.
    const rest: number[] = [];
    for await (const entry of handle.out.subscribe({ from: persisted })) rest.push(entry.event.i as number);
    expect([...firstPart, ...rest]).toEqual(expected);
  }, 120_000);
});
