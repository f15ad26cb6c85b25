/** `POST /v1/runners/claim`: a runner's long-poll for the next turn (docs/turns.md). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { RUNNER_PRODUCER_ID } from '../storage/turn-types.js';
import type { SessionService } from '../services/session-service.js';
import type { TurnService } from '../services/turn-service.js';
import { toApiTurn } from '../services/turn-view.js';
import type { LiveReaders } from './live-readers.js';
import { responses } from './schemas/common.js';
import { ClaimBody, ClaimResponse } from './schemas/turn-schemas.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

export async function runnerRoutes(
  app: FastifyInstance,
  options: { sessions: SessionService; turns: TurnService; live: LiveReaders },
): Promise<void> {
  const { sessions, turns, live } = options;

  app.post<{ Body: Static<typeof ClaimBody> }>(
    '/v1/runners/claim',
    {
      config: { access: access.runnerLive() },
      schema: {
        tags: ['runners'],
        summary: 'Long-poll for the oldest queued turn; 204 when none came within waitMs',
        body: ClaimBody,
        response: responses({ 200: ClaimResponse, 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      // Ends when the runner hangs up or the server drains, like any live read.
      const controller = live.start((listener) => reply.raw.on('close', listener));
      try {
        const claimed = await turns.claim(projectOf(request), request.body, controller.signal);
        if (!claimed) return reply.code(204).send();
        const session = await sessions.get(claimed.projectId, claimed.sessionId);
        return {
          turn: toApiTurn(claimed.turn),
          session,
          lease: { epoch: claimed.epoch, expiresAt: new Date(claimed.expiresAt).toISOString() },
          producer: { id: RUNNER_PRODUCER_ID, epoch: claimed.epoch },
        };
      } finally {
        live.finish(controller);
      }
    },
  );
}
