/** Credentials and a world of things to reach for the auth tests, built through the API as a user would. */
import { expect } from 'vitest';
import { AuthService } from '../../src/services/auth-service.js';
import { DEFAULT_PROJECT } from '../../src/services/projects.js';
import type { RunningServer } from '../../src/server.js';
import { RUNNER_PRODUCER_ID } from '../../src/storage/turn-types.js';
import { adminKeyOf } from '../support/credentials.js';
import type { World } from './route-walk.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** One request; an event stream is cut once its head has arrived. */
export async function send(url: string, method: string, path: string, credential: string | null, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (credential !== null) headers.authorization = `Bearer ${credential}`;
  const controller = new AbortController();
  const res = await fetch(url + path, { method, headers, body: options.body, signal: controller.signal });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    controller.abort();
    return { status: res.status, headers: res.headers, text: '' };
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export interface Credentials {
  admin: string;
  client: string;
  runner: string;
  /** An admin key of another project. */
  otherProject: string;
}

export async function credentialsFor(server: RunningServer): Promise<Credentials> {
  const admin = await adminKeyOf(server);
  const key = async (role: string) => {
    const res = await send(server.url, 'POST', '/v1/keys', admin, { body: JSON.stringify({ role }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    return JSON.parse(res.text).key as string;
  };
  const project = await send(server.url, 'POST', '/v1/projects', admin, {
    body: JSON.stringify({ id: `other-${Math.random().toString(36).slice(2, 8)}` }),
    headers: { 'content-type': 'application/json' },
  });
  expect(project.status).toBe(201);
  return { admin, client: await key('client'), runner: await key('runner'), otherProject: JSON.parse(project.text).key.key };
}

/** A token signed with the server's own secret but already expired. */
export async function expiredToken(server: RunningServer, sessionId: string): Promise<string> {
  const past = new AuthService({
    store: server.store.auth,
    clock: { now: () => Date.now() - 3 * 24 * 3600 * 1000 },
    defaultTokenTtlSeconds: 3600,
    maxTokenTtlSeconds: 3600,
  });
  return (await past.mintToken(DEFAULT_PROJECT, sessionId, ['read', 'write'])).token;
}

let counter = 0;

/**
 * A session with a file, a claimed turn that asked a question, a raw stream
 * and a spare key, all in the default project.
 */
export async function buildWorld(url: string, keys: Credentials): Promise<World & { token: (scopes: string[]) => Promise<string> }> {
  const unique = `${process.pid}x${++counter}x${Math.random().toString(36).slice(2, 8)}`;
  const agent = `walk-${unique}`;
  const call = async (method: string, path: string, credential: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await send(url, method, path, credential, {
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.text ? JSON.parse(res.text) : null;
  };
  // Every world's title holds the same word, so a search can find them all.
  const { session } = await call('POST', '/v1/sessions', keys.client, { agent, title: 'walked world' });
  await call('PUT', `/v1/sessions/${session.id}/files/a.txt`, keys.client, 'file', { 'content-type': 'text/plain' });
  await call('POST', `/v1/sessions/${session.id}/messages`, keys.client, { content: 'go' });
  const claim = await call('POST', '/v1/runners/claim', keys.runner, { runnerId: 'walk', agents: [agent], waitMs: 5_000 });
  const interactionId = `q-${unique}`;
  await call('POST', `/v1/stream/sessions/${session.id}/out`, keys.runner, { type: 'interaction.requested', interactionId, kind: 'input', prompt: 'ok?' }, {
    'producer-id': RUNNER_PRODUCER_ID,
    'producer-epoch': String(claim.lease.epoch),
    'producer-seq': '0',
  });
  const rawStream = `/v1/stream/walk/${unique}`;
  await call('PUT', rawStream, keys.client, '[{"n":0}]');
  const spare = await call('POST', '/v1/keys', keys.admin, { name: 'spare' });
  const token = async (scopes: string[]) => (await call('POST', '/v1/tokens', keys.client, { sessionId: session.id, scopes })).token as string;
  return { sessionId: session.id, agent, turnId: claim.turn.id, epoch: claim.lease.epoch, interactionId, rawStream, keyId: spare.id, unique, token };
}
