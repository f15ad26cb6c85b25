/** A small JSON client for the session API, for tests. */
import type { Session } from '@tether/protocol';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** `key` is sent as `Authorization: Bearer`; a `headers.authorization` given to a call wins. */
export function sessionApi(baseUrl: string, key: string) {
  const auth = { authorization: `Bearer ${key}` };
  const call = async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: body === undefined ? { ...auth, ...headers } : { ...auth, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  };
  return {
    key,
    call,
    create: (body: Record<string, unknown> = {}) => call<{ session: Session; created: boolean; token: string }>('POST', '/v1/sessions', body),
    get: (ref: string) => call<Session>('GET', `/v1/sessions/${encodeURIComponent(ref)}`),
    list: (query = '') => call<{ data: Session[]; nextCursor: string | null }>('GET', `/v1/sessions${query ? `?${query}` : ''}`),
    patch: (ref: string, body: unknown) => call<Session>('PATCH', `/v1/sessions/${ref}`, body),
    close: (ref: string, reason?: string) => call<Session>('POST', `/v1/sessions/${ref}/close`, reason ? { reason } : undefined),
    remove: (ref: string) => call('DELETE', `/v1/sessions/${ref}`),
    fork: (ref: string, body: unknown = {}) => call<Session>('POST', `/v1/sessions/${ref}/fork`, body),
    children: (ref: string, query = '') => call<{ data: Session[]; nextCursor: string | null }>('GET', `/v1/sessions/${ref}/children${query ? `?${query}` : ''}`),
    appendEvents: (session: Session, channel: 'out' | 'in', events: unknown) =>
      fetch(baseUrl + session.channels[channel].url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      }),
    readChannel: async (session: Session, channel: 'out' | 'in', offset = '-1') => {
      const res = await fetch(`${baseUrl}${session.channels[channel].url}?offset=${offset}`, { headers: auth });
      return { status: res.status, events: res.status === 200 ? ((await res.json()) as unknown[]) : [], headers: res.headers };
    },
  };
}

export type SessionApi = ReturnType<typeof sessionApi>;
