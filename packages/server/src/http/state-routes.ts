/**
 * `GET/PUT /v1/sessions/{ref}/state` (DESIGN §4): one JSON document per
 * session, versioned by a strong ETag (`"<version>"`). In its own plugin scope
 * so the document can be read as text under its own size limit.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import type { SessionDataService } from '../services/session-data-service.js';
import { preconditionsHold } from '../storage/session-data-rules.js';
import { responses } from './schemas/common.js';
import { StateResponse, StateWritten } from './schemas/session-data-schemas.js';
import { SessionRefParams } from './schemas/session-schemas.js';
import { bodyLimitErrors } from './session-data-errors.js';
import { readPreconditions } from './preconditions.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

type Ref = { Params: Static<typeof SessionRefParams> };
const tags = ['sessions'];

export async function stateRoutes(app: FastifyInstance, options: { data: SessionDataService }): Promise<void> {
  const { data } = options;
  const { maxStateBytes } = data.limits;
  
  // Kept as the text received: the document is returned byte for byte, so it
  // is only checked to be JSON, never re-serialised.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get<Ref>(
    '/v1/sessions/:ref/state',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's state document (null before the first write); ETag is its version",
        params: SessionRefParams,
        response: responses({ 200: StateResponse, 304: Type.Null() }),
      },
    },
    async (request, reply) => {
      const state = await data.getState(projectOf(request), request.params.ref);
      const etag = `"${state.version}"`;
      const current = { tag: String(state.version), exists: state.version > 0 };
      const { ifMatch, ifNoneMatch } = readPreconditions(request);
      if (!preconditionsHold({ ifMatch, ifNoneMatch: null }, current)) {
        throw new AppError('PRECONDITION_FAILED', 'state has changed since that version', { currentVersion: state.version });
      }
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (!preconditionsHold({ ifMatch: null, ifNoneMatch }, current)) return reply.code(304).send();
      return reply.type('application/json').send(state.document);
    },
  );

  app.put<Ref>(
    '/v1/sessions/:ref/state',
    {
      bodyLimit: maxStateBytes,
      errorHandler: bodyLimitErrors(app, 'state', maxStateBytes),
      config: { access: access.project() },
      schema: {
        tags,
        summary: 'Replace the state document; If-Match / If-None-Match make it conditional (412 when stale)',
        params: SessionRefParams,
        body: { description: 'any JSON value' },
        response: responses({ 200: StateWritten }),
      },
    },
    async (request, reply) => {
      const document = typeof request.body === 'string' ? request.body : '';
      const state = await data.putState(projectOf(request), request.params.ref, document, readPreconditions(request));
      reply.header('etag', `"${state.version}"`);
      return { version: state.version, updatedAt: new Date(state.updatedAt!).toISOString() };
    },
  );
}
