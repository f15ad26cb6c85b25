/** Session routes (DESIGN §3): validate with the schemas, call the service, serialise. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../services/auth-service.js';
import type { SessionService } from '../services/session-service.js';
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
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

type Ref = { Params: Static<typeof SessionRefParams> };
const tags = ['sessions'];

export async function sessionRoutes(app: FastifyInstance, options: { sessions: SessionService; auth: AuthService }): Promise<void> {
  const { sessions, auth } = options;

  app.post<{ Body: Static<typeof CreateSessionBody> }>(
    '/v1/sessions',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: 'Create a session (idempotent on externalId)',
        body: CreateSessionBody,
        response: responses({ 200: CreateSessionResponse, 201: CreateSessionResponse }),
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const result = await sessions.create(project, request.body ?? {});
      // A browser given this token can read the session and write its `in`, and nothing else.
      const { token } = await auth.mintToken(project, result.session.id, ['read', 'write']);
      return reply.code(result.created ? 201 : 200).send({ ...result, token });
    },
  );

  app.get<{ Querystring: Static<typeof ListSessionsQuery> }>(
    '/v1/sessions',
    {
      config: { access: access.project() },
      schema: {
        tags,
        summary: 'List sessions, newest first, with filters and an opaque cursor',
        querystring: ListSessionsQuery,
        response: responses({ 200: SessionPage }),
      },
    },
    async (request) => sessions.list(projectOf(request), request.query),
  );

  app.get<Ref>(
    '/v1/sessions/:ref',
    { config: { access: access.sessionRead() }, schema: { tags, summary: 'Get a session by id or externalId', params: SessionRefParams, response: responses({ 200: SessionSchema }) } },
    async (request) => sessions.get(projectOf(request), request.params.ref),
  );

  app.patch<Ref & { Body: Static<typeof PatchSessionBody> }>(
    '/v1/sessions/:ref',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: 'Change title, tags or metadata (externalId is immutable)',
        params: SessionRefParams,
        body: PatchSessionBody,
        response: responses({ 200: SessionSchema }),
      },
    },
    async (request) => sessions.patch(projectOf(request), request.params.ref, request.body),
  );

  app.post<Ref & { Body: Static<typeof CloseSessionBody> }>(
    '/v1/sessions/:ref/close',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: 'Close a session and both its channels (idempotent)',
        params: SessionRefParams,
        body: CloseSessionBody,
        response: responses({ 200: SessionSchema }),
      },
    },
    async (request) => sessions.close(projectOf(request), request.params.ref, request.body?.reason ?? null),
  );

  app.delete<Ref>(
    '/v1/sessions/:ref',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: 'Delete a session with its channels and everything it owns',
        params: SessionRefParams,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await sessions.delete(projectOf(request), request.params.ref);
      return reply.code(204).send();
    },
  );

  app.post<Ref & { Body: Static<typeof ForkSessionBody> }>(
    '/v1/sessions/:ref/fork',
    {
      config: { access: access.roles('client') },
      schema: {
        tags,
        summary: "Fork a session: a new session whose channels fork the source's at an offset",
        params: SessionRefParams,
        body: ForkSessionBody,
        response: responses({ 201: SessionSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await sessions.fork(projectOf(request), request.params.ref, request.body ?? {})),
  );

  app.get<Ref & { Querystring: Static<typeof ListSessionsQuery> }>(
    '/v1/sessions/:ref/children',
    {
      config: { access: access.project() },
      schema: {
        tags,
        summary: 'Sessions whose parentId is this session',
        params: SessionRefParams,
        querystring: Type.Omit(ListSessionsQuery, ['parentId'], { additionalProperties: false }),
        response: responses({ 200: SessionPage }),
      },
    },
    async (request) => {
      const parent = await sessions.resolve(projectOf(request), request.params.ref);
      return sessions.list(projectOf(request), { ...request.query, parentId: parent.id });
    },
  );
}
