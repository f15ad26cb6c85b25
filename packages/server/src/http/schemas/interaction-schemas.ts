/** Request and response schemas of the interaction routes (docs/turns.md). */
import { Type } from '@sinclair/typebox';
import { INTERACTION_STATUSES, type InteractionStatus } from '../../storage/turn-types.js';

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);
const Status = Type.Unsafe<InteractionStatus>({ type: 'string', enum: [...INTERACTION_STATUSES] });

export const InteractionParams = Type.Object(
  { ref: Type.String({ minLength: 1, maxLength: 300 }), interactionId: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const InteractionSchema = Type.Object({
  id: Type.String(),
  sessionId: Type.String(),
  turnId: Type.String(),
  kind: Type.Unsafe<string>({ type: 'string', enum: ['input', 'choice', 'approval', 'form'] }),
  prompt: Type.String(),
  choices: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
  schema: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  status: Status,
  response: Type.Unknown(),
  timeoutAt: Nullable(Type.String()),
  requestedAt: Type.String(),
  resolvedAt: Nullable(Type.String()),
});

export const RespondBody = Type.Object(
  {
    response: Type.Optional(Type.Unknown({ description: 'the answer: text, one of the choices, true (approval) or the form' })),
    deny: Type.Optional(Type.Boolean({ description: 'true to deny (approval) or decline' })),
  },
  { additionalProperties: false },
);

export const InteractionResponse = Type.Object({ interaction: InteractionSchema });

export const ListInteractionsQuery = Type.Object(
  {
    status: Type.Optional(Type.Array(Status, { description: 'repeatable; any of' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const InteractionPage = Type.Object({ data: Type.Array(InteractionSchema), nextCursor: Nullable(Type.String()) });
