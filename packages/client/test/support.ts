/** Helpers for SDK tests: a real server, a small JSON client for the routes, and a live reader of `out`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@tether/server';
import type { Session } from '@tether/protocol';
import { HttpClient, followChannel, runAgent, type ChannelEvent, type RunAgentOptions, type RunnerEvent } from '../src/index.js';

export const unique = () => Math.random().toString(36).slice(2, 10);
export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TestServer {
  url: string;
  /** The admin key the server made on its first start; the harness clients send it. */
  key: string;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-client-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...overrides });
  // Printed once on the first start on an empty data directory, as `tether serve` does.
  const key = server.createdAdminKey!;
  return {
    url: server.url,
    key,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns something truthy. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

export function api(url: string, key: string) {
  const http = new HttpClient({ url, apiKey: key });
  const call = async <T = any>(method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? { authorization: `Bearer ${key}` } : { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  };
  return {
    http,
    call,
    createSession: async (body: Record<string, unknown> = {}) => {
      const res = await call<{ session: Session }>('POST', '/v1/sessions', body);
      if (res.status !== 201) throw new Error(`create session: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.session;
    },
    getSession: async (id: string) => (await call<Session>('GET', `/v1/sessions/${id}`)).body,
    send: (id: string, content: unknown, extra: Record<string, unknown> = {}) =>
      call<{ turn: { id: string; status: string } }>('POST', `/v1/sessions/${id}/messages`, { content, ...extra }),
    interrupt: (id: string) => call('POST', `/v1/sessions/${id}/interrupt`),
    respond: (id: string, interactionId: string, body: unknown) =>
      call('POST', `/v1/sessions/${id}/interactions/${interactionId}/respond`, body),
    turns: async (id: string) => (await call<{ data: { id: string; status: string }[] }>('GET', `/v1/sessions/${id}/turns`)).body,
  };
}

/** Reads a session's `out` live from the start, for as long as the test runs. */
export function watchOut(url: string, key: string, session: Session) {
  const events: ChannelEvent[] = [];
  const stop = new AbortController();
  const done = (async () => {
    const http = new HttpClient({ url, apiKey: key });
    for await (const batch of followChannel<ChannelEvent>(http, { path: session.channels.out.url, offset: '-1', signal: stop.signal })) {
      events.push(...batch.events);
    }
  })().catch(() => {});
  return {
    events,
    /** Resolves with the first event (after `from`) that matches. */
    waitFor: (match: (event: ChannelEvent) => boolean, timeoutMs = 10_000, what = 'an event on out') =>
      eventually(() => events.find(match), timeoutMs, what),
    close: async () => {
      stop.abort();
      await done;
    },
  };
}

/** Runs an agent in the background; `stop()` ends it and resolves when it has. */
export function startAgent(options: RunAgentOptions) {
  const stop = new AbortController();
  const events: RunnerEvent[] = [];
  const running = runAgent({
    ...options,
    waitMs: options.waitMs ?? 2_000,
    signal: stop.signal,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  running.catch(() => {});
  return {
    events,
    running,
    finished: (turnId: string) =>
      eventually(() => events.find((e) => e.type === 'finished' && e.claim.turn.id === turnId), 15_000, `turn ${turnId} to finish`),
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

export const deltasOf = (events: ChannelEvent[], messageId: string) =>
  events.filter((e) => e.type === 'message.delta' && e.messageId === messageId).map((e) => e.text as string);

/** The header that carries a test server's admin key, for requests made with plain `fetch`. */
export const authOf = (server: { key: string }) => ({ authorization: `Bearer ${server.key}` });
