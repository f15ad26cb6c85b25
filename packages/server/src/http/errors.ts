import type { FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '@tether/protocol';

/** The one way routes answer an error: `{ error: { code, message, details? } }`. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, details?: unknown): FastifyReply {
  const error = details === undefined ? { code, message } : { code, message, details };
  // A 503 is worth retrying soon: the store or the server is expected back.
  if (ERROR_CODES[code] === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  return reply.code(ERROR_CODES[code]).type('application/json').send({ error });
}
