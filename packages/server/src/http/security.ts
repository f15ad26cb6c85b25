import type { FastifyInstance } from 'fastify';
import { ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS } from '@tether/protocol';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Browser-safety headers on every response (set on the raw response so SSE
 * responses, which bypass Fastify's reply, carry them too) and CORS preflight.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const res = reply.raw;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cross-origin-resource-policy', 'cross-origin');
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS.join(', '));
    if (request.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', METHODS);
      res.setHeader('access-control-allow-headers', ALLOWED_REQUEST_HEADERS.join(', '));
      res.setHeader('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });
}
