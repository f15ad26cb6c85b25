/** Schemas of the session state and file routes; they feed validation and /openapi.json. */
import { Type } from '@sinclair/typebox';
import { SessionRefParams } from './session-schemas.js';

export const StateResponse = Type.Unknown({ description: 'the stored JSON document; null before the first write' });

export const StateWritten = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'the new version; the ETag is this number in quotes' }),
  updatedAt: Type.String(),
});

export const FileParams = Type.Object(
  {
    ref: SessionRefParams.properties.ref,
    '*': Type.String({ description: 'the file path: up to 512 characters of A-Z a-z 0-9 . _ - /' }),
  },
  { additionalProperties: false },
);

export const FileSchema = Type.Object({
  path: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  etag: Type.String({ description: 'the ETag header of the file, quotes included' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const FileWritten = Type.Object({ created: Type.Boolean(), file: FileSchema });

export const ListFilesQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9._/-]*$', description: 'only paths starting with this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const FilePage = Type.Object({ data: Type.Array(FileSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });
