/** Shapes of the control-plane API as the SDK sees them (DESIGN §3–§7). */
import type { Message, Session, SessionStatus, SessionUsage, SessionUsageReport, ToolCall } from '@tether/protocol';
import type { Turn } from './types.js';

/** The wire shapes `@tether/protocol` defines for the server and the SDK alike. */
export type {
  CreateSessionInput,
  Message,
  MessageStatus,
  SearchHit,
  SessionContext,
  SessionUsageReport,
  ToolCall,
  TurnUsage,
} from '@tether/protocol';

/** One page of any cursor-paginated list. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface CreateSessionResult {
  session: Session;
  /** False when `externalId` named a session that already existed. */
  created: boolean;
  /** A read+write token for this session only, once the server issues them. */
  token?: string;
}

export interface SessionFilters {
  status?: SessionStatus | SessionStatus[];
  type?: string;
  agent?: string;
  /** Every tag must match. */
  tag?: string | string[];
  parentId?: string;
  rootId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export interface ListOptions {
  /** Page size (1–200). */
  limit?: number;
  /** Start from this cursor (from an earlier page's `nextCursor`). */
  cursor?: string;
  signal?: AbortSignal;
}

export interface PatchSessionInput {
  title?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface ForkSessionInput {
  /** Where the `out` channel diverges (default: its tail). */
  offset?: string;
  /** Where the `in` channel diverges (default: its tail). */
  inOffset?: string;
  title?: string;
}

export type BusyPolicy = 'reject' | 'enqueue' | 'interrupt';

export interface SendMessageInput {
  policy?: BusyPolicy;
  idempotencyKey?: string;
}

/** `POST /v1/sessions/{ref}/messages` answer: the admitted turn and the session after it. */
export interface AdmittedTurn {
  turn: Turn;
  session: Session;
}

export type InteractionStatus = 'pending' | 'resolved' | 'denied' | 'expired' | 'cancelled';

export interface Interaction {
  id: string;
  sessionId: string;
  turnId: string;
  kind: 'input' | 'choice' | 'approval' | 'form';
  prompt: string;
  choices: unknown[] | null;
  schema: Record<string, unknown> | null;
  status: InteractionStatus;
  response: unknown;
  timeoutAt: string | null;
  requestedAt: string;
  resolvedAt: string | null;
}

export type InteractionAnswer = { response: unknown } | { deny: true };

export type Usage = SessionUsage;

/** `GET /v1/sessions/{ref}/transcript?format=json`. */
export interface Transcript {
  session: Session;
  messages: Message[];
  toolCalls: ToolCall[];
  usage: SessionUsageReport;
}

export interface SearchFilters {
  agent?: string;
  tool?: string;
  status?: SessionStatus;
  tag?: string | string[];
  type?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export interface ImportResult {
  sessions: { id: string; externalId: string | null; created: boolean }[];
  imported: number;
  errors: { line: number; message: string }[];
}

export type KeyRole = 'admin' | 'runner' | 'client';

export interface ApiKey {
  id: string;
  name: string | null;
  role: KeyRole;
  /** The first characters of the key, to recognise it by. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** `POST /v1/keys` answer: the only time the key itself is shown. */
export interface CreatedApiKey {
  id: string;
  key: string;
  name: string | null;
  role: KeyRole;
  prefix: string;
  createdAt: string;
}

export interface SessionToken {
  token: string;
  expiresAt: string;
  scopes: string[];
}
