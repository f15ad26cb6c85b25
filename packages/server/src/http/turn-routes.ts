/** Turn routes (docs/turns.md): send input, list turns, and a runner's lease, completion and stop requests. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { SessionService } from '../services/session-service.js';
import type { TurnService } from '../services/turn-service.js';
import { toApiTurn } from '../services/turn-view.js';
import { responses } from './schemas/common.js';
import { SessionRefParams } from './schemas/session-schemas.js';
import {
  AdmittedTurn,
  CompleteBody,
  HeartbeatBody,
  HeartbeatResponse,
  ListTurnsQuery,
  SendMessageBody,
  SessionTurnParams,
  TurnPage,
  TurnResponse,
} from './schemas/turn-schemas.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

type Ref = { Params: Static<typeof SessionRefParams> };
type TurnRef = { Params: Static<typeof SessionTurnParams> };
const tags = ['turns'];

export async function turnRoutes(app: FastifyInstance, options: { sessions: SessionService; turns: TurnService }): Promise<void> {
  const { sessions, turns } = options;

  app.post<Ref & { Body: Static<typeof SendMessageBody> }>(
    '/v1/sessions/:ref/messages',
    {
      config: { access: access.sessionWrite() },
      schema: {
        tags,
        summary: 'Append a user.message to `in` and admit a turn (busy policy: reject, enqueue or interrupt)',
        params: SessionRefParams,
        body: SendMessageBody,
        response: responses({ 202: AdmittedTurn }),
      },
    },
    async (request, reply) => {
      const { turn, sessionId } = await turns.sendMessage(projectOf(request), request.params.ref, request.body);
      return reply.code(202).send({ turn: toApiTurn(turn), session: await sessions.get(projectOf(request), sessionId) });
    },
  );

  app.get<Ref & { Querystring: Static<typeof ListTurnsQuery> }>(
    '/v1/sessions/:ref/turns',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's turns, newest first",
        params: SessionRefParams,
        querystring: ListTurnsQuery,
        response: responses({ 200: TurnPage }),
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await turns.listTurns(projectOf(request), request.params.ref, { limit, beforeSeq: cursor === undefined ? undefined : Number(cursor) });
      return { data: page.data.map(toApiTurn), nextCursor: page.nextCursor };
    },
  );

  app.get<TurnRef>(
    '/v1/sessions/:ref/turns/:turnId',
    {
      config: { access: access.sessionRead() },
      schema: { tags, summary: 'One turn of the session', params: SessionTurnParams, response: responses({ 200: TurnResponse }) },
    },
    async (request) => ({ turn: toApiTurn(await turns.getTurn(projectOf(request), request.params.ref, request.params.turnId)) }),
  );

  app.post<TurnRef & { Body: Static<typeof HeartbeatBody> }>(
    '/v1/sessions/:ref/turns/:turnId/heartbeat',
    {
      config: { access: access.roles('runner') },
      schema: {
        tags,
        summary: "Extend a turn's lease; says whether an interrupt or cancel was requested (409 LEASE_LOST when gone)",
        params: SessionTurnParams,
        body: HeartbeatBody,
        response: responses({ 200: HeartbeatResponse }),
      },
    },
    async (request) => {
      const { ref, turnId } = request.params;
      const turn = await turns.heartbeat(projectOf(request), ref, turnId, request.body);
      return {
        lease: { epoch: turn.leaseEpoch!, expiresAt: new Date(turn.leaseExpiresAt!).toISOString() },
        interruptRequested: turn.interruptRequested,
        cancelRequested: turn.cancelRequested,
      };
    },
  );

  app.post<TurnRef & { Body: Static<typeof CompleteBody> }>(
    '/v1/sessions/:ref/turns/:turnId/complete',
    {
      config: { access: access.roles('runner') },
      schema: {
        tags,
        summary: 'End a turn (completed, failed, interrupted or cancelled); writes turn.{status} to `out`',
        params: SessionTurnParams,
        body: CompleteBody,
        response: responses({ 200: TurnResponse }),
      },
    },
    async (request) => {
      const { ref, turnId } = request.params;
      return { turn: toApiTurn(await turns.complete(projectOf(request), ref, turnId, request.body)) };
    },
  );

  app.post<TurnRef>(
    '/v1/sessions/:ref/turns/:turnId/cancel',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: 'Cancel a queued turn at once, or ask the running one to stop',
        params: SessionTurnParams,
        response: responses({ 200: TurnResponse }),
      },
    },
    async (request) => ({ turn: toApiTurn(await turns.cancel(projectOf(request), request.params.ref, request.params.turnId)) }),
  );

  app.post<Ref>(
    '/v1/sessions/:ref/interrupt',
    {
      config: { access: access.sessionWrite() },
      schema: {
        tags,
        summary: 'Ask the running turn to stop (409 SESSION_NOT_RUNNING when there is none)',
        params: SessionRefParams,
        response: responses({ 200: TurnResponse }),
      },
    },
    async (request) => ({ turn: toApiTurn(await turns.interrupt(projectOf(request), request.params.ref)) }),
  );
}
