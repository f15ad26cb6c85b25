import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS } from '@tether/protocol';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Sets the browser-safety headers every response carries and the CORS
 * headers of an allowed origin; says whether the origin is allowed. Set on
 * the raw response, so SSE responses and the raw append path, which bypass
 * Fastify's reply, carry them too.
 */
export type SecurityHeaders = (request: { headers: IncomingHttpHeaders }, res: { setHeader(name: string, value: string): unknown }) => boolean;

/**
 * Only the configured origins may read responses from a browser (`*` allows
 * any); by default none may, so a web page cannot use a credential it got hold of.
 */
export function securityHeaders(corsOrigins: readonly string[]): SecurityHeaders {
  const exposed = [...EXPOSED_HEADERS, 'retry-after'].join(', ');
  const anyOrigin = corsOrigins.includes('*');
  const origins = new Set(corsOrigins);
  return (request, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cross-origin-resource-policy', 'cross-origin');
    const origin = request.headers.origin;
    const allowedOrigin = typeof origin === 'string' && (anyOrigin || origins.has(origin));
    if (corsOrigins.length > 0) res.setHeader('vary', 'origin');
    if (allowedOrigin) {
      res.setHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
      res.setHeader('access-control-expose-headers', exposed);
    }
    return allowedOrigin;
  };
}

/** Security and CORS headers on every response; answers CORS preflights. */
export function registerSecurityHeaders(app: FastifyInstance, apply: SecurityHeaders): void {
  const allowed = [...ALLOWED_REQUEST_HEADERS, 'authorization'].join(', ');
  // A callback hook, not an async one: it runs on every request, appends included.
  app.addHook('onRequest', (request, reply, done) => {
    const allowedOrigin = apply(request, reply.raw);
    if (request.method !== 'OPTIONS') return done();
    if (allowedOrigin) {
      reply.raw.setHeader('access-control-allow-methods', METHODS);
      reply.raw.setHeader('access-control-allow-headers', allowed);
      reply.raw.setHeader('access-control-max-age', '600');
    }
    reply.code(204).send();
  });
}
