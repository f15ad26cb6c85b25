/** A small JSON client for the turn, runner and interaction routes, for tests. */
import { sessionApi } from '../sessions/session-client.js';

export interface Claim {
  turn: { id: string; sessionId: string; status: string; content: unknown; attempts: number };
  session: { id: string; status: string };
  lease: { epoch: number; expiresAt: string };
  producer: { id: string; epoch: number };
}

export function turnApi(baseUrl: string, key: string) {
  const api = sessionApi(baseUrl, key);
  const auth = { authorization: `Bearer ${key}` };
  const { call } = api;
  const turnPath = (sessionId: string, turnId: string) => `/v1/sessions/${sessionId}/turns/${turnId}`;
  return {
    ...api,
    newSession: async (body: Record<string, unknown> = {}) => (await api.create(body)).body.session,
    send: (ref: string, body: Record<string, unknown>) => call('POST', `/v1/sessions/${ref}/messages`, body),
    claim: (body: Record<string, unknown>) => call<Claim>('POST', '/v1/runners/claim', body),
    heartbeat: (sessionId: string, turnId: string, body: Record<string, unknown>) =>
      call('POST', `${turnPath(sessionId, turnId)}/heartbeat`, body),
    complete: (sessionId: string, turnId: string, body: Record<string, unknown>) =>
      call('POST', `${turnPath(sessionId, turnId)}/complete`, body),
    cancel: (sessionId: string, turnId: string) => call('POST', `${turnPath(sessionId, turnId)}/cancel`),
    interrupt: (ref: string) => call('POST', `/v1/sessions/${ref}/interrupt`),
    turns: (ref: string, query = '') => call('GET', `/v1/sessions/${ref}/turns${query ? `?${query}` : ''}`),
    respond: (ref: string, interactionId: string, body: unknown) =>
      call('POST', `/v1/sessions/${ref}/interactions/${interactionId}/respond`, body),
    interactions: (ref: string, query = '') => call('GET', `/v1/sessions/${ref}/interactions${query ? `?${query}` : ''}`),
    inbox: (query = '') => call('GET', `/v1/interactions${query ? `?${query}` : ''}`),
    /** Appends to a channel, as a runner (with the lease's producer epoch) when `producer` is given. */
    append: async (sessionId: string, channel: 'out' | 'in', events: unknown, producer?: { epoch: number; seq: number }) => {
      const headers: Record<string, string> = { ...auth, 'content-type': 'application/json' };
      if (producer) {
        headers['producer-id'] = 'tether-runner';
        headers['producer-epoch'] = String(producer.epoch);
        headers['producer-seq'] = String(producer.seq);
      }
      const res = await fetch(`${baseUrl}/v1/stream/sessions/${sessionId}/${channel}`, { method: 'POST', headers, body: JSON.stringify(events) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    events: async (sessionId: string, channel: 'out' | 'in') => {
      const res = await fetch(`${baseUrl}/v1/stream/sessions/${sessionId}/${channel}?offset=-1`, { headers: auth });
      return (await res.json()) as Record<string, any>[];
    },
  };
}

export type TurnApi = ReturnType<typeof turnApi>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}
