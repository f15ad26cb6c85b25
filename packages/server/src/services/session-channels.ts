/**
 * Guards the streams that belong to sessions. Their lifecycle follows the
 * session, so the raw stream API may not create, close or delete anything
 * under `/v1/stream/sessions/`; appends must be valid channel events, and an
 * append to a session whose time has passed expires it first.
 */
import { validateEvent, type Channel } from '@tether/protocol';
import { AppError } from '../errors.js';
import { containsNul } from './nul-guard.js';
import { effectiveStatus, isOpen } from '../storage/session-rules.js';
import type { SessionStore } from '../storage/session-types.js';
import type { AppendBody, AppendOutcome, AppendRequest } from '../storage/types.js';
import type { RequestedEvent } from '../storage/interaction-rules.js';
import type { Clock } from './clock.js';
import { DEFAULT_PROJECT } from './projects.js';
import type { SessionService } from './session-service.js';
import type { InteractionService } from './interaction-service.js';
import type { StreamPolicy } from './stream-service.js';
import type { TurnService } from './turn-service.js';

const RESERVED_PREFIX = '/v1/stream/sessions/';
const CHANNEL_PATH = /^\/v1\/stream\/sessions\/(ses_[0-9A-Z]{26})\/(out|in)$/;

export function parseChannelPath(path: string): { sessionId: string; channel: Channel } | null {
  const match = CHANNEL_PATH.exec(path);
  return match ? { sessionId: match[1]!, channel: match[2] as Channel } : null;
}

export class SessionChannelPolicy implements StreamPolicy {
  constructor(
    private readonly deps: {
      sessions: SessionStore;
      sessionService: SessionService;
      clock: Clock;
      /** When set, `user.message` on `in` admits a turn and `interaction.requested` on `out` asks a question. */
      projections?: { turns: TurnService; interactions: InteractionService };
    },
  ) {}

  private forbid(path: string, what: string): void {
    if (path.startsWith(RESERVED_PREFIX)) {
      throw new AppError('FORBIDDEN', `session channels are ${what} with their session, not through the stream API`);
    }
  }

  beforeCreate(path: string): void {
    this.forbid(path, 'created');
  }

  beforeDelete(path: string): void {
    this.forbid(path, 'deleted');
  }

  /** Nothing to wait for (and no promise made) for a stream outside the session channels. */
  beforeAppend(path: string, request: { body: AppendBody; close: boolean; projectId?: string }): Promise<void> | undefined {
    if (!path.startsWith(RESERVED_PREFIX)) return;
    return this.checkChannelAppend(path, request);
  }

  private async checkChannelAppend(path: string, request: { body: AppendBody; close: boolean; projectId?: string }): Promise<void> {
    if (request.close) this.forbid(path, 'closed');
    const channel = parseChannelPath(path);
    if (!channel) return;
    if (request.body.kind === 'json') {
      request.body.messages.forEach((raw, index) => {
        const event = JSON.parse(raw.toString('utf8'));
        if (containsNul(event)) throw new AppError('INVALID_EVENT', 'event strings may not contain NUL (\\u0000)', { index });
        const problem = validateEvent(channel.channel, event);
        if (problem) throw new AppError('INVALID_EVENT', problem, { index });
      });
    }
    const session = await this.deps.sessions.getSession(request.projectId ?? DEFAULT_PROJECT, { id: channel.sessionId });
    if (session && session.status !== 'expired' && effectiveStatus(session, this.deps.clock.now()) === 'expired') {
      // The sweeper has not reached it yet; expire it now so the append meets a closed channel.
      await this.deps.sessionService.close(session.projectId, session.id, 'expired', 'expired');
    }
  }

  /** Null, with no promise made, for an append that carries nothing to project. */
  appendProjected(request: AppendRequest): Promise<AppendOutcome | null> | null {
    const projections = this.deps.projections;
    if (!projections || !request.path.startsWith(RESERVED_PREFIX)) return null;
    const channel = parseChannelPath(request.path);
    const body = request.body;
    if (!channel || body.kind !== 'json') return null;
    // Cheap test first: most appends (a runner's deltas) carry nothing to project.
    const markers = channel.channel === 'in' ? ['"user.message"', '"control.interrupt"'] : ['"interaction.requested"'];
    if (!body.messages.some((message) => markers.some((marker) => message.includes(marker)))) return null;
    return this.project(projections, channel, request, body.messages);
  }

  private async project(
    projections: { turns: TurnService; interactions: InteractionService },
    channel: { sessionId: string; channel: Channel },
    request: AppendRequest,
    messages: Buffer[],
  ): Promise<AppendOutcome | null> {
    const projectId = request.projectId ?? DEFAULT_PROJECT;
    const events = messages.map((message) => JSON.parse(message.toString('utf8')) as Record<string, unknown>);
    if (channel.channel === 'in') {
      const messages = events.filter((event) => event.type === 'user.message');
      if (messages.length === 0) {
        if (!events.some((event) => event.type === 'control.interrupt')) return null;
        return projections.turns.interruptRaw(projectId, channel.sessionId, request);
      }
      if (messages.length > 1) throw new AppError('INVALID_EVENT', 'append one `user.message` at a time: each admits a turn');
      // A closed session's channel answers as any closed stream does (409 with Stream-Closed).
      const session = await this.deps.sessions.getSession(projectId, { id: channel.sessionId });
      if (!session || !isOpen(session, this.deps.clock.now())) return null;
      return projections.turns.admitRaw(projectId, channel.sessionId, request, messages[0]!);
    }
    const questions = events.filter((event) => event.type === 'interaction.requested') as unknown as RequestedEvent[];
    if (questions.length === 0) return null;
    return projections.interactions.requestRaw(projectId, channel.sessionId, request, questions);
  }
}
