/** Transcript, usage and search shapes shared by the server, the SDK and the console (DESIGN §6). */
import type { Session, SessionUsage } from './sessions.js';

export type MessageStatus = 'completed' | 'incomplete';

export interface Message {
  id: string;
  sessionId: string;
  turnId: string | null;
  role: string;
  text: string;
  content?: unknown;
  model: string | null;
  status: MessageStatus;
  /** The channel offset of the event the message started with. */
  offset: string;
  channel: 'out' | 'in';
  createdAt: string;
  usage: SessionUsage | null;
}

export interface ToolCall {
  id: string;
  sessionId: string;
  turnId: string | null;
  name: string;
  input: unknown;
  output: unknown;
  isError: boolean;
  durationMs: number | null;
  truncated: boolean;
  offset: string;
  resultOffset: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface TurnUsage extends SessionUsage {
  turnId: string | null;
}

export interface SearchHit {
  session: Session;
  message: Message | null;
  kind: 'message' | 'tool' | 'title';
  /** HTML-escaped text with matches wrapped in `<mark>`…`</mark>`. */
  snippet: string;
  score: number;
}

/** `GET /v1/sessions/{ref}/usage`: the session's totals and each turn's (a null `turnId`: usage reported outside any turn). */
export interface SessionUsageReport {
  session: SessionUsage;
  turns: TurnUsage[];
}

/** `GET /v1/sessions/{ref}/context`: what an agent needs to resume. */
export interface SessionContext {
  summary: string | null;
  messages: Message[];
}

/** Tool outputs larger than this (UTF-8 bytes) are stored truncated. */
export const MAX_TOOL_OUTPUT_BYTES = 32 * 1024;
