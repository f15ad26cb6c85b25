import type { Session } from '@tether/protocol';

export type TurnStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'interrupted' | 'cancelled';
/** How a runner may end a turn. */
export type TurnOutcome = 'completed' | 'failed' | 'interrupted' | 'cancelled';

/** A turn as the server describes it (`GET /v1/sessions/{ref}/turns`, a claim). */
export interface Turn {
  id: string;
  sessionId: string;
  /** The turn's number within its session, from 1. */
  seq: number;
  status: TurnStatus;
  /** The `content` (or `text`) of the `user.message` that started it. */
  content: unknown;
  policy: 'reject' | 'enqueue' | 'interrupt';
  /** How many times a runner claimed it (a lapsed lease may queue it again). */
  attempts: number;
  interruptRequested: boolean;
  cancelRequested: boolean;
  error: unknown;
  reason: string | null;
  [field: string]: unknown;
}

export interface Lease {
  epoch: number;
  expiresAt: string;
}

/** `200` answer of `POST /v1/runners/claim`. */
export interface Claim {
  turn: Turn;
  session: Session;
  lease: Lease;
  producer?: { id: string; epoch: number };
}

/** `200` answer of a heartbeat. */
export interface HeartbeatReply {
  lease: Lease;
  interruptRequested: boolean;
  cancelRequested: boolean;
}

/** Any event on a session channel: a JSON object with a string `type` (DESIGN §5). */
export interface ChannelEvent {
  type: string;
  [field: string]: unknown;
}

export interface UserMessageEvent extends ChannelEvent {
  type: 'user.message';
  turnId?: string;
  content?: unknown;
  text?: string;
}

export type InteractionKind = 'input' | 'choice' | 'approval' | 'form';

export interface InteractionRequest {
  kind: InteractionKind;
  prompt: string;
  choices?: string[];
  /** JSON Schema the answer to a `form` must match. */
  schema?: Record<string, unknown>;
  timeoutSeconds?: number;
}

export interface UsageRecord {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  costUsd?: number;
  model?: string;
}

/** The text of a user message, whether it came as `text` or as string `content`. */
export function messageText(event: { text?: unknown; content?: unknown }): string {
  if (typeof event.text === 'string') return event.text;
  if (typeof event.content === 'string') return event.content;
  if (Array.isArray(event.content)) {
    return event.content
      .map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}
