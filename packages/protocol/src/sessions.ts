/** Session shapes shared by the server, the SDK and the console (DESIGN §3). */
export const SESSION_STATUSES = ['idle', 'queued', 'running', 'waiting', 'closed', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const SESSION_ID_PREFIX = 'ses_';
export const MAX_TAGS = 20;
export const MAX_METADATA_BYTES = 32 * 1024;

export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
}

export interface ChannelInfo {
  url: string;
  offset: string;
}

export interface Session {
  id: string;
  externalId: string | null;
  projectId: string;
  type: string | null;
  title: string | null;
  agent: string | null;
  model: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  parentId: string | null;
  rootId: string | null;
  forkedFrom: { sessionId: string; offset: string } | null;
  status: SessionStatus;
  activeTurnId: string | null;
  pendingInteractions: number;
  usage: SessionUsage;
  messageCount: number;
  turnCount: number;
  lastAssistantText: string | null;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  closedAt: string | null;
  closedReason: string | null;
  expiresAt: string | null;
  channels: { out: ChannelInfo; in: ChannelInfo };
}

/** `POST /v1/sessions` body. */
export interface CreateSessionInput {
  /** Your key for the session (may not start with `ses_`); creating it again returns the open one. */
  externalId?: string;
  type?: string;
  title?: string;
  agent?: string;
  model?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  parentId?: string;
  rootId?: string;
  ttlSeconds?: number;
  expiresAt?: string;
}

export function sessionChannelPath(sessionId: string, channel: 'out' | 'in'): string {
  return `/v1/stream/sessions/${sessionId}/${channel}`;
}
