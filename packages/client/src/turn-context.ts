import type { Session } from '@tether/protocol';
import { TetherError } from './errors.js';
import { HttpClient, readText, retrying } from './http.js';
import { newId } from './ids.js';
import type { InteractionWaiters } from './interactions.js';
import type { AppendResult } from './producer.js';
import type { ChannelEvent, InteractionRequest, Turn, UsageRecord, UserMessageEvent } from './types.js';

export interface MessageWriter {
  readonly messageId: string;
  /** Appends a `message.delta` and remembers its text. */
  delta(text: string): Promise<void>;
  /** Appends `message.completed` (with `usage`/`model` if given); returns the whole text. */
  complete(extra?: { usage?: UsageRecord; model?: string }): Promise<string>;
}

export interface TurnContext {
  /** The `user.message` that started this turn, as `{type, content, turnId}` (`content` is its `text` when it had no `content`). */
  readonly input: UserMessageEvent;
  /** Its text (`text`, or `content` when that is a string or text parts). */
  readonly text: string;
  readonly session: Session;
  readonly turn: Turn;
  /** Fires on interrupt, cancel, lease loss or runner shutdown; `signal.reason` is a TetherError. */
  readonly signal: AbortSignal;
  /** Appends an event to the session's `out` channel, exactly once, in call order. */
  emit(event: ChannelEvent): Promise<AppendResult>;
  /** Appends `message.started` and returns a writer for its deltas. */
  startMessage(options?: { role?: string; model?: string; messageId?: string }): Promise<MessageWriter>;
  /** Streams chunks as one message (started, a delta per chunk, completed); returns the text. */
  streamMessage(chunks: Iterable<string> | AsyncIterable<string>, options?: { role?: string; model?: string }): Promise<string>;
  /** Appends `tool.call`, runs `run`, appends `tool.result` with its output and `durationMs`. */
  toolCall<T>(name: string, input: unknown, run: () => T | Promise<T>): Promise<T>;
  recordUsage(usage: UsageRecord): Promise<void>;
  /** Asks a question (`interaction.requested`) and resolves with the answer; rejects on deny, cancel or expiry. */
  ask(request: InteractionRequest): Promise<unknown>;
  waitForInput(prompt: string, options?: { timeoutSeconds?: number }): Promise<string>;
  waitForChoice<C extends string>(prompt: string, choices: readonly C[], options?: { timeoutSeconds?: number }): Promise<C>;
  /** Resolves `true` when approved; rejects with `INTERACTION_DENIED` when denied. */
  approve(prompt: string, options?: { timeoutSeconds?: number }): Promise<true>;
  /** The session's state document (`null` before the first write); remembers its ETag for `setState`. */
  getState<T = unknown>(): Promise<T | null>;
  /** Stores the state document; fails with `PRECONDITION_FAILED` if someone else changed it since `getState`. */
  setState(value: unknown): Promise<void>;
}

export interface TurnContextDeps {
  http: HttpClient;
  session: Session;
  turn: Turn;
  input: UserMessageEvent;
  text: string;
  signal: AbortSignal;
  emit(event: ChannelEvent): Promise<AppendResult>;
  waiters: InteractionWaiters;
}

export function createTurnContext(deps: TurnContextDeps): TurnContext {
  const { http, session, emit, waiters, signal } = deps;
  const statePath = `/v1/sessions/${encodeURIComponent(session.id)}/state`;
  let etag: string | null = null;

  const startMessage: TurnContext['startMessage'] = async (options = {}) => {
    const messageId = options.messageId ?? newId('msg');
    const role = options.role ?? 'assistant';
    await emit({ type: 'message.started', messageId, role, ...(options.model ? { model: options.model } : {}) });
    let text = '';
    return {
      messageId,
      delta: async (chunk) => {
        text += chunk;
        await emit({ type: 'message.delta', messageId, text: chunk });
      },
      // Deltas are folded into the message by the server; the text is not sent twice.
      complete: async (extra = {}) => {
        await emit({ type: 'message.completed', messageId, role, ...extra });
        return text;
      },
    };
  };

  const ask: TurnContext['ask'] = async (request) => {
    const interactionId = newId('int');
    const answer = waiters.wait(interactionId, request.timeoutSeconds);
    // A rejected ask must not surface as an unhandled rejection if the append fails first.
    answer.catch(() => {});
    await emit({ type: 'interaction.requested', interactionId, ...request });
    return answer;
  };

  return {
    input: deps.input,
    text: deps.text,
    session,
    turn: deps.turn,
    signal,
    emit,
    startMessage,
    streamMessage: async (chunks, options) => {
      const writer = await startMessage(options);
      for await (const chunk of chunks) {
        signal.throwIfAborted();
        await writer.delta(chunk);
      }
      return writer.complete();
    },
    toolCall: async (name, input, run) => {
      const toolCallId = newId('call');
      await emit({ type: 'tool.call', toolCallId, name, input });
      const started = Date.now();
      let output: Awaited<ReturnType<typeof run>>;
      try {
        output = await run();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await emit({ type: 'tool.result', toolCallId, name, output: message, isError: true, durationMs: Date.now() - started });
        throw error;
      }
      await emit({ type: 'tool.result', toolCallId, name, output, durationMs: Date.now() - started });
      return output;
    },
    recordUsage: async (usage) => {
      await emit({ type: 'usage', ...usage });
    },
    ask,
    waitForInput: async (prompt, options) => String(await ask({ kind: 'input', prompt, ...options })),
    waitForChoice: async (prompt, choices, options) =>
      (await ask({ kind: 'choice', prompt, choices: [...choices], ...options })) as (typeof choices)[number],
    approve: async (prompt, options) => {
      await ask({ kind: 'approval', prompt, ...options });
      return true;
    },
    getState: async <T>() => {
      const response = await retrying(() => http.request('GET', statePath, { signal }), { signal });
      etag = response.headers.get('etag');
      const text = await readText(response, signal);
      return (text ? JSON.parse(text) : null) as T | null;
    },
    setState: async (value) => {
      const headers: Record<string, string> = etag ? { 'if-match': etag } : {};
      try {
        // A retried PUT whose first try landed answers 412: the state is ours, but the caller is told.
        const response = await retrying(() => http.request('PUT', statePath, { body: value, headers, signal }), { signal });
        etag = response.headers.get('etag');
      } catch (error) {
        if (error instanceof TetherError && error.code === 'PRECONDITION_FAILED') etag = null;
        throw error;
      }
    },
  };
}
