/**
 * How channel events become transcript rows (DESIGN §5, §6). Pure: a driver
 * loads the rows an append refers to, asks `projectEvents` for a plan, and
 * writes it in the append's own transaction. Replaying a channel log through
 * the same function gives the same rows, which is what `rebuild` relies on.
 */
import { MAX_TOOL_OUTPUT_BYTES, type SessionUsage } from '@tether/protocol';
import { estimateCostUsd } from './pricing.js';

export type TranscriptChannel = 'out' | 'in';

/** Token and cost figures, stored as the API reports them. */
export type UsageFigures = SessionUsage;

export interface MessageRecord {
  id: string;
  projectId: string;
  sessionId: string;
  turnId: string | null;
  channel: TranscriptChannel;
  /** Channel position of the event the message started with. */
  position: number;
  role: string;
  text: string;
  /** Structured content as the event carried it; null when it had only text. */
  content: unknown;
  model: string | null;
  status: 'completed' | 'incomplete';
  usage: UsageFigures | null;
  createdAt: number;
  updatedAt: number;
  /** Insertion order within the store; assigned by the driver. */
  seq?: number;
}

export interface ToolCallRecord {
  id: string;
  projectId: string;
  sessionId: string;
  turnId: string | null;
  name: string;
  input: unknown;
  output: unknown;
  isError: boolean;
  durationMs: number | null;
  truncated: boolean;
  position: number;
  resultPosition: number | null;
  createdAt: number;
  completedAt: number | null;
  seq?: number;
}

export interface UsageRecord extends UsageFigures {
  projectId: string;
  sessionId: string;
  turnId: string | null;
  position: number;
  model: string | null;
  createdAt: number;
}

export interface Compaction {
  summary: string;
  upToMessageId: string | null;
  position: number;
}

export interface ProjectionInput {
  projectId: string;
  sessionId: string;
  channel: TranscriptChannel;
  /** Channel position of the first event (its offset). */
  startPosition: number;
  events: Record<string, unknown>[];
  /** The session's running turn when the events were appended; null on a rebuild. */
  activeTurnId: string | null;
  /** Existing rows named by `referencedIds`. */
  messages: Map<string, MessageRecord>;
  toolCalls: Map<string, ToolCallRecord>;
  now: number;
}

export interface TranscriptPlan {
  /** Rows to insert (no `seq` yet) or update, in first-touched order. */
  messages: { record: MessageRecord; isNew: boolean }[];
  toolCalls: { record: ToolCallRecord; isNew: boolean }[];
  usage: UsageRecord[];
  /** Terminal turn events: rows of that session still without a turn, before `position`, belong to it. */
  turnEnds: { turnId: string; position: number }[];
  compaction: Compaction | null;
  counters: UsageFigures & { messages: number; lastAssistantText: string | null | undefined };
}

const PROJECTED = /"(message|message\.(started|delta|completed)|tool\.(call|result)|usage|user\.message|turn\.(completed|failed|interrupted|cancelled|started)|context\.compacted)"/;
const TERMINAL = new Set(['turn.completed', 'turn.failed', 'turn.interrupted', 'turn.cancelled']);
export const TRUNCATION_MARKER = '\n…[truncated]';

/** Cheap test on serialised events: does anything in them project? */
export function mayProject(serialised: (Buffer | string)[]): boolean {
  return serialised.some((event) => PROJECTED.test(typeof event === 'string' ? event : event.toString('utf8')));
}

const CHANNEL_PATH = /^\/v1\/stream\/sessions\/(ses_[0-9A-Z]{26})\/(out|in)$/;

export function channelOfPath(path: string): { sessionId: string; channel: TranscriptChannel } | null {
  const match = CHANNEL_PATH.exec(path);
  return match ? { sessionId: match[1]!, channel: match[2] as TranscriptChannel } : null;
}

/** The ids of messages and tool calls an append refers to, so the driver can load them. */
export function referencedIds(channel: TranscriptChannel, events: Record<string, unknown>[], startPosition: number) {
  const messageIds = new Set<string>();
  const toolCallIds = new Set<string>();
  events.forEach((event, index) => {
    const id = messageIdOf(channel, event, startPosition + index);
    if (id !== null) messageIds.add(id);
    if ((event.type === 'tool.call' || event.type === 'tool.result') && typeof event.toolCallId === 'string') {
      toolCallIds.add(event.toolCallId);
    }
  });
  return { messageIds: [...messageIds], toolCallIds: [...toolCallIds] };
}

function messageIdOf(channel: TranscriptChannel, event: Record<string, unknown>, position: number): string | null {
  const type = event.type;
  if (typeof type !== 'string') return null;
  if (type.startsWith('message.')) return typeof event.messageId === 'string' ? event.messageId : null;
  if (type === 'message' || type === 'user.message') {
    // A whole message without an id is named by where it sits, so a replay names it the same.
    return typeof event.messageId === 'string' ? event.messageId : `${channel}-${position}`;
  }
  return null;
}

/** The plain text of `text` or `content` (a string, or blocks of which the `text` ones count). */
export function textOf(event: { text?: unknown; content?: unknown }): string {
  if (typeof event.text === 'string') return event.text;
  return contentText(event.content);
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block) => (block && typeof block === 'object' && (block as { type?: unknown }).type === 'text' ? String((block as { text?: unknown }).text ?? '') : ''))
      .filter((text) => text !== '')
      .join('\n');
  }
  if (content && typeof content === 'object' && typeof (content as { text?: unknown }).text === 'string') {
    return (content as { text: string }).text;
  }
  return '';
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function usageOf(value: unknown, model: string | null): UsageFigures | null {
  if (!value || typeof value !== 'object') return null;
  const usage = value as Record<string, unknown>;
  const inputTokens = num(usage.inputTokens);
  const outputTokens = num(usage.outputTokens);
  const cachedInputTokens = num(usage.cachedInputTokens);
  const costUsd = typeof usage.costUsd === 'number' && usage.costUsd >= 0
    ? usage.costUsd
    : estimateCostUsd(str(usage.model) ?? model, inputTokens, outputTokens, cachedInputTokens);
  return { inputTokens, outputTokens, cachedInputTokens, costUsd };
}

/**
 * A tool output as stored: anything whose JSON is over the limit becomes a
 * string cut on a character boundary, with a visible marker.
 */
export function truncateOutput(output: unknown): { output: unknown; truncated: boolean } {
  if (output === undefined) return { output: null, truncated: false };
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  if (Buffer.byteLength(text, 'utf8') <= MAX_TOOL_OUTPUT_BYTES) return { output, truncated: false };
  const budget = MAX_TOOL_OUTPUT_BYTES - Buffer.byteLength(TRUNCATION_MARKER, 'utf8');
  let cut = Buffer.from(text, 'utf8').subarray(0, budget).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD at the end; drop it.
  if (cut.endsWith('\uFFFD') && !text.startsWith(cut)) cut = cut.slice(0, -1);
  // Never leave half a surrogate pair.
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return { output: cut + TRUNCATION_MARKER, truncated: true };
}

export function projectEvents(input: ProjectionInput): TranscriptPlan {
  const { projectId, sessionId, channel, now } = input;
  const plan: TranscriptPlan = {
    messages: [],
    toolCalls: [],
    usage: [],
    turnEnds: [],
    compaction: null,
    counters: { messages: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0, lastAssistantText: undefined },
  };
  const touchedMessages = new Map<string, { record: MessageRecord; isNew: boolean }>();
  const touchedTools = new Map<string, { record: ToolCallRecord; isNew: boolean }>();
  let currentTurn = channel === 'out' ? input.activeTurnId : null;

  const message = (id: string, position: number, turnId: string | null, role: string): MessageRecord => {
    const touched = touchedMessages.get(id);
    if (touched) return touched.record;
    const existing = input.messages.get(id);
    const entry = existing
      ? { record: { ...existing }, isNew: false }
      : {
          record: {
            id, projectId, sessionId, turnId, channel, position, role, text: '', content: null, model: null,
            status: 'incomplete' as const, usage: null, createdAt: now, updatedAt: now,
          },
          isNew: true,
        };
    if (entry.isNew) plan.counters.messages++;
    touchedMessages.set(id, entry);
    plan.messages.push(entry);
    return entry.record;
  };
  const toolCall = (id: string, position: number, turnId: string | null): ToolCallRecord => {
    const touched = touchedTools.get(id);
    if (touched) return touched.record;
    const existing = input.toolCalls.get(id);
    const entry = existing
      ? { record: { ...existing }, isNew: false }
      : {
          record: {
            id, projectId, sessionId, turnId, name: 'unknown', input: null, output: null, isError: false, durationMs: null,
            truncated: false, position, resultPosition: null, createdAt: now, completedAt: null,
          },
          isNew: true,
        };
    touchedTools.set(id, entry);
    plan.toolCalls.push(entry);
    return entry.record;
  };
  const completeMessage = (record: MessageRecord) => {
    record.status = 'completed';
    if (record.role === 'assistant' && record.text !== '') plan.counters.lastAssistantText = record.text;
  };

  input.events.forEach((event, index) => {
    const position = input.startPosition + index;
    const type = event.type;
    const turnId = str(event.turnId) ?? currentTurn;
    switch (type) {
      case 'turn.started':
        if (channel === 'out') currentTurn = str(event.turnId);
        return;
      case 'message.started': {
        const record = message(event.messageId as string, position, turnId, str(event.role) ?? 'assistant');
        record.role = str(event.role) ?? record.role;
        record.model = str(event.model) ?? record.model;
        record.updatedAt = now;
        return;
      }
      case 'message.delta': {
        const record = message(event.messageId as string, position, turnId, str(event.role) ?? 'assistant');
        if (record.status === 'incomplete') record.text += str(event.text) ?? '';
        record.updatedAt = now;
        return;
      }
      case 'message.completed':
      case 'message':
      case 'user.message': {
        const id = messageIdOf(channel, event, position)!;
        const role = type === 'user.message' ? 'user' : (str(event.role) ?? 'assistant');
        const record = message(id, position, turnId, role);
        if (type !== 'message.completed' || event.role !== undefined) record.role = role;
        if (event.text !== undefined || event.content !== undefined) {
          const text = textOf(event);
          // A completion that repeats the text replaces the folded deltas; one without it keeps them.
          if (type !== 'message.completed' || text !== '' || event.text !== undefined) record.text = text;
          if (event.content !== undefined && typeof event.content !== 'string') record.content = event.content;
        }
        record.model = str(event.model) ?? record.model;
        const usage = usageOf(event.usage, record.model);
        if (usage) record.usage = usage;
        record.updatedAt = now;
        completeMessage(record);
        return;
      }
      case 'tool.call': {
        const record = toolCall(event.toolCallId as string, position, turnId);
        record.name = str(event.name) ?? record.name;
        record.input = event.input ?? null;
        return;
      }
      case 'tool.result': {
        const record = toolCall(event.toolCallId as string, position, turnId);
        if (record.name === 'unknown' && typeof event.name === 'string') record.name = event.name;
        const { output, truncated } = truncateOutput(event.output ?? event.content);
        record.output = output;
        // An imported transcript carries outputs that were cut before.
        record.truncated = truncated || event.truncated === true;
        record.isError = event.isError === true;
        record.resultPosition = position;
        record.completedAt = now;
        record.durationMs = typeof event.durationMs === 'number' && event.durationMs >= 0 ? event.durationMs : now - record.createdAt;
        return;
      }
      case 'usage': {
        const figures = usageOf(event, null)!;
        plan.usage.push({ ...figures, projectId, sessionId, turnId, position, model: str(event.model), createdAt: now });
        plan.counters.inputTokens += figures.inputTokens;
        plan.counters.outputTokens += figures.outputTokens;
        plan.counters.cachedInputTokens += figures.cachedInputTokens;
        plan.counters.costUsd += figures.costUsd;
        return;
      }
      case 'context.compacted':
        if (typeof event.summary === 'string') {
          plan.compaction = { summary: event.summary, upToMessageId: str(event.upToMessageId), position };
        }
        return;
      default:
        if (typeof type === 'string' && TERMINAL.has(type) && channel === 'out' && typeof event.turnId === 'string') {
          plan.turnEnds.push({ turnId: event.turnId, position });
          if (currentTurn === event.turnId) currentTurn = null;
        }
    }
  });
  return plan;
}
