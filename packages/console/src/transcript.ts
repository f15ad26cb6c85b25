/**
 * Folds a session's channel events into what the session page shows. `out`
 * decides the order of what the agent did; the user message that started a
 * turn (read from `in`, where it carries its `turnId`) is placed before what
 * that turn wrote. Events are applied once each, in stream order, so replaying
 * both channels from the start after a reload rebuilds the same transcript.
 */

import type { ChannelEvent, SessionUsage } from '@tether/client';

export interface UserItem {
  kind: 'user';
  key: string;
  turnId: string | null;
  text: string;
  /** The turn has not started yet (still queued). */
  queued: boolean;
}

export interface MessageItem {
  kind: 'message';
  key: string;
  messageId: string;
  role: string;
  text: string;
  model: string | null;
  /** `message.completed` (or a whole `message`) has been read. */
  done: boolean;
}

export interface ToolItem {
  kind: 'tool';
  key: string;
  toolCallId: string;
  name: string;
  input: unknown;
  output: unknown;
  isError: boolean;
  durationMs: number | null;
  done: boolean;
}

export interface InteractionItem {
  kind: 'interaction';
  key: string;
  interactionId: string;
  interactionKind: 'input' | 'choice' | 'approval' | 'form';
  prompt: string;
  choices: unknown[] | null;
  schema: Record<string, unknown> | null;
  /** `pending` until an `interaction.resolved` names it; then its status. */
  status: string;
  response: unknown;
}

export interface TurnItem {
  kind: 'turn';
  key: string;
  turnId: string;
  /** `completed`, `failed`, `interrupted` or `cancelled`. */
  event: string;
  detail: string | null;
}

export interface UsageItem extends SessionUsage {
  kind: 'usage';
  key: string;
  model: string | null;
}

export type TranscriptItem = UserItem | MessageItem | ToolItem | InteractionItem | TurnItem | UsageItem;

/** Text of a `user.message` (or any event) whose payload is `text` or `content`. */
export function contentText(event: Record<string, unknown>): string {
  if (typeof event.text === 'string') return event.text;
  const content = event.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : '')).filter(Boolean);
    if (parts.length) return parts.join('');
  }
  if (content && typeof content === 'object' && typeof (content as { text?: unknown }).text === 'string') return (content as { text: string }).text;
  return content === undefined ? '' : JSON.stringify(content);
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export class Transcript {
  /** Sum of the `usage` events read so far. */
  readonly usage: SessionUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 };
  /** Bumped on every change, so a view can tell that it must re-render. */
  version = 0;
  private readonly messages = new Map<string, MessageItem>();
  private readonly tools = new Map<string, ToolItem>();
  private readonly interactions = new Map<string, InteractionItem>();
  /** Answers read from `in`, kept for questions `out` has not shown yet. */
  private readonly responses = new Map<string, unknown>();
  /**
   * `out` in runs: a run is what one turn wrote, ended by its `turn.*` end
   * event (which names the turn). Runs are in `out` order.
   */
  private readonly runs: { turnId: string | null; items: TranscriptItem[] }[] = [{ turnId: null, items: [] }];
  /** User messages from `in`, in order. */
  private readonly users: UserItem[] = [];
  private outCount = 0;
  private inCount = 0;
  private cache: { version: number; items: TranscriptItem[] } | null = null;

  /** Applies events read from `out`, in stream order. */
  applyOut(events: ChannelEvent[]): void {
    for (const event of events) this.applyOutEvent(event);
    if (events.length) this.version++;
  }

  /** Applies events read from `in`, in stream order. */
  applyIn(events: ChannelEvent[]): void {
    for (const event of events) this.applyInEvent(event);
    if (events.length) this.version++;
  }

  /**
   * The transcript in order: each turn's user message, then what the turn
   * wrote. A message is matched to the run its turn ended, and the run still
   * going to the oldest message whose turn has not ended; messages matched to
   * no run are still queued. This depends only on the events read, not on
   * how reads of the two channels interleaved.
   */
  get items(): TranscriptItem[] {
    if (this.cache?.version === this.version) return this.cache.items;
    const ended = new Set(this.runs.map((run) => run.turnId).filter((id): id is string => id !== null));
    const unmatched = this.users.filter((user) => user.turnId === null || !ended.has(user.turnId));
    const byTurn = new Map(this.users.filter((user) => user.turnId !== null).map((user) => [user.turnId!, user]));
    const items: TranscriptItem[] = [];
    for (const run of this.runs) {
      let user = run.turnId !== null ? byTurn.get(run.turnId) : undefined;
      if (run.turnId === null && run.items.length) user = unmatched.shift();
      if (user) {
        user.queued = false;
        items.push(user);
      }
      items.push(...run.items);
    }
    for (const user of unmatched) {
      user.queued = true;
      items.push(user);
    }
    this.cache = { version: this.version, items };
    return items;
  }

  /** Interactions still waiting for an answer, oldest first. */
  pendingInteractions(): InteractionItem[] {
    return this.items.filter((item): item is InteractionItem => item.kind === 'interaction' && item.status === 'pending');
  }

  private push(item: TranscriptItem): void {
    this.runs[this.runs.length - 1]!.items.push(item);
  }

  private applyOutEvent(event: ChannelEvent): void {
    const key = `o${this.outCount++}`;
    switch (event.type) {
      case 'turn.completed':
      case 'turn.failed':
      case 'turn.interrupted':
      case 'turn.cancelled': {
        const error = event.error as { message?: unknown } | string | undefined;
        const detail = str(event.reason) ?? (typeof error === 'string' ? error : str(error?.message));
        const turnId = str(event.turnId) ?? '';
        this.push({ kind: 'turn', key, turnId, event: event.type.slice(5), detail });
        this.runs[this.runs.length - 1]!.turnId = turnId;
        this.runs.push({ turnId: null, items: [] });
        return;
      }
      case 'message.started': {
        const messageId = str(event.messageId) ?? key;
        const item: MessageItem = { kind: 'message', key, messageId, role: str(event.role) ?? 'assistant', text: '', model: str(event.model), done: false };
        this.messages.set(messageId, item);
        this.push(item);
        return;
      }
      case 'message.delta': {
        const item = this.messageFor(str(event.messageId) ?? key, key, event);
        item.text += str(event.text) ?? '';
        return;
      }
      case 'message.completed': {
        const item = this.messageFor(str(event.messageId) ?? key, key, event);
        // A completed event may carry the whole text; it is the final word.
        const whole = str(event.text);
        if (whole !== null) item.text = whole;
        item.model = str(event.model) ?? item.model;
        item.done = true;
        if (event.usage && typeof event.usage === 'object') this.addUsage(`${key}u`, event.usage as Record<string, unknown>);
        return;
      }
      case 'message': {
        const messageId = str(event.messageId) ?? key;
        const item: MessageItem = { kind: 'message', key, messageId, role: str(event.role) ?? 'assistant', text: contentText(event), model: str(event.model), done: true };
        this.messages.set(messageId, item);
        this.push(item);
        return;
      }
      case 'tool.call': {
        const toolCallId = str(event.toolCallId) ?? key;
        const item: ToolItem = { kind: 'tool', key, toolCallId, name: str(event.name) ?? 'tool', input: event.input, output: undefined, isError: false, durationMs: null, done: false };
        this.tools.set(toolCallId, item);
        this.push(item);
        return;
      }
      case 'tool.result': {
        const toolCallId = str(event.toolCallId) ?? key;
        let item = this.tools.get(toolCallId);
        if (!item) {
          item = { kind: 'tool', key, toolCallId, name: str(event.name) ?? 'tool', input: undefined, output: undefined, isError: false, durationMs: null, done: false };
          this.tools.set(toolCallId, item);
          this.push(item);
        }
        item.output = event.output;
        item.isError = event.isError === true;
        item.durationMs = typeof event.durationMs === 'number' ? event.durationMs : null;
        item.done = true;
        return;
      }
      case 'usage':
        this.addUsage(key, event);
        return;
      case 'interaction.requested': {
        const interactionId = str(event.interactionId) ?? key;
        const item: InteractionItem = {
          kind: 'interaction',
          key,
          interactionId,
          interactionKind: (str(event.kind) ?? 'input') as InteractionItem['interactionKind'],
          prompt: str(event.prompt) ?? '',
          choices: Array.isArray(event.choices) ? event.choices : null,
          schema: event.schema && typeof event.schema === 'object' ? (event.schema as Record<string, unknown>) : null,
          status: 'pending',
          response: this.responses.get(interactionId),
        };
        this.interactions.set(interactionId, item);
        this.push(item);
        return;
      }
      case 'interaction.resolved': {
        const item = this.interactions.get(str(event.interactionId) ?? '');
        if (item) {
          item.status = str(event.status) ?? 'resolved';
          if ('response' in event) item.response = event.response;
        }
        return;
      }
      default:
        return;
    }
  }

  private applyInEvent(event: ChannelEvent): void {
    const key = `i${this.inCount++}`;
    if (event.type === 'user.message') {
      this.users.push({ kind: 'user', key, turnId: str(event.turnId), text: contentText(event), queued: false });
    } else if (event.type === 'interaction.response') {
      const interactionId = str(event.interactionId) ?? '';
      if (!('response' in event)) return;
      this.responses.set(interactionId, event.response);
      const item = this.interactions.get(interactionId);
      if (item) item.response = event.response;
    }
  }

  private messageFor(messageId: string, key: string, event: ChannelEvent): MessageItem {
    let item = this.messages.get(messageId);
    if (!item) {
      // A delta whose start was never read (e.g. a fork cut mid-message): start it here.
      item = { kind: 'message', key, messageId, role: str(event.role) ?? 'assistant', text: '', model: str(event.model), done: false };
      this.messages.set(messageId, item);
      this.push(item);
    }
    return item;
  }

  private addUsage(key: string, event: Record<string, unknown>): void {
    const usage = { inputTokens: num(event.inputTokens), outputTokens: num(event.outputTokens), cachedInputTokens: num(event.cachedInputTokens), costUsd: num(event.costUsd) };
    this.usage.inputTokens += usage.inputTokens;
    this.usage.outputTokens += usage.outputTokens;
    this.usage.cachedInputTokens += usage.cachedInputTokens;
    this.usage.costUsd += usage.costUsd;
    this.push({ kind: 'usage', key, model: str(event.model), ...usage });
  }
}
