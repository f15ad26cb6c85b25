/** Request and response schemas of the transcript, search and import routes. */
import { Type, type TSchema } from '@sinclair/typebox';
import { MAX_TAGS, SESSION_STATUSES, type SessionStatus } from '@tether/protocol';
import { Offset } from './common.js';
import { SessionSchema } from './session-schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Status = Type.Unsafe<SessionStatus>({ type: 'string', enum: [...SESSION_STATUSES] });
const Tag = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s,]+$' });
const Cursor = Type.String({ minLength: 1, maxLength: 512 });

export const Usage = Type.Object({
  inputTokens: Type.Number(),
  outputTokens: Type.Number(),
  cachedInputTokens: Type.Number(),
  costUsd: Type.Number(),
});

export const MessageSchema = Type.Object({
  id: Type.String(),
  sessionId: Type.String(),
  turnId: Nullable(Type.String()),
  role: Type.String(),
  text: Type.String(),
  content: Type.Optional(Type.Unknown()),
  model: Nullable(Type.String()),
  status: Type.Unsafe<'completed' | 'incomplete'>({ type: 'string', enum: ['completed', 'incomplete'] }),
  offset: Offset,
  channel: Type.Unsafe<'out' | 'in'>({ type: 'string', enum: ['out', 'in'] }),
  createdAt: Type.String(),
  usage: Nullable(Usage),
});

export const ToolCallSchema = Type.Object({
  id: Type.String(),
  sessionId: Type.String(),
  turnId: Nullable(Type.String()),
  name: Type.String(),
  input: Type.Unknown(),
  output: Type.Unknown(),
  isError: Type.Boolean(),
  durationMs: Nullable(Type.Number()),
  truncated: Type.Boolean(),
  offset: Offset,
  resultOffset: Nullable(Offset),
  createdAt: Type.String(),
  completedAt: Nullable(Type.String()),
});

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const MessagePage = Type.Object({ data: Type.Array(MessageSchema), nextCursor: Nullable(Type.String()) });
export const ToolCallPage = Type.Object({ data: Type.Array(ToolCallSchema), nextCursor: Nullable(Type.String()) });

export const UsageResponse = Type.Object({
  session: Usage,
  turns: Type.Array(Type.Composite([Type.Object({ turnId: Nullable(Type.String()) }), Usage])),
});

export const ContextResponse = Type.Object({ summary: Nullable(Type.String()), messages: Type.Array(MessageSchema) });

export const TranscriptQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl')], { default: 'json' })) },
  { additionalProperties: false },
);

export const TranscriptResponse = Type.Object({
  session: SessionSchema,
  messages: Type.Array(MessageSchema),
  toolCalls: Type.Array(ToolCallSchema),
  usage: UsageResponse,
});

export const SearchQuerySchema = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 1000, description: 'words, "quoted phrases" and prefix*' }),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    status: Type.Optional(Type.Array(Status, { description: 'repeatable; any of' })),
    tag: Type.Optional(Type.Array(Tag, { maxItems: MAX_TAGS, description: 'repeatable; all must match' })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const SearchPage = Type.Object({
  data: Type.Array(
    Type.Object({
      session: SessionSchema,
      message: Nullable(MessageSchema),
      kind: Type.Unsafe<'message' | 'tool' | 'title'>({ type: 'string', enum: ['message', 'tool', 'title'] }),
      snippet: Type.String(),
      score: Type.Number(),
    }),
  ),
  nextCursor: Nullable(Type.String()),
});

export const ImportQuery = Type.Object(
  { partial: Type.Optional(Type.Boolean({ default: false, description: 'import the good lines even when some are bad' })) },
  { additionalProperties: false },
);

export const ImportResponse = Type.Object({
  sessions: Type.Array(Type.Object({ id: Type.String(), externalId: Nullable(Type.String()), created: Type.Boolean() })),
  imported: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
});
