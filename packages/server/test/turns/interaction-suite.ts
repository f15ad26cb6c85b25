/**
 * Human-in-the-loop interactions over HTTP against real server processes,
 * written once and run against each store (and, for PostgreSQL, two replicas).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, turnApi, type Claim, type TurnApi } from './turn-client.js';
import type { StartTurnServers, TurnServers } from './turn-suite.js';

export function describeInteractions(name: string, start: StartTurnServers): void {
  describe(`interactions (${name})`, () => {
    let servers: TurnServers;
    let api: TurnApi;
    let apis: TurnApi[];
    let counter = 0;

    beforeAll(async () => {
      servers = await start();
      apis = servers.urls.map((url) => turnApi(url, servers.key));
      api = apis[0]!;
    });
    afterAll(() => servers?.stop());

    /** A session with a claimed turn, and a runner's append to its `out`. */
    async function runningTurn() {
      const agent = `hitl-${process.pid}-${++counter}`;
      const session = await api.newSession({ agent });
      await api.send(session.id, { content: 'help me' });
      const claim: Claim = (await api.claim({ runnerId: 'r', agents: [agent], waitMs: 2_000 })).body;
      let seq = 0;
      const ask = (event: Record<string, unknown>) =>
        api.append(session.id, 'out', { type: 'interaction.requested', ...event }, { epoch: claim.lease.epoch, seq: seq++ });
      return { session, claim, ask };
    }

    it('a question makes the turn and session wait; a valid answer resumes them and reaches both channels', async () => {
      const { session, claim, ask } = await runningTurn();
      expect((await ask({ interactionId: 'plan', kind: 'choice', prompt: 'Which plan?', choices: ['basic', 'pro'] })).status).toBe(200);
      expect((await api.get(session.id)).body).toMatchObject({ status: 'waiting', pendingInteractions: 1 });
      expect((await api.turns(session.id)).body.data[0].status).toBe('waiting');

      const wrong = await api.respond(session.id, 'plan', { response: 'gold' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.code).toBe('VALIDATION_FAILED');
      const answered = await api.respond(session.id, 'plan', { response: 'pro' });
      expect(answered.status).toBe(200);
      expect(answered.body.interaction).toMatchObject({ id: 'plan', status: 'resolved', response: 'pro', turnId: claim.turn.id });
      expect((await api.get(session.id)).body).toMatchObject({ status: 'running', pendingInteractions: 0 });
      expect((await api.events(session.id, 'in')).at(-1)).toEqual({ type: 'interaction.response', interactionId: 'plan', response: 'pro' });
      expect((await api.events(session.id, 'out')).at(-1)).toEqual({
        type: 'interaction.resolved',
        interactionId: 'plan',
        status: 'resolved',
        response: 'pro',
      });
      // The same answer again is fine; a different one is not.
      expect((await api.respond(session.id, 'plan', { response: 'pro' })).status).toBe(200);
      const late = await api.respond(session.id, 'plan', { response: 'basic' });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('INTERACTION_NOT_PENDING');
      expect((await api.respond(session.id, 'nope', { response: 'x' })).body.error.code).toBe('INTERACTION_NOT_FOUND');
    });

    it('twenty different answers at once: exactly one wins, the rest are 409', async () => {
      const { session, ask } = await runningTurn();
      await ask({ interactionId: 'q', kind: 'input', prompt: 'Your name?' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => apis[i % apis.length]!.respond(session.id, 'q', { response: `name-${i}` })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      const winner = answers.find((a) => a.status === 200)!.body.interaction.response;
      const stored = (await api.interactions(session.id)).body.data[0];
      expect(stored).toMatchObject({ status: 'resolved', response: winner });
      expect((await api.events(session.id, 'in')).filter((e) => e.type === 'interaction.response')).toHaveLength(1);
    });

    it('validates forms against their JSON Schema, approvals and denials', async () => {
      const { session, ask } = await runningTurn();
      const schema = {
        type: 'object',
        properties: { email: { type: 'string', pattern: '^[^@]+@[^@]+$' }, seats: { type: 'integer', minimum: 1 } },
        required: ['email', 'seats'],
        additionalProperties: false,
      };
      await ask({ interactionId: 'form', kind: 'form', prompt: 'Details', schema });
      const bad = await api.respond(session.id, 'form', { response: { email: 'nobody', seats: 0 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.errors.length).toBeGreaterThan(0);
      expect((await api.respond(session.id, 'form', { response: { email: 'a@b.c', seats: 2 } })).status).toBe(200);

      await ask({ interactionId: 'ok', kind: 'approval', prompt: 'Deploy?' });
      expect((await api.respond(session.id, 'ok', { response: 'yes' })).status).toBe(400);
      expect((await api.respond(session.id, 'ok', {})).status).toBe(400);
      expect((await api.respond(session.id, 'ok', { response: true, deny: true })).status).toBe(400);
      const denied = await api.respond(session.id, 'ok', { deny: true });
      expect(denied.body.interaction.status).toBe('denied');
      expect((await api.respond(session.id, 'ok', { deny: true })).status).toBe(200);
      expect((await api.respond(session.id, 'ok', { response: true })).status).toBe(409);
      expect((await api.events(session.id, 'in')).at(-1)).toEqual({ type: 'interaction.response', interactionId: 'ok', deny: true });

      const invalid = await ask({ interactionId: 'broken', kind: 'form', prompt: 'x', schema: { type: 'no-such-type' } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('INVALID_EVENT');
      expect((await ask({ interactionId: 'empty', kind: 'choice', prompt: 'x', choices: [] })).status).toBe(400);
      expect((await ask({ interactionId: 'form', kind: 'input', prompt: 'again' })).body.error.code).toBe('INVALID_EVENT');
    });

    it('refuses a question when no turn is running, with nothing appended', async () => {
      const session = await api.newSession({ agent: `none-${++counter}` });
      const res = await api.append(session.id, 'out', { type: 'interaction.requested', interactionId: 'i', kind: 'input', prompt: '?' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('SESSION_NOT_RUNNING');
      expect(await api.events(session.id, 'out')).toEqual([]);
    });

    it('a question past its timeout expires, and the turn runs again', async () => {
      const { session, ask } = await runningTurn();
      await ask({ interactionId: 'slow', kind: 'input', prompt: 'Anyone?', timeoutSeconds: 0.2 });
      await eventually(async () => (await api.get(session.id)).body.status === 'running');
      expect((await api.interactions(session.id, 'status=expired')).body.data.map((i: { id: string }) => i.id)).toEqual(['slow']);
      expect((await api.events(session.id, 'in')).at(-1)).toEqual({ type: 'interaction.response', interactionId: 'slow', status: 'expired' });
      expect((await api.respond(session.id, 'slow', { response: 'me' })).status).toBe(409);
    });

    it('interrupt, cancel and close cancel pending questions', async () => {
      const { session, claim, ask } = await runningTurn();
      await ask({ interactionId: 'a', kind: 'input', prompt: 'A?' });
      await api.interrupt(session.id);
      expect((await api.interactions(session.id)).body.data[0].status).toBe('cancelled');
      expect((await api.get(session.id)).body).toMatchObject({ status: 'running', pendingInteractions: 0 });
      await ask({ interactionId: 'b', kind: 'input', prompt: 'B?' });
      await api.close(session.id);
      const statuses = (await api.interactions(session.id)).body.data.map((i: { status: string }) => i.status);
      expect(statuses).toEqual(['cancelled', 'cancelled']);
      expect((await api.events(session.id, 'out')).at(-1)).toEqual({ type: 'interaction.resolved', interactionId: 'b', status: 'cancelled' });
      expect(claim.turn.id).toBeTruthy();
    });

    it('the inbox lists pending questions across sessions, paged by cursor', async () => {
      const asked: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { session, ask } = await runningTurn();
        await ask({ interactionId: `inbox-${i}`, kind: 'approval', prompt: 'ok?' });
        asked.push(session.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { data: { sessionId: string; status: string }[]; nextCursor: string | null } } = await api.inbox(
          `status=pending&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        for (const item of page.body.data) {
          expect(item.status).toBe('pending');
          seen.push(item.sessionId);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      for (const id of asked) expect(seen).toContain(id);
      expect((await api.inbox('cursor=garbage')).body.error.code).toBe('INVALID_CURSOR');
    });
  });
}
