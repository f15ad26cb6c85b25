/**
 * Guards the streams that belong to sessions. Their lifecycle follows the
 * session, so the raw stream API may not create, close or delete anything
 * under `/v1/stream/sessions/`; appends must be valid channel events, and an
 * append to a session whose time has passed expires it first.
 */
import { validateEvent, type Channel } from '@tether/protocol';
import { AppError } from '../errors.js';
import { effectiveStatus } from '../storage/session-rules.js';
import type { SessionStore } from '../storage/session-types.js';
import type { AppendBody } from '../storage/types.js';
import type { Clock } from './clock.js';
import { DEFAULT_PROJECT } from './projects.js';
import type { SessionService } from './session-service.js';
import type { StreamPolicy } from './stream-service.js';

const RESERVED_PREFIX = '/v1/stream/sessions/';
const CHANNEL_PATH = /^\/v1\/stream\/sessions\/(ses_[0-9A-Z]{26})\/(out|in)$/;

export function parseChannelPath(path: string): { sessionId: string; channel: Channel } | null {
  const match = CHANNEL_PATH.exec(path);
  return match ? { sessionId: match[1]!, channel: match[2] as Channel } : null;
}

export class SessionChannelPolicy implements StreamPolicy {
  constructor(
    private readonly deps: { sessions: SessionStore; sessionService: SessionService; clock: Clock },
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

  async beforeAppend(path: string, request: { body: AppendBody; close: boolean }): Promise<void> {
    if (!path.startsWith(RESERVED_PREFIX)) return;
    if (request.close) this.forbid(path, 'closed');
    const channel = parseChannelPath(path);
    if (!channel) return;
    if (request.body.kind === 'json') {
      request.body.messages.forEach((raw, index) => {
        const problem = validateEvent(channel.channel, JSON.parse(raw.toString('utf8')));
        if (problem) throw new AppError('INVALID_EVENT', problem, { index });
      });
    }
    const session = await this.deps.sessions.getSession(DEFAULT_PROJECT, { id: channel.sessionId });
    if (session && session.status !== 'expired' && effectiveStatus(session, this.deps.clock.now()) === 'expired') {
      // The sweeper has not reached it yet; expire it now so the append meets a closed channel.
      await this.deps.sessionService.close(session.projectId, session.id, 'expired', 'expired');
    }
  }
}
