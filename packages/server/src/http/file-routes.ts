/**
 * Session files (DESIGN §4): `PUT/GET/DELETE /v1/sessions/{ref}/files/{path}`
 * and `GET /v1/sessions/{ref}/files`. In their own plugin scope: bodies are raw
 * bytes of any content type, under the file size limit rather than the
 * app-wide JSON one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import { decodeFilePath } from '../services/file-paths.js';
import type { SessionDataService } from '../services/session-data-service.js';
import { fileView } from '../services/session-data-service.js';
import { preconditionsHold } from '../storage/session-data-rules.js';
import { responses } from './schemas/common.js';
import { FilePage, FileParams, FileWritten, ListFilesQuery } from './schemas/session-data-schemas.js';
import { SessionRefParams } from './schemas/session-schemas.js';
import { bodyLimitErrors } from './session-data-errors.js';
import { readPreconditions } from './preconditions.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';

type FileRoute = { Params: Static<typeof FileParams> };
const tags = ['sessions'];
const SESSIONS_PREFIX = '/v1/sessions/';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const MAX_CONTENT_TYPE_LENGTH = 255;
// Files are whatever a caller uploaded: never let a browser run them as a page of this origin.
const FILE_CSP = "default-src 'none'; sandbox";

/**
 * The file path from the raw URL, not from Fastify's decoded parameter: the
 * path must be decoded one segment at a time (see `decodeFilePath`). The
 * session ref is one raw segment, so the path starts after `{ref}/files/`.
 */
function filePathOf(request: FastifyRequest): string {
  const raw = request.url.split('?')[0]!.slice(SESSIONS_PREFIX.length);
  const afterRef = raw.indexOf('/');
  return decodeFilePath(raw.slice(afterRef + '/files/'.length));
}

function contentTypeOf(request: FastifyRequest): string {
  const value = request.headers['content-type']?.trim();
  if (!value) return DEFAULT_CONTENT_TYPE;
  if (value.length > MAX_CONTENT_TYPE_LENGTH) {
    throw new AppError('INVALID_HEADER', `Content-Type is longer than ${MAX_CONTENT_TYPE_LENGTH} characters`, { header: 'Content-Type' });
  }
  return value;
}

export async function fileRoutes(app: FastifyInstance, options: { data: SessionDataService }): Promise<void> {
  const { data } = options;
  const { maxFileBytes } = data.limits;
  
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const fileRoute = '/v1/sessions/:ref/files/*';

  app.put<FileRoute>(
    fileRoute,
    {
      bodyLimit: maxFileBytes,
      errorHandler: bodyLimitErrors(app, 'file', maxFileBytes),
      config: { access: access.project() },
      schema: {
        tags,
        summary: 'Store a file (any content type, kept with it); 201 new, 200 replaced',
        params: FileParams,
        response: responses({ 200: FileWritten, 201: FileWritten }),
      },
    },
    async (request, reply) => {
      const path = filePathOf(request);
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const conditions = readPreconditions(request);
      const result = await data.putFile(projectOf(request), request.params.ref, path, { contentType: contentTypeOf(request), data: body }, conditions);
      reply.header('etag', result.file.etag);
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.get<FileRoute>(
    fileRoute,
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: 'The bytes of a file, with its Content-Type and ETag',
        params: FileParams,
        response: responses({ 200: Type.Unknown({ description: 'the file, as stored' }), 304: Type.Null() }),
      },
    },
    async (request, reply: FastifyReply) => {
      const file = await data.getFile(projectOf(request), request.params.ref, filePathOf(request));
      const current = { tag: file.etag, exists: true };
      const { ifMatch, ifNoneMatch } = readPreconditions(request);
      if (!preconditionsHold({ ifMatch, ifNoneMatch: null }, current)) {
        throw new AppError('PRECONDITION_FAILED', `file ${file.path} does not match the precondition`);
      }
      const view = fileView(file);
      reply.header('etag', view.etag).header('last-modified', new Date(file.updatedAt).toUTCString());
      reply.header('cache-control', 'no-cache').header('content-security-policy', FILE_CSP);
      if (!preconditionsHold({ ifMatch: null, ifNoneMatch }, current)) return reply.code(304).send();
      return reply.type(file.contentType).header('content-length', file.size).send(file.data);
    },
  );

  app.delete<FileRoute>(
    fileRoute,
    {
      config: { access: access.project() },
      schema: { tags, summary: 'Delete a file', params: FileParams, response: responses({ 204: Type.Null() }) },
    },
    async (request, reply) => {
      await data.deleteFile(projectOf(request), request.params.ref, filePathOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof SessionRefParams>; Querystring: Static<typeof ListFilesQuery> }>(
    '/v1/sessions/:ref/files',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's files (no bytes), in path order, with an opaque cursor",
        params: SessionRefParams,
        querystring: ListFilesQuery,
        response: responses({ 200: FilePage }),
      },
    },
    async (request) => data.listFiles(projectOf(request), request.params.ref, request.query),
  );
}
