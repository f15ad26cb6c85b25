/**
 * Every route the app registers, each with a request that should succeed
 * for the right credential. The route walk sends each of them with every kind
 * of wrong credential too. A route missing from this table fails the walk, so
 * a route added later must be given its case (and its access rule) here.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { consoleDir } from '@tether/console';
import { RUNNER_PRODUCER_ID } from '../../src/storage/turn-types.js';

export type As = 'admin' | 'client' | 'runner' | 'read' | 'write' | 'none';

export interface WalkRequest {
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

/** What one route case needs from the world it runs in. */
export interface World {
  sessionId: string;
  agent: string;
  turnId: string;
  epoch: number;
  interactionId: string;
  rawStream: string;
  keyId: string;
  /** A fresh id, for routes that create something named by the caller. */
  unique: string;
}

export interface RouteCase {
  /** Who succeeds: the least privileged credential that may. */
  as: As;
  /** Whether the world must be built fresh for the successful request (it changes or consumes it). */
  fresh?: boolean;
  /** Also names a resource of the world's project (so another project must not reach it). */
  scoped: boolean;
  /**
   * Names no session, yet takes session tokens and answers each only with its
   * own session's data: a token of another session gets an answer without
   * this world's session, the world's own token one with it.
   */
  ownSession?: boolean;
  request: (world: World) => WalkRequest;
}

const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
const runnerHeaders = (w: World) => ({ 'content-type': 'application/json', 'producer-id': RUNNER_PRODUCER_ID, 'producer-epoch': String(w.epoch), 'producer-seq': '1' });

/** Keyed by `METHOD url` as Fastify registered it. */
export const ROUTE_CASES: Record<string, RouteCase | RouteCase[]> = {
  'GET /openapi.json': { as: 'none', scoped: false, request: () => ({ path: '/openapi.json' }) },
  'HEAD /openapi.json': { as: 'none', scoped: false, request: () => ({ path: '/openapi.json' }) },
  'GET /healthz': { as: 'none', scoped: false, request: () => ({ path: '/healthz' }) },
  'HEAD /healthz': { as: 'none', scoped: false, request: () => ({ path: '/healthz' }) },
  'GET /readyz': { as: 'none', scoped: false, request: () => ({ path: '/readyz' }) },
  'HEAD /readyz': { as: 'none', scoped: false, request: () => ({ path: '/readyz' }) },
  ...consoleCases(),

  'PUT /v1/stream/*': [
    { as: 'client', fresh: true, scoped: false, request: (w) => ({ path: `/v1/stream/walk/new-${w.unique}`, ...json([]) }) },
  ],
  'POST /v1/stream/*': [
    { as: 'client', scoped: true, request: (w) => ({ path: w.rawStream, ...json({ n: 1 }) }) },
    { as: 'write', scoped: true, request: (w) => ({ path: `/v1/stream/sessions/${w.sessionId}/in`, ...json({ type: 'custom.note' }) }) },
    { as: 'runner', scoped: true, request: (w) => ({ path: `/v1/stream/sessions/${w.sessionId}/out`, body: '{"type":"custom.step"}', headers: runnerHeaders(w) }) },
  ],
  'DELETE /v1/stream/*': { as: 'client', fresh: true, scoped: true, request: (w) => ({ path: w.rawStream }) },
  'HEAD /v1/stream/*': [
    { as: 'client', scoped: true, request: (w) => ({ path: w.rawStream }) },
    { as: 'read', scoped: true, request: (w) => ({ path: `/v1/stream/sessions/${w.sessionId}/out` }) },
  ],
  'GET /v1/stream/*': [
    { as: 'runner', scoped: true, request: (w) => ({ path: `${w.rawStream}?offset=-1` }) },
    { as: 'read', scoped: true, request: (w) => ({ path: `/v1/stream/sessions/${w.sessionId}/out?offset=-1` }) },
  ],

  'POST /v1/sessions': { as: 'client', scoped: false, request: () => ({ path: '/v1/sessions', ...json({}) }) },
  'GET /v1/sessions': { as: 'runner', scoped: false, request: () => ({ path: '/v1/sessions' }) },
  'HEAD /v1/sessions': { as: 'runner', scoped: false, request: () => ({ path: '/v1/sessions' }) },
  'GET /v1/sessions/:ref': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}` }) },
  'HEAD /v1/sessions/:ref': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}` }) },
  'PATCH /v1/sessions/:ref': { as: 'client', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}`, ...json({ title: 'walked' }) }) },
  'POST /v1/sessions/:ref/close': { as: 'client', fresh: true, scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/close`, ...json({}) }) },
  'DELETE /v1/sessions/:ref': { as: 'client', fresh: true, scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}` }) },
  'POST /v1/sessions/:ref/fork': { as: 'client', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/fork`, ...json({}) }) },
  'GET /v1/sessions/:ref/children': { as: 'runner', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/children` }) },
  'HEAD /v1/sessions/:ref/children': { as: 'runner', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/children` }) },

  'POST /v1/keys': { as: 'admin', scoped: false, request: () => ({ path: '/v1/keys', ...json({ name: 'walk' }) }) },
  'GET /v1/keys': { as: 'admin', scoped: false, request: () => ({ path: '/v1/keys' }) },
  'HEAD /v1/keys': { as: 'admin', scoped: false, request: () => ({ path: '/v1/keys' }) },
  'DELETE /v1/keys/:id': { as: 'admin', fresh: true, scoped: true, request: (w) => ({ path: `/v1/keys/${w.keyId}` }) },
  'POST /v1/tokens': { as: 'client', scoped: true, request: (w) => ({ path: '/v1/tokens', ...json({ sessionId: w.sessionId, scopes: ['read'] }) }) },
  'POST /v1/projects': { as: 'admin', scoped: false, request: (w) => ({ path: '/v1/projects', ...json({ id: `p-${w.unique.toLowerCase()}` }) }) },
  'GET /v1/projects': { as: 'admin', scoped: false, request: () => ({ path: '/v1/projects' }) },
  'HEAD /v1/projects': { as: 'admin', scoped: false, request: () => ({ path: '/v1/projects' }) },
  'GET /metrics': { as: 'admin', scoped: false, request: () => ({ path: '/metrics' }) },
  'HEAD /metrics': { as: 'admin', scoped: false, request: () => ({ path: '/metrics' }) },

  'GET /v1/sessions/:ref/state': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/state` }) },
  'HEAD /v1/sessions/:ref/state': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/state` }) },
  'PUT /v1/sessions/:ref/state': { as: 'runner', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/state`, ...json({ step: 2 }) }) },
  'PUT /v1/sessions/:ref/files/*': {
    as: 'runner',
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files/b.txt`, body: 'hi', headers: { 'content-type': 'text/plain' } }),
  },
  'GET /v1/sessions/:ref/files/*': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files/a.txt` }) },
  'HEAD /v1/sessions/:ref/files/*': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files/a.txt` }) },
  'DELETE /v1/sessions/:ref/files/*': { as: 'runner', fresh: true, scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files/a.txt` }) },
  'GET /v1/sessions/:ref/files': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files` }) },
  'HEAD /v1/sessions/:ref/files': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/files` }) },
  'GET /v1/sessions/watch': { as: 'runner', scoped: false, request: (w) => ({ path: `/v1/sessions/watch?agent=${w.agent}` }) },
  'HEAD /v1/sessions/watch': { as: 'runner', scoped: false, request: (w) => ({ path: `/v1/sessions/watch?agent=${w.agent}` }) },

  'POST /v1/sessions/:ref/messages': {
    as: 'write',
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/messages`, ...json({ content: 'more', policy: 'enqueue' }) }),
  },
  'GET /v1/sessions/:ref/turns': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns` }) },
  'HEAD /v1/sessions/:ref/turns': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns` }) },
  'GET /v1/sessions/:ref/turns/:turnId': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns/${w.turnId}` }) },
  'HEAD /v1/sessions/:ref/turns/:turnId': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns/${w.turnId}` }) },
  'POST /v1/sessions/:ref/turns/:turnId/heartbeat': {
    as: 'runner',
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns/${w.turnId}/heartbeat`, ...json({ epoch: w.epoch }) }),
  },
  'POST /v1/sessions/:ref/turns/:turnId/complete': {
    as: 'runner',
    fresh: true,
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns/${w.turnId}/complete`, ...json({ epoch: w.epoch, status: 'completed' }) }),
  },
  'POST /v1/sessions/:ref/turns/:turnId/cancel': {
    as: 'client',
    fresh: true,
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/turns/${w.turnId}/cancel` }),
  },
  'POST /v1/sessions/:ref/interrupt': { as: 'write', fresh: true, scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/interrupt` }) },
  'POST /v1/runners/claim': { as: 'runner', scoped: false, request: (w) => ({ path: '/v1/runners/claim', ...json({ runnerId: 'walk', agents: [w.agent], waitMs: 0 }) }) },
  'POST /v1/sessions/:ref/interactions/:interactionId/respond': {
    as: 'write',
    fresh: true,
    scoped: true,
    request: (w) => ({ path: `/v1/sessions/${w.sessionId}/interactions/${w.interactionId}/respond`, ...json({ response: 'yes' }) }),
  },
  'GET /v1/sessions/:ref/interactions': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/interactions` }) },
  'HEAD /v1/sessions/:ref/interactions': { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/interactions` }) },
  ...transcriptCases(),
  'GET /v1/interactions': { as: 'client', scoped: false, request: () => ({ path: '/v1/interactions?status=pending' }) },
  'HEAD /v1/interactions': { as: 'client', scoped: false, request: () => ({ path: '/v1/interactions?status=pending' }) },
};

/** The web console's pages and files: public, since a browser loads them before signing in. */
function consoleCases(): Record<string, RouteCase> {
  const cases: Record<string, RouteCase> = {};
  const pages: Record<string, string> = { '/': '/', '/sessions': '/sessions', '/sessions/:id': '/sessions/ses_walk', '/inbox': '/inbox', '/sign-in': '/sign-in' };
  // Any built file will do; the build runs before the tests.
  const asset = readdirSync(join(consoleDir, 'assets'))[0];
  for (const [url, path] of Object.entries({ ...pages, '/assets/*': `/assets/${asset}` })) {
    for (const method of ['GET', 'HEAD']) cases[`${method} ${url}`] = { as: 'none', scoped: false, request: () => ({ path }) };
  }
  return cases;
}

/** Transcript reads, search and import. */
function transcriptCases(): Record<string, RouteCase> {
  const cases: Record<string, RouteCase> = {};
  for (const part of ['messages', 'tool-calls', 'usage', 'context', 'transcript']) {
    for (const method of ['GET', 'HEAD']) {
      cases[`${method} /v1/sessions/:ref/${part}`] = { as: 'read', scoped: true, request: (w) => ({ path: `/v1/sessions/${w.sessionId}/${part}` }) };
    }
  }
  for (const method of ['GET', 'HEAD']) {
    cases[`${method} /v1/search`] = { as: 'read', scoped: false, ownSession: true, request: () => ({ path: '/v1/search?q=walked' }) };
  }
  cases['POST /v1/sessions/import'] = {
    as: 'client',
    scoped: false,
    request: (w) => ({
      path: '/v1/sessions/import',
      body: JSON.stringify({
        type: 'user',
        uuid: `u-${w.unique}`,
        parentUuid: null,
        sessionId: `cc-${w.unique}`,
        timestamp: '2026-01-01T00:00:00.000Z',
        message: { role: 'user', content: 'imported while walking' },
      }),
      headers: { 'content-type': 'application/x-ndjson' },
    }),
  };
  return cases;
}
