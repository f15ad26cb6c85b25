/**
 * Authentication and authorisation over HTTP against a real server, written
 * once and run against each store: the walk over every registered route, and
 * what each credential may and may not do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { buildWorld, credentialsFor, expiredToken, send, type Credentials } from './auth-client.js';
import { ROUTE_CASES, type RouteCase } from './route-walk.js';

export interface AuthServers {
  server: RunningServer;
  /**
   * Another server on the same store: after a restart (SQLite, which stops the
   * first) or a second replica (PostgreSQL). The caller stops it.
   */
  sibling(): Promise<RunningServer>;
  stop(): Promise<void>;
}

const ok = (status: number) => status >= 200 && status < 300;
const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

export function describeAuth(name: string, start: () => Promise<AuthServers>): void {
  describe(`auth (${name})`, () => {
    let servers: AuthServers;
    let url: string;
    let keys: Credentials;

    beforeAll(async () => {
      servers = await start();
      url = servers.server.url;
      keys = await credentialsFor(servers.server);
    });
    afterAll(() => servers?.stop());

    it('walks every registered route with every kind of credential', async () => {
      const world = await buildWorld(url, keys);
      const other = await buildWorld(url, keys);
      const readToken = await world.token(['read']);
      const writeToken = await world.token(['read', 'write']);
      const otherToken = await other.token(['read', 'write']);
      const expired = await expiredToken(servers.server, world.sessionId);
      const credential = { admin: keys.admin, client: keys.client, runner: keys.runner, read: readToken, write: writeToken, none: null };
      const routes = servers.server.tether.routes.filter((r) => r.method !== 'OPTIONS');
      expect(routes.length).toBeGreaterThan(50);
      let checked = 0;
      for (const { method, url: route } of routes) {
        const entry = ROUTE_CASES[`${method} ${route}`];
        expect(entry, `${method} ${route} has no case in route-walk.ts`).toBeDefined();
        for (const routeCase of [entry].flat() as RouteCase[]) {
          const request = routeCase.request(world);
          const attempt = (who: string | null) => send(url, method, request.path, who, request);
          const where = `${method} ${request.path}`;
          if (routeCase.as === 'none') {
            expect(ok((await attempt(null)).status), where).toBe(true);
            continue;
          }
          for (const bad of [null, 'nonsense', 'tk_not-a-key-at-all', 'a.b.c', expired]) {
            const res = await attempt(bad);
            expect([where, bad === expired ? 'expired' : bad, res.status]).toEqual([where, bad === expired ? 'expired' : bad, 401]);
          }
          const foreign = await attempt(keys.otherProject);
          if (routeCase.scoped) expect([where, 'other project', foreign.status]).toEqual([where, 'other project', expect.toSatisfy((s: number) => s === 403 || s === 404)]);
          // A refusal may echo the id asked for; an answer must not carry this project's data.
          if (ok(foreign.status)) expect(foreign.text, `${where} answered another project with this one's data`).not.toContain(world.sessionId);
          const another = await attempt(otherToken);
          if (routeCase.ownSession) {
            expect([where, 'token of another session', another.status]).toEqual([where, 'token of another session', 200]);
            expect(another.text, `${where} showed another session's token this one`).not.toContain(world.sessionId);
          } else {
            expect([where, 'token of another session', another.status]).toEqual([where, 'token of another session', 403]);
          }
          if (method !== 'GET' && method !== 'HEAD') {
            expect([where, 'read token', (await attempt(readToken)).status]).toEqual([where, 'read token', 403]);
          }
          if (routeCase.as === 'admin') expect([where, 'client key', (await attempt(keys.client)).status]).toEqual([where, 'client key', 403]);
          const target = routeCase.fresh ? await buildWorld(url, keys) : world;
          const fresh = routeCase.fresh ? routeCase.request(target) : request;
          const freshCredential =
            routeCase.as === 'read' || routeCase.as === 'write'
              ? await (target as typeof world).token(routeCase.as === 'read' ? ['read'] : ['read', 'write'])
              : credential[routeCase.as];
          const right = await send(url, method, fresh.path, freshCredential, fresh);
          expect([where, routeCase.as, right.status, right.text.slice(0, 200)]).toEqual([where, routeCase.as, expect.toSatisfy(ok), expect.anything()]);
          if (routeCase.ownSession && method === 'GET') expect(right.text, `${where} answered the session's own token`).toContain(target.sessionId);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(45);
    });

    it('shows a key once, lists keys without it, and refuses a revoked key', async () => {
      const created = await send(url, 'POST', '/v1/keys', keys.admin, json({ name: 'rotating', role: 'client' }));
      expect(created.status).toBe(201);
      const key = JSON.parse(created.text);
      expect(key).toMatchObject({ name: 'rotating', role: 'client', prefix: key.key.slice(0, 10) });
      expect(key.key).toMatch(/^tk_/);
      expect((await send(url, 'GET', '/v1/sessions', key.key)).status).toBe(200);
      const listed = await send(url, 'GET', '/v1/keys', keys.admin);
      expect(listed.text).not.toContain(key.key);
      expect(JSON.parse(listed.text).data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ revokedAt: null });
      // Last use is recorded in the background, after the request it stems from.
      for (let i = 0; ; i++) {
        const listing = JSON.parse((await send(url, 'GET', '/v1/keys', keys.admin)).text);
        if (listing.data.find((k: { id: string }) => k.id === key.id).lastUsedAt) break;
        expect(i, 'lastUsedAt recorded').toBeLessThan(100);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await send(url, 'DELETE', `/v1/keys/${key.id}`, keys.admin)).status).toBe(204);
      const refused = await send(url, 'GET', '/v1/sessions', key.key);
      expect([refused.status, JSON.parse(refused.text).error.code]).toEqual([401, 'UNAUTHORIZED']);
      const missing = await send(url, 'DELETE', '/v1/keys/key_nope', keys.admin);
      expect([missing.status, JSON.parse(missing.text).error.code]).toEqual([404, 'KEY_NOT_FOUND']);
      // Another project's admin cannot see or revoke this project's keys.
      expect(JSON.parse((await send(url, 'GET', '/v1/keys', keys.otherProject)).text).data.map((k: { id: string }) => k.id)).not.toContain(key.id);
      expect((await send(url, 'DELETE', `/v1/keys/${key.id}`, keys.otherProject)).status).toBe(404);
    });

    it('gives roles only their own powers', async () => {
      const world = await buildWorld(url, keys);
      const event = JSON.stringify({ type: 'custom.x' });
      const headers = { 'content-type': 'application/json' };
      const post = (path: string, who: string) => send(url, 'POST', path, who, { body: event, headers });
      expect((await post(`/v1/stream/sessions/${world.sessionId}/out`, keys.client)).status).toBe(403);
      expect((await post(`/v1/stream/sessions/${world.sessionId}/in`, keys.runner)).status).toBe(403);
      expect((await send(url, 'POST', '/v1/runners/claim', keys.client, json({ runnerId: 'x', waitMs: 0 }))).status).toBe(403);
      expect((await send(url, 'POST', '/v1/sessions', keys.runner, json({}))).status).toBe(403);
      expect((await send(url, 'POST', '/v1/keys', keys.runner, json({}))).status).toBe(403);
      expect((await send(url, 'GET', '/metrics', keys.client)).status).toBe(403);
      // Only the operator's admins make projects.
      expect((await send(url, 'POST', '/v1/projects', keys.otherProject, json({ id: 'nested' }))).status).toBe(403);
    });

    it('session tokens: read both channels and the session, write only `in`, nothing else', async () => {
      const created = await send(url, 'POST', '/v1/sessions', keys.client, json({ title: 'browser' }));
      const { session, token } = JSON.parse(created.text);
      expect(token.split('.')).toHaveLength(3);
      const minted = JSON.parse((await send(url, 'POST', '/v1/tokens', keys.client, json({ sessionId: session.id, scopes: ['read'], ttlSeconds: 60 }))).text);
      expect(minted.scopes).toEqual([`read:sessions:${session.id}`]);
      expect(Date.parse(minted.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
      const channel = (c: string) => `/v1/stream/sessions/${session.id}/${c}`;
      expect((await send(url, 'GET', `/v1/sessions/${session.id}`, token)).status).toBe(200);
      expect((await send(url, 'POST', channel('in'), token, json({ type: 'custom.hello' }))).status).toBeLessThan(300);
      expect((await send(url, 'POST', channel('out'), token, json({ type: 'custom.hello' }))).status).toBe(403);
      expect((await send(url, 'POST', channel('in'), minted.token, json({ type: 'custom.hello' }))).status).toBe(403);
      for (const [method, path] of [
        ['POST', `/v1/sessions/${session.id}/close`],
        ['PATCH', `/v1/sessions/${session.id}`],
        ['DELETE', `/v1/sessions/${session.id}`],
        ['GET', '/v1/sessions'],
        ['POST', '/v1/tokens'],
      ]) {
        const body = method === 'GET' ? {} : json({ title: 'x' });
        expect([method, path, (await send(url, method!, path!, token, body)).status]).toEqual([method, path, 403]);
      }
      // EventSource style: the token in the query, for both channels.
      const read = await fetch(`${url}${channel('in')}?offset=-1&token=${encodeURIComponent(minted.token)}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toEqual([{ type: 'custom.hello' }]);
      const external = JSON.parse((await send(url, 'POST', '/v1/sessions', keys.client, json({ externalId: `ext-${Date.now()}` }))).text);
      expect((await send(url, 'GET', `/v1/sessions/${external.session.externalId}`, external.token)).status).toBe(200);
      expect((await send(url, 'GET', `/v1/sessions/${external.session.externalId}`, token)).status).toBe(403);
    });

    it('keeps projects apart: raw streams, sessions and runners', async () => {
      const path = `/v1/stream/shared/${Date.now()}`;
      const put = (who: string, body: string) => send(url, 'PUT', path, who, { body, headers: { 'content-type': 'application/json' } });
      expect((await put(keys.client, '[{"from":"default"}]')).status).toBe(201);
      expect((await put(keys.otherProject, '[{"from":"other"}]')).status).toBe(201);
      expect(JSON.parse((await send(url, 'GET', `${path}?offset=-1`, keys.client)).text)).toEqual([{ from: 'default' }]);
      expect(JSON.parse((await send(url, 'GET', `${path}?offset=-1`, keys.otherProject)).text)).toEqual([{ from: 'other' }]);
      expect((await send(url, 'PUT', '/v1/stream/.projects/x/y', keys.client)).status).toBe(403);

      const agent = `iso-${Date.now()}`;
      const mine = JSON.parse((await send(url, 'POST', '/v1/sessions', keys.client, json({ agent }))).text).session;
      await send(url, 'POST', `/v1/sessions/${mine.id}/messages`, keys.client, json({ content: 'work' }));
      const theirs = JSON.parse((await send(url, 'GET', `/v1/sessions?agent=${agent}`, keys.otherProject)).text);
      expect(theirs.data).toEqual([]);
      expect((await send(url, 'GET', `/v1/stream/sessions/${mine.id}/out?offset=-1`, keys.otherProject)).status).toBe(404);
      // The other project's runner finds no work; this project's runner gets the turn.
      expect((await send(url, 'POST', '/v1/runners/claim', keys.otherProject, json({ runnerId: 'o', agents: [agent], waitMs: 300 }))).status).toBe(204);
      expect((await send(url, 'POST', '/v1/runners/claim', keys.runner, json({ runnerId: 'm', agents: [agent], waitMs: 2_000 }))).status).toBe(200);
    });

    it('refuses NUL characters in URLs, JSON bodies and channel events with a 400 on every store', async () => {
      const world = await buildWorld(url, keys);
      const code = async (res: Promise<{ status: number; text: string }>) => {
        const { status, text } = await res;
        return [status, JSON.parse(text).error.code];
      };
      expect(await code(send(url, 'GET', `/v1/sessions/${world.sessionId}%00/state`, keys.admin))).toEqual([400, 'BAD_REQUEST']);
      expect(await code(send(url, 'GET', '/v1/sessions/ext%00', keys.admin))).toEqual([400, 'BAD_REQUEST']);
      expect(await code(send(url, 'GET', `/v1/sessions/ext%00`, await world.token(['read'])))).toEqual([403, 'FORBIDDEN']);
      expect(await code(send(url, 'GET', '/v1/sessions?agent=a%00', keys.admin))).toEqual([400, 'BAD_REQUEST']);
      expect(await code(send(url, 'POST', '/v1/sessions', keys.admin, json({ title: 'a\u0000b' })))).toEqual([400, 'BAD_REQUEST']);
      expect(await code(send(url, 'POST', `/v1/stream/sessions/${world.sessionId}/in`, keys.admin, json({ type: 'custom.x', note: '\u0000' })))).toEqual([400, 'INVALID_EVENT']);
    });

    it('accepts tokens and keys on another server of the same store', async () => {
      const { session, token } = JSON.parse((await send(url, 'POST', '/v1/sessions', keys.client, json({}))).text);
      const sibling = await servers.sibling();
      try {
        expect((await send(sibling.url, 'GET', `/v1/sessions/${session.id}`, token)).status).toBe(200);
        expect((await send(sibling.url, 'GET', '/v1/sessions', keys.client)).status).toBe(200);
        // It made no second admin key: the store had one.
        expect(sibling.createdAdminKey).toBeNull();
      } finally {
        await sibling.stop();
      }
    });
  });
}
