/**
 * SIGKILL of an SQLite server in the middle of turns: on restart no turn is
 * left running or waiting (their lease holder died with the process), queued
 * turns are kept, and the runners of the dead process are fenced off `out`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { turnApi } from './turn-client.js';

describe('SQLite server killed mid-turn', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-turn-crash-'));
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves no turn running after a restart', async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    // The key made on the first start survives the crash with the store.
    const key = server.adminKey!;
    let api = turnApi(server.url, key);
    const agent = 'crash-agent';
    const running = await api.newSession({ agent });
    const waiting = await api.newSession({ agent });
    const queued = await api.newSession({ agent: 'nobody-claims-this' });
    await api.send(running.id, { content: 'work' });
    await api.send(waiting.id, { content: 'ask' });
    await api.send(queued.id, { content: 'later' });
    const claims = [
      (await api.claim({ runnerId: 'r1', agents: [agent], waitMs: 1_000, leaseMs: 600_000 })).body,
      (await api.claim({ runnerId: 'r2', agents: [agent], waitMs: 1_000, leaseMs: 600_000 })).body,
    ];
    const asker = claims.find((c) => c.turn.sessionId === waiting.id)!;
    const ask = { type: 'interaction.requested', interactionId: 'q', kind: 'input', prompt: '?' };
    expect((await api.append(waiting.id, 'out', ask, { epoch: asker.lease.epoch, seq: 0 })).status).toBe(200);
    expect((await api.get(waiting.id)).body.status).toBe('waiting');

    expect(await server.stop('SIGKILL')).toBeNull();
    server = await startServerProcess(['--data-dir', dataDir]);
    api = turnApi(server.url, key);

    for (const claim of claims) {
      const sessionId = claim.turn.sessionId;
      const [turn] = (await api.turns(sessionId)).body.data;
      expect(turn).toMatchObject({ id: claim.turn.id, status: 'interrupted', reason: 'server_restart' });
      expect((await api.get(sessionId)).body).toMatchObject({ status: 'idle', pendingInteractions: 0 });
      expect((await api.events(sessionId, 'out')).at(-1)).toEqual({ type: 'turn.interrupted', turnId: claim.turn.id, reason: 'server_restart' });
      const stale = await api.append(sessionId, 'out', { type: 'custom.late' }, { epoch: claim.lease.epoch, seq: 5 });
      expect(stale.status).toBe(403);
      expect((await api.heartbeat(sessionId, claim.turn.id, { epoch: claim.lease.epoch })).body.error.code).toBe('LEASE_LOST');
    }
    expect((await api.interactions(waiting.id)).body.data[0].status).toBe('cancelled');
    expect((await api.get(queued.id)).body.status).toBe('queued');
    const later = await api.claim({ runnerId: 'r3', agents: ['nobody-claims-this'], waitMs: 1_000 });
    expect(later.body.turn.sessionId).toBe(queued.id);
  });
});
