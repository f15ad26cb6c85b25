import type { FastifyInstance } from 'fastify';
import { ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS } from '@tether/protocol';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Browser-safety headers on every response (set on the raw response so SSE
 * responses, which bypass Fastify's reply, carry them too) and CORS preflight.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const exposed = EXPOSED_HEADERS.join(', ');
  const allowed = ALLOWED_REQUEST_HEADERS.join(', ');
  // A callback hook, not an async one: it runs on every request, appends included.
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cross-origin-resource-policy', 'cross-origin');
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', exposed);
    if (request.method !== 'OPTIONS') return done();
    res.setHeader('access-control-allow-methods', METHODS);
    res.setHeader('access-control-allow-headers', allowed);
    res.setHeader('access-control-max-age', '600');
    reply.code(204).send();
  });
}
