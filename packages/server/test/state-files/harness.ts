/** What the state and file suites need from a server, and small clients for them. */
import type { Store } from '../../src/storage/types.js';
import { sessionApi } from '../sessions/session-client.js';

export interface ServerUnderTest {
  url: string;
  /** An admin key of the server. */
  key: string;
  /** The server's own store, to check what a delete left behind in the database. */
  store: Store;
  stop(): Promise<void>;
}

/** Small limits, so the suites can cross them cheaply. */
export const TEST_LIMITS = { maxStateBytes: 2048, maxFileBytes: 4096, maxSessionFileBytes: 10_000 };

export const unique = () => Math.random().toString(36).slice(2, 10);

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export function dataApi(baseUrl: string, key: string) {
  const sessions = sessionApi(baseUrl, key);
  const auth = { authorization: `Bearer ${key}` };
  const send = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(baseUrl + path, { method, headers: { ...auth, ...headers }, body });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    key,
    send,
    newSession: async (body: Record<string, unknown> = {}) => (await sessions.create(body)).body.session.id,
    close: (id: string) => sessions.close(id),
    remove: (id: string) => sessions.remove(id),
    getState: (id: string, headers: Record<string, string> = {}) => send('GET', `/v1/sessions/${id}/state`, undefined, headers),
    putState: (id: string, document: string, headers: Record<string, string> = {}) =>
      send('PUT', `/v1/sessions/${id}/state`, document, { 'content-type': 'application/json', ...headers }),
    putFile: (id: string, path: string, data: string | Buffer, headers: Record<string, string> = {}) =>
      send('PUT', `/v1/sessions/${id}/files/${path}`, data, headers),
    getFile: async (id: string, path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${baseUrl}/v1/sessions/${id}/files/${path}`, { headers: { ...auth, ...headers } });
      return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
    },
    deleteFile: (id: string, path: string) => send('DELETE', `/v1/sessions/${id}/files/${path}`),
    listFiles: (id: string, query = '') => send('GET', `/v1/sessions/${id}/files${query ? `?${query}` : ''}`),
  };
}

export type DataApi = ReturnType<typeof dataApi>;

/**
 * Many reads at once, so a pooled store has all its connections open before a
 * race: on a cold pool, requests queue on the first connection and never overlap.
 */
export async function warmUp(api: DataApi, sessionId: string): Promise<void> {
  await Promise.all(Array.from({ length: 30 }, () => api.getState(sessionId)));
}
