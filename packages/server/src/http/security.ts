import type { FastifyInstance } from 'fastify';
import { ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS } from '@tether/protocol';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Browser-safety headers on every response (set on the raw response so SSE
 * responses, which bypass Fastify's reply, carry them too) and CORS. Only the
 * configured origins may read responses from a browser (`*` allows any); by
 * default none may, so a web page cannot use a credential it got hold of.
 */
export function registerSecurityHeaders(app: FastifyInstance, corsOrigins: readonly string[]): void {
  const exposed = [...EXPOSED_HEADERS, 'retry-after'].join(', ');
  const allowed = [...ALLOWED_REQUEST_HEADERS, 'authorization'].join(', ');
  const anyOrigin = corsOrigins.includes('*');
  const origins = new Set(corsOrigins);
  // A callback hook, not an async one: it runs on every request, appends included.
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cross-origin-resource-policy', 'cross-origin');
    const origin = request.headers.origin;
    const allowedOrigin = typeof origin === 'string' && (anyOrigin || origins.has(origin));
    if (corsOrigins.length > 0) res.setHeader('vary', 'origin');
    if (allowedOrigin) {
      res.setHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
      res.setHeader('access-control-expose-headers', exposed);
    }
    if (request.method !== 'OPTIONS') return done();
    if (allowedOrigin) {
      res.setHeader('access-control-allow-methods', METHODS);
      res.setHeader('access-control-allow-headers', allowed);
      res.setHeader('access-control-max-age', '600');
    }
    reply.code(204).send();
  });
}
