/** Transcript routes (DESIGN §6): messages, tool calls, usage, resume context and export. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { TranscriptService } from '../services/transcript-service.js';
import { access } from './access-rules.js';
import { projectOf } from './authenticate.js';
import { responses } from './schemas/common.js';
import { SessionRefParams } from './schemas/session-schemas.js';
import {
  ContextResponse,
  MessagePage,
  PageQuery,
  ToolCallPage,
  TranscriptQuery,
  TranscriptResponse,
  UsageResponse,
} from './schemas/transcript-schemas.js';

type Ref = { Params: Static<typeof SessionRefParams> };
type Paged = Ref & { Querystring: Static<typeof PageQuery> };
const tags = ['transcripts'];

export async function transcriptRoutes(app: FastifyInstance, options: { transcripts: TranscriptService }): Promise<void> {
  const { transcripts } = options;

  app.get<Paged>(
    '/v1/sessions/:ref/messages',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's messages, oldest first, each with the channel offset it came from",
        params: SessionRefParams,
        querystring: PageQuery,
        response: responses({ 200: MessagePage }),
      },
    },
    async (request) => transcripts.messages(projectOf(request), request.params.ref, request.query),
  );

  app.get<Paged>(
    '/v1/sessions/:ref/tool-calls',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: "The session's tool calls with their results, oldest first",
        params: SessionRefParams,
        querystring: PageQuery,
        response: responses({ 200: ToolCallPage }),
      },
    },
    async (request) => transcripts.toolCalls(projectOf(request), request.params.ref, request.query),
  );

  app.get<Ref>(
    '/v1/sessions/:ref/usage',
    {
      config: { access: access.sessionRead() },
      schema: { tags, summary: 'Token usage and cost, for the session and per turn', params: SessionRefParams, response: responses({ 200: UsageResponse }) },
    },
    async (request) => transcripts.usage(projectOf(request), request.params.ref),
  );

  app.get<Ref>(
    '/v1/sessions/:ref/context',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: 'What an agent needs to resume: the latest compaction summary and the messages after it',
        params: SessionRefParams,
        response: responses({ 200: ContextResponse }),
      },
    },
    async (request) => transcripts.context(projectOf(request), request.params.ref),
  );

  app.get<Ref & { Querystring: Static<typeof TranscriptQuery> }>(
    '/v1/sessions/:ref/transcript',
    {
      config: { access: access.sessionRead() },
      schema: {
        tags,
        summary: 'Export the transcript: `json` (one document) or `jsonl` (a session line, then one record per line)',
        params: SessionRefParams,
        querystring: TranscriptQuery,
        response: responses({ 200: TranscriptResponse }),
      },
    },
    async (request, reply) => {
      const transcript = await transcripts.transcript(projectOf(request), request.params.ref);
      if (request.query.format !== 'jsonl') return transcript;
      const lines = [
        { type: 'session', session: transcript.session },
        ...transcript.messages.map((message) => ({ type: 'message', message })),
        ...transcript.toolCalls.map((toolCall) => ({ type: 'toolCall', toolCall })),
        ...transcript.usage.turns.map((usage) => ({ type: 'usage', usage })),
        ...(transcript.context ? [{ type: 'context', context: transcript.context }] : []),
      ];
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${transcript.session.id}.jsonl"`)
        .send(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    },
  );
}
