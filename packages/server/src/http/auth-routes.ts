/** API keys, session tokens and projects (DESIGN §7, docs/security.md). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AuthService } from '../services/auth-service.js';
import type { SessionService } from '../services/session-service.js';
import type { ApiKeyRecord, ProjectRecord } from '../storage/auth-types.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';
import { responses } from './schemas/common.js';
import {
  CreatedKeySchema,
  CreatedProjectSchema,
  CreateKeyBody,
  CreateProjectBody,
  CreateTokenBody,
  KeyIdParams,
  KeyList,
  ProjectList,
  TokenSchema,
} from './schemas/auth-schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const toApiKey = (key: ApiKeyRecord) => ({
  id: key.id,
  name: key.name,
  role: key.role,
  prefix: key.prefix,
  createdAt: iso(key.createdAt)!,
  lastUsedAt: iso(key.lastUsedAt),
  revokedAt: iso(key.revokedAt),
});

const toApiProject = (project: ProjectRecord) => ({ id: project.id, name: project.name, createdAt: iso(project.createdAt)! });

export async function authRoutes(app: FastifyInstance, options: { auth: AuthService; sessions: SessionService }): Promise<void> {
  const { auth, sessions } = options;
  const tags = ['auth'];

  app.post<{ Body: Static<typeof CreateKeyBody> }>(
    '/v1/keys',
    {
      config: { access: access.roles('admin') },
      schema: { tags, summary: 'Create an API key in this project; the key is shown only here', body: CreateKeyBody, response: responses({ 201: CreatedKeySchema }) },
    },
    async (request, reply) => {
      const created = await auth.createKey(projectOf(request), request.body);
      const { id, key, name, role, prefix, createdAt } = created;
      return reply.code(201).send({ id, key, name, role, prefix, createdAt: iso(createdAt) });
    },
  );

  app.get(
    '/v1/keys',
    { config: { access: access.roles('admin') }, schema: { tags, summary: "This project's API keys (never the keys themselves)", response: responses({ 200: KeyList }) } },
    async (request) => ({ data: (await auth.listKeys(projectOf(request))).map(toApiKey) }),
  );

  app.delete<{ Params: Static<typeof KeyIdParams> }>(
    '/v1/keys/:id',
    {
      config: { access: access.roles('admin') },
      schema: { tags, summary: 'Revoke an API key; it gets 401 from then on', params: KeyIdParams, response: responses({ 204: Type.Null() }) },
    },
    async (request, reply) => {
      await auth.revokeKey(projectOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Static<typeof CreateTokenBody> }>(
    '/v1/tokens',
    {
      config: { access: access.roles('client') },
      schema: { tags, summary: 'Mint a signed, expiring token scoped to one session', body: CreateTokenBody, response: responses({ 201: TokenSchema }) },
    },
    async (request, reply) => {
      const project = projectOf(request);
      // The session must exist in the caller's project (404 otherwise, as for any other read).
      const session = await sessions.resolve(project, request.body.sessionId);
      return reply.code(201).send(await auth.mintToken(project, session.id, request.body.scopes, request.body.ttlSeconds));
    },
  );

  app.post<{ Body: Static<typeof CreateProjectBody> }>(
    '/v1/projects',
    {
      config: { access: access.operator() },
      schema: { tags, summary: 'Create a project and its first admin key (server operator only)', body: CreateProjectBody, response: responses({ 201: CreatedProjectSchema }) },
    },
    async (request, reply) => {
      const { project, key } = await auth.createProject(request.body.id, request.body.name ?? null);
      const { id, name, role, prefix, createdAt } = key;
      return reply.code(201).send({ project: toApiProject(project), key: { id, key: key.key, name, role, prefix, createdAt: iso(createdAt) } });
    },
  );

  app.get(
    '/v1/projects',
    { config: { access: access.operator() }, schema: { tags, summary: 'Every project (server operator only)', response: responses({ 200: ProjectList }) } },
    async () => ({ data: (await auth.listProjects()).map(toApiProject) }),
  );
}
