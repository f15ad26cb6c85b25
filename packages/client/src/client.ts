import type { Session } from '@tether/protocol';
import type {
  ApiKey,
  CreateSessionInput,
  CreateSessionResult,
  CreatedApiKey,
  ImportResult,
  Interaction,
  InteractionStatus,
  KeyRole,
  ListOptions,
  Page,
  SearchFilters,
  SearchHit,
  SessionFilters,
  Transcript,
} from './api-types.js';
import { Channel } from './channel.js';
import { HttpClient, readText, type FetchLike } from './http.js';
import { paginate, queryString, ref as encodeRef } from './paging.js';
import { SessionHandle, SessionRoutes } from './session-handle.js';
import { watchSessions, type WatchEvent, type WatchOptions } from './session-watch.js';
import type { ChannelEvent } from './types.js';

export interface ClientOptions {
  /** Base URL of the Tether server, e.g. `http://127.0.0.1:4437`. */
  url: string;
  /** An API key (`tk_…`), sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** A session token, sent the same way when there is no `apiKey`. */
  token?: string;
  fetch?: FetchLike;
  /** Attempts per channel send before a network failure is given up on (default 10). */
  sendAttempts?: number;
}

/** `client.sessions`: create, find and manage sessions. */
export class SessionsApi extends SessionRoutes {
  /** Creates a session; with an `externalId` that already exists, returns it (`created: false`). */
  async create(input: CreateSessionInput = {}): Promise<CreateSessionResult> {
    return (await this.http.json<CreateSessionResult>('POST', '/v1/sessions', { body: input })).body;
  }

  /** One page, newest first. */
  async page(filters: SessionFilters = {}, options: ListOptions = {}): Promise<Page<Session>> {
    const query = queryString({ ...filters, limit: options.limit, cursor: options.cursor });
    return (await this.http.json<Page<Session>>('GET', `/v1/sessions${query}`, { signal: options.signal })).body;
  }

  /** Every matching session, newest first, fetching pages as the loop goes. */
  list(filters: SessionFilters = {}, options: ListOptions = {}): AsyncGenerator<Session> {
    return paginate((cursor) => this.page(filters, { ...options, cursor }), options.cursor);
  }

  /**
   * A live monitor: a `session` event per matching session, `ready`, then every
   * change as it happens. Reconnects by itself without losing changes.
   */
  watch(filters: SessionFilters = {}, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    return watchSessions(this.http, `/v1/sessions/watch${queryString({ ...filters })}`, options);
  }
}

export class KeysApi {
  constructor(private readonly http: HttpClient) {}

  /** Creates a key; the answer is the only time `key` itself is shown. */
  async create(input: { name?: string; role?: KeyRole } = {}): Promise<CreatedApiKey> {
    return (await this.http.json<CreatedApiKey>('POST', '/v1/keys', { body: input })).body;
  }

  async list(): Promise<ApiKey[]> {
    return (await this.http.json<{ data: ApiKey[] }>('GET', '/v1/keys')).body.data;
  }

  /** Revokes a key: requests made with it get 401 from then on. */
  async revoke(id: string): Promise<void> {
    await this.http.request('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }
}

export class InteractionsApi {
  constructor(private readonly http: HttpClient) {}

  async inboxPage(options: ListOptions & { status?: InteractionStatus | InteractionStatus[] } = {}): Promise<Page<Interaction>> {
    const query = queryString({ status: options.status ?? 'pending', limit: options.limit, cursor: options.cursor });
    return (await this.http.json<Page<Interaction>>('GET', `/v1/interactions${query}`, { signal: options.signal })).body;
  }

  /** Questions across every session, oldest first; pending ones unless `status` says otherwise. */
  inbox(options: ListOptions & { status?: InteractionStatus | InteractionStatus[] } = {}): AsyncGenerator<Interaction> {
    return paginate((cursor) => this.inboxPage({ ...options, cursor }), options.cursor);
  }
}

export interface ImportOptions {
  /** Import the lines that are valid and report the others (default: all or nothing). */
  partial?: boolean;
  signal?: AbortSignal;
}

/** The typed API of a Tether server, for browsers and Node alike. */
export class TetherClient {
  readonly http: HttpClient;
  readonly sessions: SessionsApi;
  readonly keys: KeysApi;
  readonly interactions: InteractionsApi;

  constructor(private readonly options: ClientOptions) {
    this.http = new HttpClient(options);
    this.sessions = new SessionsApi(this.http);
    this.keys = new KeysApi(this.http);
    this.interactions = new InteractionsApi(this.http);
  }

  /** A handle on one session by id (`ses_…`) or externalId; makes no request by itself. */
  session(ref: string): SessionHandle {
    return new SessionHandle(this.sessions, ref, { sendAttempts: this.options.sendAttempts });
  }

  /** Any JSON stream by path (`/v1/stream/...`), read and written like a session channel. */
  stream<E = ChannelEvent>(path: string): Channel<E> {
    const full = streamPath(path);
    return new Channel<E>(this.http, async () => full, { sendAttempts: this.options.sendAttempts });
  }

  /** Creates a JSON stream (idempotent for the same configuration). */
  async createStream(path: string, options: { ttlSeconds?: number } = {}): Promise<Channel> {
    const channel = this.stream(path);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.ttlSeconds !== undefined) headers['stream-ttl'] = String(options.ttlSeconds);
    await this.http.request('PUT', streamPath(path), { headers });
    return channel;
  }

  async searchPage(q: string, filters: SearchFilters = {}, options: ListOptions = {}): Promise<Page<SearchHit>> {
    const query = queryString({ q, ...filters, limit: options.limit, cursor: options.cursor });
    return (await this.http.json<Page<SearchHit>>('GET', `/v1/search${query}`, { signal: options.signal })).body;
  }

  /** Full-text search over message text, tool names and titles, best hits first. */
  search(q: string, filters: SearchFilters = {}, options: ListOptions = {}): AsyncGenerator<SearchHit> {
    return paginate((cursor) => this.searchPage(q, filters, { ...options, cursor }), options.cursor);
  }

  /**
   * Imports JSONL transcripts (Tether's export format or Claude Code's); the
   * same file twice creates nothing new.
   */
  async importTranscript(jsonl: string, options: ImportOptions = {}): Promise<ImportResult> {
    const query = queryString({ partial: options.partial });
    const headers = { 'content-type': 'application/x-ndjson' };
    return (await this.http.json<ImportResult>('POST', `/v1/sessions/import${query}`, { rawBody: jsonl, headers, signal: options.signal })).body;
  }

  /** A session's transcript: one JSON document, or JSONL text whose first line is `{type: 'session', session}`. */
  exportTranscript(ref: string, options?: { format?: 'json'; signal?: AbortSignal }): Promise<Transcript>;
  exportTranscript(ref: string, options: { format: 'jsonl'; signal?: AbortSignal }): Promise<string>;
  async exportTranscript(ref: string, options: { format?: 'json' | 'jsonl'; signal?: AbortSignal } = {}): Promise<Transcript | string> {
    const format = options.format ?? 'json';
    const response = await this.http.request('GET', `/v1/sessions/${encodeRef(ref)}/transcript?format=${format}`, { signal: options.signal });
    const text = await readText(response, options.signal);
    return format === 'jsonl' ? text : (JSON.parse(text) as Transcript);
  }
}

const streamPath = (path: string) => (path.startsWith('/v1/stream/') ? path : `/v1/stream/${path.replace(/^\/+/, '')}`);

export function createClient(options: ClientOptions): TetherClient {
  return new TetherClient(options);
}
