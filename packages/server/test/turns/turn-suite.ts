/**
 * Turns and runners over HTTP against real `tether serve` processes, written
 * once and run against each store. `urls` may name several replicas of one
 * store: racing runners are spread over all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, turnApi, type Claim, type TurnApi } from './turn-client.js';

export interface TurnServers {
  urls: string[];
  /** An admin key valid on every replica. */
  key: string;
  stop(): Promise<void>;
}

export interface TurnServerOptions {
  turnRetries?: number;
}

export type StartTurnServers = (options?: TurnServerOptions) => Promise<TurnServers>;

export function describeTurns(name: string, start: StartTurnServers): void {
  describe(`turns and runners (${name})`, () => {
    let servers: TurnServers;
    let api: TurnApi;
    let apis: TurnApi[];
    // Every test claims only its own sessions' turns, so tests cannot steal each other's work.
    let agentCounter = 0;
    const newAgent = () => `agent-${process.pid}-${++agentCounter}-${Math.random().toString(36).slice(2, 6)}`;

    beforeAll(async () => {
      servers = await start();
      apis = servers.urls.map((url) => turnApi(url, servers.key));
      api = apis[0]!;
    });
    afterAll(() => servers?.stop());

    async function claimOne(agent: string, extra: Record<string, unknown> = {}): Promise<Claim> {
      const res = await api.claim({ runnerId: 'r-test', agents: [agent], waitMs: 2_000, ...extra });
      expect(res.status).toBe(200);
      return res.body;
    }

    it('admits a turn with its user.message in one step, and the session follows', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      const sent = await api.send(session.id, { content: 'hello' });
      expect(sent.status).toBe(202);
      expect(sent.body.turn).toMatchObject({ status: 'queued', seq: 1, content: 'hello', policy: 'reject' });
      expect(sent.body.session).toMatchObject({ status: 'queued', turnCount: 1, activeTurnId: sent.body.turn.id });
      expect(await api.events(session.id, 'in')).toEqual([{ type: 'user.message', content: 'hello', turnId: sent.body.turn.id }]);

      const claim = await claimOne(agent);
      expect(claim.turn.id).toBe(sent.body.turn.id);
      expect(claim.session).toMatchObject({ id: session.id, status: 'running' });
      expect(claim.producer).toEqual({ id: 'tether-runner', epoch: claim.lease.epoch });
      expect((await api.get(session.id)).body).toMatchObject({ status: 'running', activeTurnId: claim.turn.id });

      const done = await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'completed' });
      expect(done.status).toBe(200);
      expect(done.body.turn.status).toBe('completed');
      expect((await api.get(session.id)).body).toMatchObject({ status: 'idle', activeTurnId: null, turnCount: 1 });
      expect((await api.events(session.id, 'out')).at(-1)).toEqual({ type: 'turn.completed', turnId: claim.turn.id });
      // A retried completion is answered again; a different one is refused.
      expect((await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'completed' })).status).toBe(200);
      const other = await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'failed' });
      expect(other.body.error.code).toBe('LEASE_LOST');
      expect((await api.call('GET', `/v1/sessions/${session.id}/turns/${claim.turn.id}`)).body.turn.status).toBe('completed');
      const listed = await api.turns(session.id);
      expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([claim.turn.id]);
    });

    it('rejects a busy session by default and appends nothing', async () => {
      const externalId = `chat-${newAgent()}`;
      const session = await api.newSession({ agent: newAgent(), externalId });
      expect((await api.send(externalId, { content: 'one' })).body.turn.sessionId).toBe(session.id);
      const busy = await api.send(externalId, { content: 'two' });
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('SESSION_BUSY');
      expect(await api.events(session.id, 'in')).toHaveLength(1);
      // Straight to `in`: the same rule, and the same nothing appended.
      const raw = await api.append(session.id, 'in', { type: 'user.message', content: 'three' });
      expect(raw.status).toBe(409);
      expect(raw.body.error.code).toBe('SESSION_BUSY');
      expect(await api.events(session.id, 'in')).toHaveLength(1);
      expect((await api.get(session.id)).body.turnCount).toBe(1);
    });

    it('enqueues behind the active turn and runs queued turns one at a time, in order', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      const ids: string[] = [];
      for (const content of ['a', 'b', 'c']) ids.push((await api.send(session.id, { content, policy: 'enqueue' })).body.turn.id);
      for (const id of ids) {
        const claim = await claimOne(agent);
        expect(claim.turn.id).toBe(id);
        // Nobody else may get a turn of this session while one runs.
        expect((await api.claim({ runnerId: 'other', agents: [agent], waitMs: 50 })).status).toBe(204);
        await api.complete(session.id, id, { epoch: claim.lease.epoch, status: 'completed' });
      }
      expect((await api.get(session.id)).body).toMatchObject({ status: 'idle', turnCount: 3 });
    });

    it('interrupt policy: stops the active turn, and the new turn runs next', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      await api.send(session.id, { content: 'long job' });
      const first = await claimOne(agent);
      const queued = await api.send(session.id, { content: 'later', policy: 'enqueue' });
      const urgent = await api.send(session.id, { content: 'stop that', policy: 'interrupt' });
      expect(urgent.status).toBe(202);
      const inEvents = await api.events(session.id, 'in');
      expect(inEvents.at(-2)).toEqual({ type: 'control.interrupt', turnId: first.turn.id, reason: 'interrupt' });
      expect(inEvents.at(-1)).toMatchObject({ type: 'user.message', content: 'stop that', turnId: urgent.body.turn.id });
      const beat = await api.heartbeat(session.id, first.turn.id, { epoch: first.lease.epoch });
      expect(beat.body).toMatchObject({ interruptRequested: true, cancelRequested: false });
      await api.complete(session.id, first.turn.id, { epoch: first.lease.epoch, status: 'interrupted' });
      const next = await claimOne(agent);
      expect(next.turn.id).toBe(urgent.body.turn.id);
      expect(next.lease.epoch).toBe(first.lease.epoch + 1);
      await api.complete(session.id, next.turn.id, { epoch: next.lease.epoch, status: 'completed' });
      expect((await claimOne(agent)).turn.id).toBe(queued.body.turn.id);
    });

    it('an idempotencyKey retry creates nothing and answers the same turn, even when racing', async () => {
      const session = await api.newSession({ agent: newAgent() });
      const body = { content: 'pay', idempotencyKey: 'k-1' };
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => apis[i % apis.length]!.send(session.id, body)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
      expect(new Set(answers.map((a) => a.body.turn.id)).size).toBe(1);
      expect(await api.events(session.id, 'in')).toHaveLength(1);
      // A retry is answered even once the session is busy with that very turn.
      expect((await api.send(session.id, body)).body.turn.id).toBe(answers[0]!.body.turn.id);
      const raw = await api.append(session.id, 'in', { type: 'user.message', content: 'pay', idempotencyKey: 'k-1' });
      expect(raw.status).toBe(204);
      expect(await api.events(session.id, 'in')).toHaveLength(1);
      expect((await api.get(session.id)).body.turnCount).toBe(1);
    });

    it('a user.message appended straight to `in` admits a turn', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      const raw = await api.append(session.id, 'in', { type: 'user.message', content: 'raw hello' });
      expect(raw.status).toBe(204);
      expect((await api.get(session.id)).body).toMatchObject({ status: 'queued', turnCount: 1 });
      const claim = await claimOne(agent);
      expect(claim.turn.content).toBe('raw hello');
      const two = await api.append(session.id, 'in', [
        { type: 'user.message', content: 'x' },
        { type: 'user.message', content: 'y' },
      ]);
      expect(two.body.error.code).toBe('INVALID_EVENT');
    });

    it('gives each turn to exactly one of many racing runners', async () => {
      const agent = newAgent();
      const sessions = await Promise.all(Array.from({ length: 12 }, () => api.newSession({ agent })));
      await Promise.all(sessions.map((s) => api.send(s.id, { content: 'work' })));
      const claims = await Promise.all(
        Array.from({ length: 36 }, (_, i) => apis[i % apis.length]!.claim({ runnerId: `r${i}`, agents: [agent], waitMs: 300 })),
      );
      const won = claims.filter((c) => c.status === 200).map((c) => c.body);
      expect(claims.every((c) => c.status === 200 || c.status === 204)).toBe(true);
      expect(won).toHaveLength(12);
      expect(new Set(won.map((c) => c.turn.id)).size).toBe(12);
      expect(new Set(won.map((c) => c.turn.sessionId))).toEqual(new Set(sessions.map((s) => s.id)));
    });

    it('wakes a waiting claimer as soon as a turn is admitted, and answers 204 after waitMs', async () => {
      const agent = newAgent();
      const started = Date.now();
      expect((await api.claim({ runnerId: 'idle', agents: [agent], waitMs: 200 })).status).toBe(204);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      const session = await api.newSession({ agent });
      const waiting = apis.at(-1)!.claim({ runnerId: 'waiter', agents: [agent], waitMs: 10_000 });
      await sleep(100);
      const sentAt = Date.now();
      await api.send(session.id, { content: 'now' });
      const claim = await waiting;
      expect(claim.status).toBe(200);
      expect(Date.now() - sentAt).toBeLessThan(900);
    });

    it('hands an admitted turn straight to a runner waiting on the same replica, and only to one that wants its agent', async () => {
      const agent = newAgent();
      const other = newAgent();
      const session = await api.newSession({ agent });
      const bystander = api.claim({ runnerId: 'bystander', agents: [other], waitMs: 1_500 });
      const waiting = api.claim({ runnerId: 'waiter', agents: [other, agent], waitMs: 10_000 });
      await sleep(150);
      const sent = await api.send(session.id, { content: 'straight through' });
      expect(sent.status).toBe(202);
      // Claimed in the admitting commit: the send already answers a running turn.
      expect(sent.body.turn).toMatchObject({ status: 'running', runnerId: 'waiter', attempts: 1 });
      const claim = await waiting;
      expect(claim.status).toBe(200);
      expect(claim.body.turn.id).toBe(sent.body.turn.id);
      expect(claim.body.lease.epoch).toBe(sent.body.turn.lease.epoch);
      expect(claim.body.session).toMatchObject({ id: session.id, status: 'running', activeTurnId: sent.body.turn.id });
      expect((await bystander).status).toBe(204);
      const done = await api.complete(session.id, claim.body.turn.id, { epoch: claim.body.lease.epoch, status: 'completed' });
      expect(done.body.turn.status).toBe('completed');

      // A user.message appended straight to `in` is handed over the same way.
      const next = api.claim({ runnerId: 'waiter-2', agents: [agent], waitMs: 10_000 });
      await sleep(150);
      expect((await api.append(session.id, 'in', { type: 'user.message', content: 'raw' })).status).toBe(204);
      const rawClaim = await next;
      expect(rawClaim.status).toBe(200);
      expect(rawClaim.body.turn).toMatchObject({ status: 'running', runnerId: 'waiter-2', content: 'raw', seq: 2 });
      expect((await api.get(session.id)).body).toMatchObject({ status: 'running', activeTurnId: rawClaim.body.turn.id });
    });

    it('a lapsed lease interrupts the turn and fences the old runner off `out`', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      await api.send(session.id, { content: 'slow' });
      const old = await claimOne(agent, { leaseMs: 1_000 });
      expect((await api.append(session.id, 'out', { type: 'custom.progress', n: 1 }, { epoch: old.lease.epoch, seq: 0 })).status).toBe(200);
      await eventually(async () => (await api.get(session.id)).body.status === 'idle');
      const out = await api.events(session.id, 'out');
      expect(out.at(-1)).toEqual({ type: 'turn.interrupted', turnId: old.turn.id, reason: 'lease_expired' });
      expect((await api.heartbeat(session.id, old.turn.id, { epoch: old.lease.epoch })).body.error.code).toBe('LEASE_LOST');
      // Fenced at once, before any successor has claimed.
      const late = await api.append(session.id, 'out', { type: 'custom.progress', n: 2 }, { epoch: old.lease.epoch, seq: 1 });
      expect(late.status).toBe(403);

      await api.send(session.id, { content: 'again' });
      const next = await claimOne(agent);
      expect(next.lease.epoch).toBeGreaterThan(old.lease.epoch);
      expect((await api.append(session.id, 'out', { type: 'custom.progress', n: 3 }, { epoch: next.lease.epoch, seq: 0 })).status).toBe(200);
      expect((await api.append(session.id, 'out', { type: 'custom.progress', n: 4 }, { epoch: old.lease.epoch, seq: 2 })).status).toBe(403);
      expect((await api.complete(session.id, old.turn.id, { epoch: old.lease.epoch, status: 'completed' })).status).toBe(409);
    });

    it('heartbeats keep a lease alive past its length', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      await api.send(session.id, { content: 'steady' });
      const claim = await claimOne(agent, { leaseMs: 1_000 });
      for (let i = 0; i < 5; i++) {
        await sleep(300);
        const beat = await api.heartbeat(session.id, claim.turn.id, { epoch: claim.lease.epoch });
        expect(beat.status).toBe(200);
      }
      expect((await api.get(session.id)).body.status).toBe('running');
    });

    it('interrupt: 409 when idle; mid-turn it reaches the runner through `in` and the heartbeat', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      const idle = await api.interrupt(session.id);
      expect(idle.status).toBe(409);
      expect(idle.body.error.code).toBe('SESSION_NOT_RUNNING');
      await api.send(session.id, { content: 'go' });
      const claim = await claimOne(agent);
      const stop = await api.interrupt(session.id);
      expect(stop.status).toBe(200);
      expect(stop.body.turn.interruptRequested).toBe(true);
      expect((await api.events(session.id, 'in')).at(-1)).toEqual({ type: 'control.interrupt', turnId: claim.turn.id, reason: 'interrupt' });
      expect((await api.heartbeat(session.id, claim.turn.id, { epoch: claim.lease.epoch })).body.interruptRequested).toBe(true);
      await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'interrupted' });
      expect((await api.events(session.id, 'out')).at(-1)).toEqual({ type: 'turn.interrupted', turnId: claim.turn.id });
      expect((await api.get(session.id)).body.status).toBe('idle');

      // A client may also append the interrupt to `in` itself: the running turn is flagged the same way.
      await api.send(session.id, { content: 'again' });
      const second = await claimOne(agent);
      expect((await api.append(session.id, 'in', { type: 'control.interrupt', turnId: second.turn.id })).status).toBe(204);
      expect((await api.heartbeat(session.id, second.turn.id, { epoch: second.lease.epoch })).body.interruptRequested).toBe(true);
    });

    it('cancels a queued turn at once and asks a running one to stop; close cancels the rest', async () => {
      const agent = newAgent();
      const session = await api.newSession({ agent });
      const first = (await api.send(session.id, { content: '1' })).body.turn;
      const second = (await api.send(session.id, { content: '2', policy: 'enqueue' })).body.turn;
      const third = (await api.send(session.id, { content: '3', policy: 'enqueue' })).body.turn;
      const cancelled = await api.cancel(session.id, second.id);
      expect(cancelled.body.turn.status).toBe('cancelled');
      const claim = await claimOne(agent);
      expect(claim.turn.id).toBe(first.id);
      const stopping = await api.cancel(session.id, first.id);
      expect(stopping.body.turn).toMatchObject({ status: 'running', cancelRequested: true });
      expect((await api.heartbeat(session.id, first.id, { epoch: claim.lease.epoch })).body.cancelRequested).toBe(true);

      expect((await api.close(session.id)).status).toBe(200);
      const turns = (await api.turns(session.id)).body.data as { id: string; status: string; cancelRequested: boolean }[];
      expect(turns.find((t) => t.id === third.id)?.status).toBe('cancelled');
      expect(turns.find((t) => t.id === first.id)).toMatchObject({ status: 'running', cancelRequested: true });
      const out = await api.events(session.id, 'out');
      expect(out).toContainEqual({ type: 'turn.cancelled', turnId: third.id, reason: 'session_closed' });
      // The runner can still end its turn; the closed channel just takes no more events.
      expect((await api.complete(session.id, first.id, { epoch: claim.lease.epoch, status: 'cancelled' })).status).toBe(200);
      expect((await api.send(session.id, { content: '4' })).body.error.code).toBe('SESSION_CLOSED');
      expect((await api.append(session.id, 'in', { type: 'user.message', content: '5' })).body.error.code).toBe('STREAM_CLOSED');
      expect((await api.claim({ runnerId: 'r', agents: [agent], waitMs: 50 })).status).toBe(204);
    });

    it('the monitor sees a session go queued, running and idle', async () => {
      const agent = newAgent();
      const controller = new AbortController();
      const res = await fetch(`${servers.urls.at(-1)}/v1/sessions/watch?agent=${agent}`, {
        signal: controller.signal,
        headers: { authorization: `Bearer ${servers.key}` },
      });
      const statuses: string[] = [];
      const reading = (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame.split('\n').find((line) => line.startsWith('data:'));
            if (frame.startsWith('event: session\n') && data) statuses.push(JSON.parse(data.slice(5)).status);
          }
        }
      })().catch(() => {});
      const session = await api.newSession({ agent });
      await api.send(session.id, { content: 'watch me' });
      // The monitor sends the latest state of a session, so wait for each before the next change.
      await eventually(async () => statuses.includes('queued'));
      const claim = await claimOne(agent);
      await eventually(async () => statuses.at(-1) === 'running');
      await api.complete(session.id, claim.turn.id, { epoch: claim.lease.epoch, status: 'completed' });
      await eventually(async () => statuses.at(-1) === 'idle');
      controller.abort();
      await reading;
    });

    it('answers 404 with codes for unknown sessions and turns, and 400 for bad bodies', async () => {
      const session = await api.newSession({ agent: newAgent() });
      expect((await api.send('ses_00000000000000000000000000', { content: 'x' })).body.error.code).toBe('SESSION_NOT_FOUND');
      expect((await api.cancel(session.id, 'turn_nope')).body.error.code).toBe('TURN_NOT_FOUND');
      expect((await api.send(session.id, { content: 'x', policy: 'sometimes' })).body.error.code).toBe('VALIDATION_FAILED');
      expect((await api.send(session.id, {})).body.error.code).toBe('VALIDATION_FAILED');
      expect((await api.claim({ agents: ['x'] })).body.error.code).toBe('VALIDATION_FAILED');
      expect((await api.heartbeat(session.id, 'turn_nope', { epoch: 0 })).body.error.code).toBe('VALIDATION_FAILED');
    });
  });

  describe(`lease retries (${name})`, () => {
    let servers: TurnServers;
    beforeAll(async () => {
      servers = await start({ turnRetries: 1 });
    });
    afterAll(() => servers?.stop());

    it('queues a lapsed turn again while it has retries, then interrupts it', async () => {
      const api = turnApi(servers.urls[0]!, servers.key);
      const agent = `retry-${Math.random().toString(36).slice(2, 8)}`;
      const session = await api.newSession({ agent });
      const turnId = (await api.send(session.id, { content: 'flaky' })).body.turn.id;
      const first = (await api.claim({ runnerId: 'a', agents: [agent], waitMs: 2_000, leaseMs: 200 })).body;
      expect(first.turn.attempts).toBe(1);
      const second = (await api.claim({ runnerId: 'b', agents: [agent], waitMs: 5_000, leaseMs: 200 })).body;
      expect(second.turn).toMatchObject({ id: turnId, attempts: 2 });
      expect(second.lease.epoch).toBeGreaterThan(first.lease.epoch);
      await eventually(async () => (await api.get(session.id)).body.status === 'idle');
      const turn = (await api.turns(session.id)).body.data[0];
      expect(turn).toMatchObject({ status: 'interrupted', reason: 'lease_expired', attempts: 2 });
    });
  });
}
