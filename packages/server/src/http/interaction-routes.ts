/** Interaction routes (docs/turns.md): answer a question, list a session's, and the inbox across sessions. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { InteractionService } from '../services/interaction-service.js';
import { toApiInteraction } from '../services/turn-view.js';
import { responses } from './schemas/common.js';
import {
  InteractionPage,
  InteractionParams,
  InteractionResponse,
  ListInteractionsQuery,
  RespondBody,
} from './schemas/interaction-schemas.js';
import { SessionRefParams } from './schemas/session-schemas.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

const tags = ['interactions'];

export async function interactionRoutes(app: FastifyInstance, options: { interactions: InteractionService }): Promise<void> {
  const { interactions } = options;

  app.post<{ Params: Static<typeof InteractionParams>; Body: Static<typeof RespondBody> }>(
    '/v1/sessions/:ref/interactions/:interactionId/respond',
    {
      config: { access: access.sessionWrite() },
      schema: {
        tags,
        summary: 'Answer a pending question once: {response} or {deny: true} (409 INTERACTION_NOT_PENDING after a different answer)',
        params: InteractionParams,
        body: RespondBody,
        response: responses({ 200: InteractionResponse }),
      },
    },
    async (request) => {
      const { ref, interactionId } = request.params;
      return { interaction: toApiInteraction(await interactions.respond(projectOf(request), ref, interactionId, request.body)) };
    },
  );

  app.get<{ Params: Static<typeof SessionRefParams>; Querystring: Static<typeof ListInteractionsQuery> }>(
    '/v1/sessions/:ref/interactions',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's interactions, oldest first, optionally by status",
        params: SessionRefParams,
        querystring: ListInteractionsQuery,
        response: responses({ 200: InteractionPage }),
      },
    },
    async (request) => {
      const page = await interactions.list(projectOf(request), request.params.ref, request.query);
      return { data: page.data.map(toApiInteraction), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Querystring: Static<typeof ListInteractionsQuery> }>(
    '/v1/interactions',
    {
      config: { access: access.project() },
      schema: {
        tags,
        summary: 'Inbox: interactions across sessions, oldest first (e.g. status=pending)',
        querystring: ListInteractionsQuery,
        response: responses({ 200: InteractionPage }),
      },
    },
    async (request) => {
      const page = await interactions.list(projectOf(request), null, request.query);
      return { data: page.data.map(toApiInteraction), nextCursor: page.nextCursor };
    },
  );
}
