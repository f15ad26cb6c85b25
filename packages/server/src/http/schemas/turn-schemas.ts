/**
 * Request and response schemas of the turn and runner routes (docs/turns.md).
 * Fastify validates with them and /openapi.json is generated from them.
 */
import { Type } from '@sinclair/typebox';
import { BUSY_POLICIES, TURN_STATUSES } from '../../storage/turn-types.js';
import { SessionSchema } from './session-schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);
const TurnId = Type.String({ minLength: 1, maxLength: 64 });
const Epoch = Type.Integer({ minimum: 1, description: 'the lease epoch the claim gave' });
const LeaseMs = Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'lease length in ms (default 30000)' });

export const SessionTurnParams = Type.Object(
  { ref: Type.String({ minLength: 1, maxLength: 300 }), turnId: TurnId },
  { additionalProperties: false },
);

export const Lease = Type.Object({ epoch: Type.Integer(), expiresAt: Type.String({ format: 'date-time' }) });

export const TurnSchema = Type.Object({
  id: Type.String(),
  sessionId: Type.String(),
  seq: Type.Integer({ description: 'the turn number within its session' }),
  status: Type.Unsafe<string>({ type: 'string', enum: [...TURN_STATUSES] }),
  content: Type.Unknown(),
  policy: Type.Unsafe<string>({ type: 'string', enum: [...BUSY_POLICIES] }),
  idempotencyKey: Nullable(Type.String()),
  runnerId: Nullable(Type.String()),
  attempts: Type.Integer(),
  lease: Type.Union([Lease, Type.Null()]),
  interruptRequested: Type.Boolean(),
  cancelRequested: Type.Boolean(),
  error: Type.Unknown(),
  reason: Nullable(Type.String()),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  updatedAt: Type.String(),
});

export const SendMessageBody = Type.Object(
  {
    content: Type.Unknown({ description: 'the message: text or any JSON the agent understands' }),
    policy: Type.Optional(Type.Unsafe<'reject' | 'enqueue' | 'interrupt'>({ type: 'string', enum: [...BUSY_POLICIES] })),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const AdmittedTurn = Type.Object({ turn: TurnSchema, session: SessionSchema });

export const TurnPage = Type.Object({ data: Type.Array(TurnSchema), nextCursor: Nullable(Type.String()) });

export const ListTurnsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })),
  },
  { additionalProperties: false },
);

export const ClaimBody = Type.Object(
  {
    runnerId: Type.String({ minLength: 1, maxLength: 200 }),
    agents: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 })),
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'long-poll time (default 25000)' })),
    leaseMs: Type.Optional(LeaseMs),
  },
  { additionalProperties: false },
);

export const ClaimResponse = Type.Object({
  turn: TurnSchema,
  session: SessionSchema,
  lease: Lease,
  producer: Type.Object({ id: Type.String(), epoch: Type.Integer() }),
});

export const HeartbeatBody = Type.Object({ epoch: Epoch, leaseMs: Type.Optional(LeaseMs) }, { additionalProperties: false });

export const HeartbeatResponse = Type.Object({
  lease: Lease,
  interruptRequested: Type.Boolean(),
  cancelRequested: Type.Boolean(),
});

export const CompleteBody = Type.Object(
  {
    epoch: Epoch,
    status: Type.Unsafe<'completed' | 'failed' | 'interrupted' | 'cancelled'>({
      type: 'string',
      enum: ['completed', 'failed', 'interrupted', 'cancelled'],
    }),
    error: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const TurnResponse = Type.Object({ turn: TurnSchema });
