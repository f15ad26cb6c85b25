/**
 * Human-in-the-loop interactions (DESIGN §4) without HTTP: questions the
 * running turn appends to `out`, answers checked against the question, and
 * the per-session and cross-session (inbox) lists.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { AppError } from '../errors.js';
import { canonicalJson, checkRequested, decideRequested, decideRespond, type RequestedEvent } from '../storage/interaction-rules.js';
import type { InteractionRecord, InteractionStatus, InteractionWrite } from '../storage/turn-types.js';
import type { AppendOutcome, AppendRequest, Store } from '../storage/types.js';
import type { Clock } from './clock.js';
import type { SessionService } from './session-service.js';
import type { TurnService } from './turn-service.js';

const MAX_CACHED_SCHEMAS = 256;

export interface InteractionServiceDeps {
  store: Store;
  sessions: SessionService;
  turns: TurnService;
  clock: Clock;
}

export interface AnswerInput {
  response?: unknown;
  deny?: boolean;
}

export interface InteractionPage {
  data: InteractionRecord[];
  nextCursor: string | null;
}

export class InteractionService {
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  /** Compiled form schemas by their canonical text; questions are often asked again. */
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly deps: InteractionServiceDeps) {}

  private validator(schema: Record<string, unknown>): ValidateFunction {
    const key = canonicalJson(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      if (this.compiled.size >= MAX_CACHED_SCHEMAS) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** Checks questions before they are stored: a form's schema must compile. */
  checkRequested(event: RequestedEvent, index: number): void {
    const problem = checkRequested(event);
    if (problem) throw new AppError('INVALID_EVENT', problem, { index });
    if (event.kind === 'form') {
      try {
        this.validator(event.schema as Record<string, unknown>);
      } catch (error) {
        throw new AppError('INVALID_EVENT', `\`schema\` is not a valid JSON Schema: ${(error as Error).message}`, { index });
      }
    }
  }

  /** `interaction.requested` events appended to `out`: stored with their projection, atomically. */
  async requestRaw(projectId: string, sessionId: string, request: AppendRequest, events: RequestedEvent[]): Promise<AppendOutcome> {
    events.forEach((event, index) => this.checkRequested(event, index));
    const { outcome, mutation } = await this.deps.store.turns.appendProjected(
      projectId,
      sessionId,
      request,
      { interactionIds: events.map((e) => e.interactionId) },
      (snapshot) => decideRequested(snapshot, events),
    );
    if (mutation) this.deps.turns.publish(mutation);
    return outcome;
  }

  /** Whether `answer` fits the question; throws VALIDATION_FAILED saying why not. */
  private checkAnswer(interaction: InteractionRecord, answer: AnswerInput): void {
    const fail = (message: string, details?: Record<string, unknown>) => {
      throw new AppError('VALIDATION_FAILED', message, { field: 'body.response', ...details });
    };
    const hasResponse = answer.response !== undefined;
    if (answer.deny === true) {
      if (hasResponse) fail('give either response or deny: true, not both');
      return;
    }
    if (!hasResponse) fail('an answer needs `response` or `deny: true`');
    switch (interaction.kind) {
      case 'input':
        if (typeof answer.response !== 'string') fail('an `input` interaction takes a string response');
        return;
      case 'choice': {
        const given = canonicalJson(answer.response);
        if (!(interaction.choices ?? []).some((choice) => canonicalJson(choice) === given)) {
          fail('the response is not one of the choices', { choices: interaction.choices });
        }
        return;
      }
      case 'approval':
        if (answer.response !== true) fail('an `approval` takes `response: true` or `deny: true`');
        return;
      case 'form': {
        const validate = this.validator(interaction.schema ?? {});
        if (!validate(answer.response)) {
          fail('the response does not match the form schema', {
            errors: (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message, keyword: e.keyword })),
          });
        }
      }
    }
  }

  async respond(projectId: string, ref: string, interactionId: string, answer: AnswerInput): Promise<InteractionWrite> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const interaction = await this.deps.store.turns.getInteraction(projectId, session.id, interactionId);
    if (!interaction) throw new AppError('INTERACTION_NOT_FOUND', `no interaction ${interactionId} in session ${session.id}`);
    this.checkAnswer(interaction, answer);
    const mutation = await this.deps.store.turns.mutate(projectId, session.id, { interactionIds: [interactionId] }, this.deps.clock.now(), (snapshot) =>
      decideRespond(snapshot, { interactionId, response: answer.response, deny: answer.deny === true }),
    );
    this.deps.turns.publish(mutation);
    return mutation.result.interaction;
  }

  async list(
    projectId: string,
    ref: string | null,
    input: { status?: InteractionStatus[]; limit?: number; cursor?: string },
  ): Promise<InteractionPage> {
    const sessionId = ref === null ? null : (await this.deps.sessions.resolve(projectId, ref)).id;
    const limit = input.limit ?? 50;
    const rows = await this.deps.store.turns.listInteractions({
      projectId,
      sessionId,
      statuses: input.status ?? [],
      afterSeq: input.cursor === undefined ? null : decodeCursor(input.cursor),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return { data: page, nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null };
  }
}

const encodeCursor = (seq: number) => Buffer.from(JSON.stringify({ v: 1, seq })).toString('base64url');

function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; seq?: unknown };
    if (value.v === 1 && Number.isSafeInteger(value.seq) && (value.seq as number) >= 0) return value.seq as number;
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new AppError('INVALID_CURSOR', 'cursor is malformed or was not issued by this server');
}
