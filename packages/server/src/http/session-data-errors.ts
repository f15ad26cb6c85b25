/**
 * Fastify rejects an over-long body before any handler runs; these routes say
 * which limit it was, as their own limits do. Everything else goes to the
 * app's error handler.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export function bodyLimitErrors(app: FastifyInstance, limit: 'state' | 'file', maxBytes: number) {
  const inherited = app.errorHandler;
  return function handler(this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const what = limit === 'state' ? 'state is' : 'a file is';
      return sendError(reply, 'PAYLOAD_TOO_LARGE', `${what} at most ${maxBytes} bytes`, { limit, maxBytes });
    }
    return inherited.call(this, error, request, reply);
  };
}
