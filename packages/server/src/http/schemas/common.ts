import { Type, type TSchema } from '@sinclair/typebox';

/** The error body every non-stream route answers with. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
);

/** Response map for a route: its success shapes plus the shared error body for 4xx/5xx. */
export function responses(success: Record<number, TSchema>): Record<string, TSchema> {
  return { ...success, '4xx': ErrorResponse, '5xx': ErrorResponse };
}

export const Offset = Type.String({ pattern: '^\\d{16}_\\d{16}$', description: 'a stream offset' });
