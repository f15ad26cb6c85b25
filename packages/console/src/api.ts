/**
 * The console's only way to the server: the public HTTP API, with the
 * credential the user signed in with (an API key or a session token).
 */
import { HttpClient, type InteractionAnswer } from '@tether/client';

const CREDENTIAL_KEY = 'tether.credential';

export function getCredential(): string | null {
  try {
    return localStorage.getItem(CREDENTIAL_KEY);
  } catch {
    return null;
  }
}

export function setCredential(value: string | null): void {
  if (value) localStorage.setItem(CREDENTIAL_KEY, value);
  else localStorage.removeItem(CREDENTIAL_KEY);
  window.dispatchEvent(new Event('tether:credential'));
}

/**
 * The session a session token is scoped to, read from its (unverified) JWT
 * payload: only to decide which page to open; the server checks the token.
 */
export function tokenSession(credential: string): string | null {
  const payload = credential.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { scopes?: unknown; scope?: unknown };
    const scopes = Array.isArray(json.scopes) ? json.scopes : typeof json.scope === 'string' ? json.scope.split(' ') : [];
    for (const scope of scopes) {
      const match = typeof scope === 'string' ? /^(?:read|write):sessions:(ses_[A-Za-z0-9]+)$/.exec(scope) : null;
      if (match) return match[1]!;
    }
  } catch {
    // Not a JWT: an API key.
  }
  return null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Signals the app shell that the server refused the credential. */
function unauthorized(): void {
  window.dispatchEvent(new Event('tether:unauthorized'));
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const credential = getCredential();
  if (credential) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'NETWORK_ERROR', `cannot reach the server (${error instanceof Error ? error.message : String(error)})`);
  }
  if (response.status === 401) unauthorized();
  if (!response.ok) {
    let code = 'HTTP_' + response.status;
    let message = `${method} ${path} answered ${response.status}`;
    try {
      const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
      if (parsed.error?.code) code = parsed.error.code;
      if (parsed.error?.message) message = parsed.error.message;
    } catch {
      // Not our error shape (a proxy's page): keep the status.
    }
    throw new ApiError(response.status, code, message);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** An HttpClient for the SDK's channel reader, carrying the credential as a header. */
export function channelClient(): HttpClient {
  return new HttpClient({ url: location.origin, apiKey: getCredential() ?? undefined });
}

/** EventSource cannot send headers: the credential goes in `?token=`. */
export function eventSourceUrl(path: string, params: URLSearchParams = new URLSearchParams()): string {
  const query = new URLSearchParams(params);
  const credential = getCredential();
  if (credential) query.set('token', credential);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function respond(sessionId: string, interactionId: string, answer: InteractionAnswer): Promise<unknown> {
  return api('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/interactions/${encodeURIComponent(interactionId)}/respond`, answer);
}

export function formatCost(usd: number | undefined | null): string {
  if (!usd) return '$0.00';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return date.toLocaleDateString();
}
