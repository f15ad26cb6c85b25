import { SESSION_ID_PREFIX, sessionChannelPath, type Session } from '@tether/protocol';
import type {
  AdmittedTurn,
  ForkSessionInput,
  Interaction,
  InteractionAnswer,
  InteractionStatus,
  ListOptions,
  Message,
  Page,
  PatchSessionInput,
  SendMessageInput,
  SessionContext,
  SessionFilters,
  SessionToken,
  SessionUsageReport,
  ToolCall,
  Transcript,
} from './api-types.js';
import { Channel, type ChannelOptions } from './channel.js';
import type { HttpClient } from './http.js';
import { paginate, queryString, ref as encodeRef } from './paging.js';
import type { ChannelEvent, Turn } from './types.js';

/** The session routes a handle and `client.sessions` share. */
export class SessionRoutes {
  constructor(readonly http: HttpClient) {}

  async get(ref: string, signal?: AbortSignal): Promise<Session> {
    return (await this.http.json<Session>('GET', `/v1/sessions/${encodeRef(ref)}`, { signal })).body;
  }

  async patch(ref: string, changes: PatchSessionInput): Promise<Session> {
    return (await this.http.json<Session>('PATCH', `/v1/sessions/${encodeRef(ref)}`, { body: changes })).body;
  }

  async close(ref: string, reason?: string): Promise<Session> {
    return (await this.http.json<Session>('POST', `/v1/sessions/${encodeRef(ref)}/close`, { body: reason === undefined ? {} : { reason } })).body;
  }

  async delete(ref: string): Promise<void> {
    await this.http.request('DELETE', `/v1/sessions/${encodeRef(ref)}`);
  }

  async fork(ref: string, input: ForkSessionInput = {}): Promise<Session> {
    return (await this.http.json<Session>('POST', `/v1/sessions/${encodeRef(ref)}/fork`, { body: input })).body;
  }

  async childrenPage(ref: string, filters: Omit<SessionFilters, 'parentId'> = {}, options: ListOptions = {}): Promise<Page<Session>> {
    const query = queryString({ ...filters, limit: options.limit, cursor: options.cursor });
    return (await this.http.json<Page<Session>>('GET', `/v1/sessions/${encodeRef(ref)}/children${query}`, { signal: options.signal })).body;
  }

  children(ref: string, filters: Omit<SessionFilters, 'parentId'> = {}, options: ListOptions = {}): AsyncGenerator<Session> {
    return paginate((cursor) => this.childrenPage(ref, filters, { ...options, cursor }), options.cursor);
  }
}

/** A session's questions to humans. */
export class SessionInteractions {
  constructor(
    private readonly http: HttpClient,
    private readonly ref: string,
  ) {}

  async page(options: ListOptions & { status?: InteractionStatus | InteractionStatus[] } = {}): Promise<Page<Interaction>> {
    const query = queryString({ status: options.status, limit: options.limit, cursor: options.cursor });
    return (await this.http.json<Page<Interaction>>('GET', `/v1/sessions/${encodeRef(this.ref)}/interactions${query}`, { signal: options.signal })).body;
  }

  /** Every interaction of the session, oldest first. */
  list(options: ListOptions & { status?: InteractionStatus | InteractionStatus[] } = {}): AsyncGenerator<Interaction> {
    return paginate((cursor) => this.page({ ...options, cursor }), options.cursor);
  }

  /**
   * Answers a pending question once: `{response}` or `{deny: true}`. The same
   * answer again is accepted; a different one fails with `INTERACTION_NOT_PENDING`.
   */
  async respond(interactionId: string, answer: InteractionAnswer): Promise<Interaction> {
    const path = `/v1/sessions/${encodeRef(this.ref)}/interactions/${encodeURIComponent(interactionId)}/respond`;
    return (await this.http.json<{ interaction: Interaction }>('POST', path, { body: answer })).body.interaction;
  }
}

/**
 * One session, by id or externalId: its channels, turns, questions and
 * transcript. Channel paths need the id, so an externalId is looked up once.
 */
export class SessionHandle {
  readonly out: Channel;
  readonly in: Channel;
  readonly interactions: SessionInteractions;
  private id: Promise<string> | null;

  constructor(
    private readonly routes: SessionRoutes,
    readonly ref: string,
    channelOptions: ChannelOptions = {},
  ) {
    this.id = ref.startsWith(SESSION_ID_PREFIX) ? Promise.resolve(ref) : null;
    const http = routes.http;
    this.out = new Channel<ChannelEvent>(http, async () => sessionChannelPath(await this.sessionId(), 'out'), channelOptions);
    this.in = new Channel<ChannelEvent>(http, async () => sessionChannelPath(await this.sessionId(), 'in'), channelOptions);
    this.interactions = new SessionInteractions(http, ref);
  }

  /** The session's id (looked up when the handle was made from an externalId). */
  sessionId(): Promise<string> {
    this.id ??= this.routes.get(this.ref).then(
      (session) => session.id,
      (error) => {
        this.id = null;
        throw error;
      },
    );
    return this.id;
  }

  private get path(): string {
    return `/v1/sessions/${encodeRef(this.ref)}`;
  }

  get(signal?: AbortSignal): Promise<Session> {
    return this.routes.get(this.ref, signal);
  }

  patch(changes: PatchSessionInput): Promise<Session> {
    return this.routes.patch(this.ref, changes);
  }

  close(reason?: string): Promise<Session> {
    return this.routes.close(this.ref, reason);
  }

  delete(): Promise<void> {
    return this.routes.delete(this.ref);
  }

  fork(input: ForkSessionInput = {}): Promise<Session> {
    return this.routes.fork(this.ref, input);
  }

  children(filters: Omit<SessionFilters, 'parentId'> = {}, options: ListOptions = {}): AsyncGenerator<Session> {
    return this.routes.children(this.ref, filters, options);
  }

  /**
   * Sends a user message and admits a turn for it. `policy` decides what
   * happens when a turn is already active: `reject` (409 `SESSION_BUSY`),
   * `enqueue` or `interrupt`. An `idempotencyKey` makes a retry admit nothing new.
   */
  async sendMessage(content: unknown, options: SendMessageInput = {}): Promise<AdmittedTurn> {
    return (await this.routes.http.json<AdmittedTurn>('POST', `${this.path}/messages`, { body: { content, ...options } })).body;
  }

  /** Asks the running turn to stop (409 `SESSION_NOT_RUNNING` when none runs). */
  async interrupt(): Promise<void> {
    await this.routes.http.request('POST', `${this.path}/interrupt`);
  }

  async turnsPage(options: ListOptions = {}): Promise<Page<Turn>> {
    const query = queryString({ limit: options.limit, cursor: options.cursor });
    return (await this.routes.http.json<Page<Turn>>('GET', `${this.path}/turns${query}`, { signal: options.signal })).body;
  }

  turns(options: ListOptions = {}): AsyncGenerator<Turn> {
    return paginate((cursor) => this.turnsPage({ ...options, cursor }), options.cursor);
  }

  async messagesPage(options: ListOptions = {}): Promise<Page<Message>> {
    const query = queryString({ limit: options.limit, cursor: options.cursor });
    return (await this.routes.http.json<Page<Message>>('GET', `${this.path}/messages${query}`, { signal: options.signal })).body;
  }

  /** The transcript's messages, oldest first. */
  messages(options: ListOptions = {}): AsyncGenerator<Message> {
    return paginate((cursor) => this.messagesPage({ ...options, cursor }), options.cursor);
  }

  async toolCallsPage(options: ListOptions = {}): Promise<Page<ToolCall>> {
    const query = queryString({ limit: options.limit, cursor: options.cursor });
    return (await this.routes.http.json<Page<ToolCall>>('GET', `${this.path}/tool-calls${query}`, { signal: options.signal })).body;
  }

  toolCalls(options: ListOptions = {}): AsyncGenerator<ToolCall> {
    return paginate((cursor) => this.toolCallsPage({ ...options, cursor }), options.cursor);
  }

  async usage(): Promise<SessionUsageReport> {
    return (await this.routes.http.json<SessionUsageReport>('GET', `${this.path}/usage`)).body;
  }

  async context(): Promise<SessionContext> {
    return (await this.routes.http.json<SessionContext>('GET', `${this.path}/context`)).body;
  }

  /** The whole transcript as one JSON document. */
  async transcript(): Promise<Transcript> {
    return (await this.routes.http.json<Transcript>('GET', `${this.path}/transcript?format=json`)).body;
  }

  /** A token for this session only (`read`, `write` or both), e.g. for a browser. */
  async token(scopes: ('read' | 'write')[] = ['read', 'write'], ttlSeconds?: number): Promise<SessionToken> {
    const sessionId = await this.sessionId();
    return (await this.routes.http.json<SessionToken>('POST', '/v1/tokens', { body: { sessionId, scopes, ttlSeconds } })).body;
  }
}
