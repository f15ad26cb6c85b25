/** Session routes (DESIGN §3): validate with the schemas, call the service, serialise. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { SessionService } from '../services/session-service.js';
import { DEFAULT_PROJECT } from '../services/projects.js';
import { responses } from './schemas/common.js';
import {
  CloseSessionBody,
  CreateSessionBody,
  CreateSessionResponse,
  ForkSessionBody,
  ListSessionsQuery,
  PatchSessionBody,
  SessionPage,
  SessionRefParams,
  SessionSchema,
} from './schemas/session-schemas.js';

type Ref = { Params: Static<typeof SessionRefParams> };
const tags = ['sessions'];

export async function sessionRoutes(app: FastifyInstance, options: { sessions: SessionService }): Promise<void> {
  const { sessions } = options;
  const project = DEFAULT_PROJECT;

  app.post<{ Body: Static<typeof CreateSessionBody> }>(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'Create a session (idempotent on externalId)',
        body: CreateSessionBody,
        response: responses({ 200: CreateSessionResponse, 201: CreateSessionResponse }),
      },
    },
    async (request, reply) => {
      const result = await sessions.create(project, request.body ?? {});
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.get<{ Querystring: Static<typeof ListSessionsQuery> }>(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'List sessions, newest first, with filters and an opaque cursor',
        querystring: ListSessionsQuery,
        response: responses({ 200: SessionPage }),
      },
    },
    async (request) => sessions.list(project, request.query),
  );

  app.get<Ref>(
    '/v1/sessions/:ref',
    { schema: { tags, summary: 'Get a session by id or externalId', params: SessionRefParams, response: responses({ 200: SessionSchema }) } },
    async (request) => sessions.get(project, request.params.ref),
  );

  app.patch<Ref & { Body: Static<typeof PatchSessionBody> }>(
    '/v1/sessions/:ref',
    {
      schema: {
        tags,
        summary: 'Change title, tags or metadata (externalId is immutable)',
        params: SessionRefParams,
        body: PatchSessionBody,
        response: responses({ 200: SessionSchema }),
      },
    },
    async (request) => sessions.patch(project, request.params.ref, request.body),
  );

  app.post<Ref & { Body: Static<typeof CloseSessionBody> }>(
    '/v1/sessions/:ref/close',
    {
      schema: {
        tags,
        summary: 'Close a session and both its channels (idempotent)',
        params: SessionRefParams,
        body: CloseSessionBody,
        response: responses({ 200: SessionSchema }),
      },
    },
    async (request) => sessions.close(project, request.params.ref, request.body?.reason ?? null),
  );

  app.delete<Ref>(
    '/v1/sessions/:ref',
    {
      schema: {
        tags,
        summary: 'Delete a session with its channels and everything it owns',
        params: SessionRefParams,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await sessions.delete(project, request.params.ref);
      return reply.code(204).send();
    },
  );

  app.post<Ref & { Body: Static<typeof ForkSessionBody> }>(
    '/v1/sessions/:ref/fork',
    {
      schema: {
        tags,
        summary: "Fork a session: a new session whose channels fork the source's at an offset",
        params: SessionRefParams,
        body: ForkSessionBody,
        response: responses({ 201: SessionSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await sessions.fork(project, request.params.ref, request.body ?? {})),
  );

  app.get<Ref & { Querystring: Static<typeof ListSessionsQuery> }>(
    '/v1/sessions/:ref/children',
    {
      schema: {
        tags,
        summary: 'Sessions whose parentId is this session',
        params: SessionRefParams,
        querystring: Type.Omit(ListSessionsQuery, ['parentId'], { additionalProperties: false }),
        response: responses({ 200: SessionPage }),
      },
    },
    async (request) => {
      const parent = await sessions.resolve(project, request.params.ref);
      return sessions.list(project, { ...request.query, parentId: parent.id });
    },
  );
}
