import type { FastifyInstance } from 'fastify';
import type { Store } from '../storage/types.js';
import { sendError } from './errors.js';
import { access } from './access-rules.js';

export async function healthRoutes(app: FastifyInstance, options: { store: Store; isDraining: () => boolean }) {
  app.get('/healthz', { config: { access: access.public() }, schema: { tags: ['operations'], summary: 'The process is up', security: [] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: access.public() }, schema: { tags: ['operations'], summary: 'The store is reachable', security: [] } }, async (_request, reply) => {
    if (options.isDraining()) return sendError(reply, 'SHUTTING_DOWN', 'server is shutting down');
    try {
      await options.store.ping();
      return { status: 'ready', store: options.store.driver };
    } catch (error) {
      return sendError(reply, 'STORE_UNAVAILABLE', 'store is not reachable', { reason: String(error) });
    }
  });
}
