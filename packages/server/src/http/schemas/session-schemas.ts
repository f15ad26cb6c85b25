/**
 * Request and response schemas of the session routes. Fastify validates with
 * them and /openapi.json is generated from them, so the two cannot drift.
 */
import { Type } from '@sinclair/typebox';
import { MAX_TAGS, SESSION_STATUSES, type SessionStatus } from '@tether/protocol';
import { Offset } from './common.js';

const Status = Type.Unsafe<SessionStatus>({ type: 'string', enum: [...SESSION_STATUSES] });
const Tag = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s,]+$' });
const Tags = Type.Array(Tag, { maxItems: MAX_TAGS, uniqueItems: true });
const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'free-form JSON object, at most 32 KiB' });
const SessionIdPattern = '^ses_[0-9A-HJKMNP-TV-Z]{26}$';
const SessionId = Type.String({ pattern: SessionIdPattern });
const Name = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const SessionRefParams = Type.Object(
  { ref: Type.String({ minLength: 1, maxLength: 300, description: 'a session id (ses_…) or its externalId' }) },
  { additionalProperties: false },
);

const ChannelInfo = Type.Object({ url: Type.String(), offset: Offset });

export const SessionSchema = Type.Object(
  {
    id: SessionId,
    externalId: Nullable(Type.String()),
    projectId: Type.String(),
    type: Nullable(Type.String()),
    title: Nullable(Type.String()),
    agent: Nullable(Type.String()),
    model: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    parentId: Nullable(Type.String()),
    rootId: Nullable(Type.String()),
    forkedFrom: Type.Union([Type.Object({ sessionId: Type.String(), offset: Offset }), Type.Null()]),
    status: Status,
    activeTurnId: Nullable(Type.String()),
    pendingInteractions: Type.Integer(),
    usage: Type.Object({
      inputTokens: Type.Integer(),
      outputTokens: Type.Integer(),
      cachedInputTokens: Type.Integer(),
      costUsd: Type.Number(),
    }),
    messageCount: Type.Integer(),
    turnCount: Type.Integer(),
    lastAssistantText: Nullable(Type.String()),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    lastActivityAt: Type.String(),
    closedAt: Nullable(Type.String()),
    closedReason: Nullable(Type.String()),
    expiresAt: Nullable(Type.String()),
    channels: Type.Object({ out: ChannelInfo, in: ChannelInfo }),
  },
);

export const CreateSessionBody = Type.Object(
  {
    externalId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, pattern: '^(?!ses_)', description: 'your key for the session; may not start with ses_' }),
    ),
    type: Type.Optional(Name(128)),
    title: Type.Optional(Name(500)),
    agent: Type.Optional(Name(128)),
    model: Type.Optional(Name(128)),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
    parentId: Type.Optional(SessionId),
    rootId: Type.Optional(SessionId),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000 })),
    expiresAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const CreateSessionResponse = Type.Object({
  session: SessionSchema,
  created: Type.Boolean(),
  token: Type.String({ description: 'a session token with read and write scopes for this session' }),
});

export const ListSessionsQuery = Type.Object(
  {
    status: Type.Optional(Type.Array(Status, { description: 'repeatable; any of' })),
    type: Type.Optional(Name(128)),
    agent: Type.Optional(Name(128)),
    tag: Type.Optional(Type.Array(Tag, { maxItems: MAX_TAGS, description: 'repeatable; all must match' })),
    parentId: Type.Optional(SessionId),
    rootId: Type.Optional(SessionId),
    externalId: Type.Optional(Name(256)),
    createdAfter: Type.Optional(Timestamp),
    createdBefore: Type.Optional(Timestamp),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const WatchSessionsQuery = Type.Omit(ListSessionsQuery, ['limit', 'cursor'], { additionalProperties: false });

export const SessionPage = Type.Object({ data: Type.Array(SessionSchema), nextCursor: Nullable(Type.String()) });

export const PatchSessionBody = Type.Object(
  {
    title: Type.Optional(Type.Union([Name(500), Type.Null()])),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const CloseSessionBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

export const ForkSessionBody = Type.Object(
  {
    offset: Type.Optional(Type.Union([Offset], { description: 'where the `out` channel diverges (default: its tail)' })),
    inOffset: Type.Optional(Type.Union([Offset], { description: 'where the `in` channel diverges (default: its tail)' })),
    title: Type.Optional(Name(500)),
  },
  { additionalProperties: false },
);
