/**
 * A PostgreSQL replica that dies mid-turn: a replica starting afterwards must
 * not take the turn from its runner (other replicas may be serving it); only
 * the lapse of the lease ends it, and then the runner is fenced off `out`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/postgres.js';
import { eventually, sleep, turnApi } from './turn-client.js';

if (await requirePostgres('turn recovery on PostgreSQL')) {
  describe('PostgreSQL replica killed mid-turn', () => {
    let database: ScratchDatabase;
    const servers: ServerProcess[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
      await database?.drop();
    });

    it('leaves the turn to its lease, then interrupts it', async () => {
      database = await createScratchDatabase();
      const args = ['--postgres', database.url, '--turn-sweep-interval-ms', '50'];
      const first = await startServerProcess(args);
      servers.push(first);
      // The key made on the first start is in the database the second start uses.
      const key = first.adminKey!;
      let api = turnApi(first.url, key);
      const session = await api.newSession({ agent: 'pg-crash' });
      await api.send(session.id, { content: 'work' });
      const claim = (await api.claim({ runnerId: 'r', agents: ['pg-crash'], waitMs: 1_000, leaseMs: 5_000 })).body;
      await first.stop('SIGKILL');

      const second = await startServerProcess(args);
      servers.push(second);
      api = turnApi(second.url, key);
      await sleep(300);
      expect((await api.get(session.id)).body.status).toBe('running');
      // The runner, talking to the surviving replica, is still in business.
      expect((await api.heartbeat(session.id, claim.turn.id, { epoch: claim.lease.epoch, leaseMs: 500 })).status).toBe(200);
      expect((await api.append(session.id, 'out', { type: 'custom.step' }, { epoch: claim.lease.epoch, seq: 0 })).status).toBe(200);

      await eventually(async () => (await api.get(session.id)).body.status === 'idle');
      expect((await api.turns(session.id)).body.data[0]).toMatchObject({ status: 'interrupted', reason: 'lease_expired' });
      expect((await api.append(session.id, 'out', { type: 'custom.step' }, { epoch: claim.lease.epoch, seq: 1 })).status).toBe(403);
    });
  });
} else {
  describe.skip('turn recovery on PostgreSQL', () => {
    it('needs PostgreSQL');
  });
}
