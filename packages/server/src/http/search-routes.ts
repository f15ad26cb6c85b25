/** Full-text search across sessions, and transcript import (DESIGN §6). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import type { ImportService } from '../services/import-service.js';
import type { TranscriptService } from '../services/transcript-service.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';
import { responses } from './schemas/common.js';
import { ImportQuery, ImportResponse, SearchPage, SearchQuerySchema } from './schemas/transcript-schemas.js';

/** Imports may be much larger than one append. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export async function searchRoutes(
  app: FastifyInstance,
  options: { transcripts: TranscriptService; imports: ImportService },
): Promise<void> {
  app.get<{ Querystring: Static<typeof SearchQuerySchema> }>(
    '/v1/search',
    {
      config: { access: access.ownSessionRead() },
      schema: {
        tags: ['search'],
        summary: 'Full-text search over message text, tool names and session titles, most relevant first',
        querystring: SearchQuerySchema,
        response: responses({ 200: SearchPage }),
      },
    },
    async (request) => {
      // A session token finds only what its own session holds.
      const principal = request.principal;
      const sessionId = principal?.kind === 'token' ? principal.sessionId : null;
      return options.transcripts.search(projectOf(request), request.query, sessionId);
    },
  );

  // JSONL arrives as text; this parser is scoped to this plugin's routes.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, (_request, body, done) => done(null, body));

  app.post<{ Querystring: Static<typeof ImportQuery>; Body: string }>(
    '/v1/sessions/import',
    {
      bodyLimit: MAX_IMPORT_BYTES,
      config: { access: access.roles('client') },
      schema: {
        tags: ['transcripts'],
        summary: "Import JSONL transcripts: Tether's own export or Claude Code's transcript files",
        querystring: ImportQuery,
        consumes: ['application/x-ndjson', 'text/plain'],
        response: responses({ 200: ImportResponse }),
      },
    },
    async (request) => {
      if (typeof request.body !== 'string') {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the transcript as application/x-ndjson or text/plain');
      }
      return options.imports.import(projectOf(request), request.body, request.query.partial ?? false);
    },
  );
}
