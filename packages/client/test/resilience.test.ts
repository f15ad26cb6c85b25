/**
 * runAgent when things go wrong: a network partition long enough to lose the
 * lease, and a server restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { echoAgent } from '@tether/example-echo-agent';
import { TetherError, type TurnContext } from '../src/index.js';
import { startServerProcess, type ServerProcess } from '../../server/test/support/server-process.js';
import { TcpProxy } from '../../server/test/support/tcp-proxy.js';
import { api, delay, eventually, startAgent, startTestServer, unique, watchOut, type TestServer } from './support.js';

describe('lease loss', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('aborts the handler, makes emit throw, and the runner goes on with the next turn', async () => {
    server = await startTestServer({ turnSweepIntervalMs: 100 });
    const port = Number(new URL(server.url).port);
    proxy = await TcpProxy.start('127.0.0.1', port);
    const client = api(server.url, server.key);
    const agent = `partitioned-${unique()}`;
    let started!: () => void;
    const working = new Promise<void>((resolve) => (started = resolve));
    let reason: unknown;
    let emitError: unknown;
    const runner = startAgent({
      // The runner reaches the server only through the proxy; the test does not.
      url: `http://127.0.0.1:${proxy.port}`,
      apiKey: server.key,
      agents: [agent],
      leaseMs: 1_200,
      handler: async (ctx: TurnContext) => {
        if (ctx.text !== 'long job') return;
        await ctx.emit({ type: 'custom.progress', step: 1 });
        started();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        reason = ctx.signal.reason;
        emitError = await ctx.emit({ type: 'custom.progress', step: 2 }).catch((error) => error);
      },
    });
    try {
      const session = await client.createSession({ agent });
      const out = watchOut(server.url, server.key, session);
      const turnId = (await client.send(session.id, 'long job')).body.turn.id;
      await working;
      await proxy.cut();
      // The lease lapses on the server while the runner cannot heartbeat.
      await out.waitFor((e) => e.type === 'turn.interrupted' && e.turnId === turnId, 10_000);
      await proxy.restore();

      expect(await runner.finished(turnId)).toMatchObject({ outcome: 'lease-lost' });
      expect(reason).toBeInstanceOf(TetherError);
      expect(reason).toMatchObject({ code: 'LEASE_LOST' });
      expect(emitError).toMatchObject({ name: 'TetherError', code: 'LEASE_LOST' });
      expect(out.events.filter((e) => e.type === 'custom.progress')).toEqual([{ type: 'custom.progress', step: 1 }]);

      const next = (await client.send(session.id, 'next')).body.turn.id;
      expect(await runner.finished(next)).toMatchObject({ outcome: 'completed' });
      await out.close();
    } finally {
      await runner.stop();
    }
  });
});

describe('a successor after a lapsed lease', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('fences the old runner off out: its next append is refused and its handler aborted', async () => {
    // One retry: the lapsed turn is queued again and another runner takes it.
    server = await startTestServer({ turnSweepIntervalMs: 100, turnRetries: 1 });
    proxy = await TcpProxy.start('127.0.0.1', Number(new URL(server.url).port));
    const client = api(server.url, server.key);
    const agent = `succession-${unique()}`;
    let started!: () => void;
    const working = new Promise<void>((resolve) => (started = resolve));
    let emitError: unknown;
    const old = startAgent({
      url: `http://127.0.0.1:${proxy.port}`,
      apiKey: server.key,
      agents: [agent],
      leaseMs: 1_000,
      handler: async (ctx) => {
        await ctx.emit({ type: 'custom.by', runner: 'old', step: 0 });
        started();
        // Keeps writing; the appends made during the partition wait in retries.
        for (let step = 1; ; step++) {
          try {
            await ctx.emit({ type: 'custom.by', runner: 'old', step });
          } catch (error) {
            emitError = error;
            return;
          }
          await delay(100);
        }
      },
    });
    const session = await client.createSession({ agent });
    const out = watchOut(server.url, server.key, session);
    const turnId = (await client.send(session.id, 'work')).body.turn.id;
    await working;
    await proxy.cut();
    const successor = startAgent({
      url: server.url,
      apiKey: server.key,
      agents: [agent],
      handler: async (ctx) => {
        await ctx.emit({ type: 'custom.by', runner: 'new' });
      },
    });
    try {
      const claims = () => successor.events.filter((e) => e.type === 'finished' && e.claim.turn.id === turnId);
      await eventually(() => claims().length > 0, 10_000, 'the successor to finish the turn');
      expect(claims()[0]).toMatchObject({ outcome: 'completed' });
      await proxy.restore();
      expect(await old.finished(turnId)).toMatchObject({ outcome: 'lease-lost' });
      expect(emitError).toMatchObject({ name: 'TetherError', code: 'LEASE_LOST' });

      await out.waitFor((e) => e.type === 'turn.completed' && e.turnId === turnId);
      await delay(200);
      const by = out.events.filter((e) => e.type === 'custom.by');
      // Nothing the old runner tried after the successor took over reached out.
      const successorAt = by.findIndex((e) => e.runner === 'new');
      expect(successorAt).toBeGreaterThan(0);
      expect(by.slice(successorAt + 1)).toEqual([]);
    } finally {
      await out.close();
      await successor.stop();
      await old.stop();
    }
  });
});

describe('server restart', () => {
  let server: ServerProcess | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-client-restart-'));
  afterAll(async () => {
    await server?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('claims again by itself after the server comes back; a turn cut short is given up', async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    const url = server.url;
    const port = new URL(url).port;
    // Printed on the first start; the store keeps it across the restart.
    const key = server.adminKey!;
    const client = api(url, key);
    const agent = `restart-${unique()}`;
    const runner = startAgent({ url, apiKey: key, agents: [agent], leaseMs: 3_000, waitMs: 1_000, handler: echoAgent({ delayMs: 1 }) });
    try {
      const session = await client.createSession({ agent });
      const first = (await client.send(session.id, 'before the restart')).body.turn.id;
      expect(await runner.finished(first)).toMatchObject({ outcome: 'completed' });

      // A turn waiting for an answer when the server dies.
      const waiting = (await client.send(session.id, 'choose one')).body.turn.id;
      await eventually(async () => (await client.getSession(session.id)).status === 'waiting', 10_000, 'status waiting');
      await server.stop('SIGKILL');
      await delay(500);
      server = await startServerProcess(['--data-dir', dataDir, '--port', port]);
      expect(server.url).toBe(url);

      expect(await runner.finished(waiting)).toMatchObject({ outcome: 'lease-lost' });
      const after = (await client.send(session.id, 'after the restart')).body.turn.id;
      expect(await runner.finished(after)).toMatchObject({ outcome: 'completed' });

      const out = watchOut(url, key, session);
      await out.waitFor((e) => e.type === 'turn.completed' && e.turnId === after);
      expect(out.events.find((e) => e.type === 'turn.interrupted')).toMatchObject({ turnId: waiting });
      await out.close();
    } finally {
      await runner.stop();
    }
  });
});
