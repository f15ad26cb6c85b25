import { Type } from '@sinclair/typebox';
import { PROJECT_ID_PATTERN } from '../../services/projects.js';

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('runner'), Type.Literal('client')]);

export const CreateKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    role: Type.Optional(Role),
  },
  { additionalProperties: false },
);

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);

export const KeySchema = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  prefix: Type.String({ description: 'the first characters of the key' }),
  createdAt: Time,
  lastUsedAt: NullableTime,
  revokedAt: NullableTime,
});

export const CreatedKeySchema = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'the key itself; shown only in this response' }),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  prefix: Type.String(),
  createdAt: Time,
});

export const KeyList = Type.Object({ data: Type.Array(KeySchema) });

export const KeyIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const CreateTokenBody = Type.Object(
  {
    sessionId: Type.String({ pattern: '^ses_[0-9A-Z]{26}$' }),
    scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write')]), { minItems: 1, maxItems: 2 }),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object({
  token: Type.String(),
  expiresAt: Time,
  scopes: Type.Array(Type.String(), { description: 'read:sessions:{id} and/or write:sessions:{id}' }),
});

export const CreateProjectBody = Type.Object(
  {
    id: Type.String({ pattern: PROJECT_ID_PATTERN }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const ProjectSchema = Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), createdAt: Time });

export const CreatedProjectSchema = Type.Object({ project: ProjectSchema, key: CreatedKeySchema });

export const ProjectList = Type.Object({ data: Type.Array(ProjectSchema) });
