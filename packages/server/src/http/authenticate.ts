/**
 * Runs every route's access rule before its body is read: who the caller is
 * (API key or session token, from `Authorization: Bearer` or, for browsers'
 * EventSource, `?token=`), whether the rule admits them, the per-credential
 * rate limit and the cap on open live reads. Missing or invalid credential:
 * 401; valid but outside its scope: 403; another project's resource: the
 * same 404 a missing one gets.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { AuthService, Principal } from '../services/auth-service.js';
import { DEFAULT_PROJECT } from '../services/projects.js';
import { parseChannelPath } from '../services/session-channels.js';
import type { SessionStore } from '../storage/session-types.js';
import { ruleOf, type AccessRule } from './access-rules.js';
import { sendError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';
import { decodeStreamPath } from './stream-paths.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set for every route but the public ones. */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  auth: AuthService;
  sessions: SessionStore;
  /** `--insecure-no-auth`: every request acts as an admin of the default project. */
  disabled: boolean;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  maxLiveReadersPerKey: number;
  maxPathLength: number;
}

const INSECURE: Principal = { kind: 'key', projectId: DEFAULT_PROJECT, keyId: 'insecure-no-auth', role: 'admin' };

/** The project a request acts in; only routes with a non-public rule may ask. */
export function projectOf(request: FastifyRequest): string {
  if (!request.principal) throw new AppError('UNAUTHORIZED', 'a credential is required');
  return request.principal.projectId;
}

function credentialOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return match ? match[1]! : '';
  }
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.token;
  if (token === undefined) return null;
  return typeof token === 'string' && (request.method === 'GET' || request.method === 'HEAD') ? token : '';
}

function subjectOf(principal: Principal): string {
  return principal.kind === 'key' ? principal.keyId : `session:${principal.sessionId}`;
}

function isLiveRead(request: FastifyRequest, rule: AccessRule): boolean {
  if (rule.kind === 'keys') return rule.live === true;
  const live = (request.query as Record<string, unknown> | undefined)?.live;
  return rule.kind === 'stream' && request.method === 'GET' && (live === 'sse' || live === 'long-poll');
}

export function registerAuthentication(app: FastifyInstance, options: AuthOptions): void {
  const limiter = new RateLimiter(options.rateLimitPerSecond, options.rateLimitBurst);
  const liveReaders = new Map<string, number>();
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) {
      throw new Error(`route ${[route.method].flat().join(',')} ${route.url} declares no access rule (config.access)`);
    }
  });

  const forbid = (message: string) => new AppError('FORBIDDEN', message);

  const sessionIdOfRef = async (projectId: string, ref: string): Promise<string | null> => {
    if (ref.startsWith('ses_')) return ref;
    // Not a name any session can have, and not one every store can look up.
    if (ref.includes('\u0000')) return null;
    const session = await options.sessions.getSession(projectId, { externalId: ref });
    return session?.id ?? null;
  };

  const checkKeys = async (request: FastifyRequest, rule: Extract<AccessRule, { kind: 'keys' }>, principal: Principal) => {
    if (principal.kind === 'key') {
      if (rule.operator && principal.projectId !== DEFAULT_PROJECT) throw forbid('only the server operator may do this');
      if (principal.role !== 'admin' && !rule.roles.includes(principal.role)) throw forbid(`a ${principal.role} key may not do this`);
      return;
    }
    if (!rule.session) throw forbid('a session token may not do this');
    if (rule.session === 'write' && !principal.scopes.has('write')) throw forbid('this token may only read');
    const ref = (request.params as Record<string, string> | undefined)?.ref;
    if (ref === undefined && rule.tokenSession) return;
    const id = ref === undefined ? null : await sessionIdOfRef(principal.projectId, ref);
    if (id !== principal.sessionId) throw forbid('this token is for another session');
  };

  const checkStream = async (request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<boolean> => {
    let path: string;
    try {
      path = decodeStreamPath(request.url.split('?')[0]!, options.maxPathLength);
    } catch {
      // The route answers malformed paths itself; only a key may get that far.
      if (principal.kind === 'token') throw forbid('a session token may only use its own session channels');
      return true;
    }
    const channel = parseChannelPath(path);
    const reading = request.method === 'GET' || request.method === 'HEAD';
    if (!channel) {
      if (principal.kind === 'token') throw forbid('a session token may only use its own session channels');
      return true;
    }
    if (principal.kind === 'token') {
      if (channel.sessionId !== principal.sessionId) throw forbid('this token is for another session');
      if (reading) return true;
      if (request.method === 'POST' && channel.channel === 'in' && principal.scopes.has('write')) return true;
      throw forbid(principal.scopes.has('write') ? 'a session token may only append to `in`' : 'this token may only read');
    }
    const session = await options.sessions.getSession(principal.projectId, { id: channel.sessionId });
    if (!session) {
      if (request.method === 'HEAD') {
        reply.code(404).send();
        return false;
      }
      sendError(reply, 'STREAM_NOT_FOUND', 'stream not found');
      return false;
    }
    if (reading || principal.role === 'admin' || request.method !== 'POST') return true;
    if (channel.channel === 'out' && principal.role !== 'runner') throw forbid('only runner and admin keys may write `out`');
    if (channel.channel === 'in' && principal.role !== 'client') throw forbid('only client and admin keys may write `in`');
    return true;
  };

  app.addHook('onRequest', async (request, reply) => {
    const rule = ruleOf(request);
    // No rule: the not-found handler, which reveals nothing.
    if (!rule || rule.kind === 'public') return;
    const query = request.query as Record<string, unknown> | undefined;
    let principal: Principal | null;
    if (options.disabled) {
      principal = INSECURE;
      if (query) delete query.token;
    } else {
      const credential = credentialOf(request);
      // The token is a credential: routes never see it, so it cannot be echoed or logged.
      if (query) delete query.token;
      if (credential === null) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 'UNAUTHORIZED', 'a credential is required: Authorization: Bearer <key or token>');
      }
      principal = credential === '' ? null : await options.auth.authenticate(credential);
      if (!principal) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        return sendError(reply, 'UNAUTHORIZED', 'the credential is invalid, revoked or expired');
      }
    }
    request.principal = principal;
    // Without credentials every caller is the same principal: a per-key limit would be one limit for all.
    if (options.disabled) {
      if (rule.kind === 'keys') await checkKeys(request, rule, principal);
      else if (!(await checkStream(request, reply, principal))) return reply;
      return;
    }
    const subject = subjectOf(principal);
    const wait = limiter.take(subject);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return sendError(reply, 'RATE_LIMITED', 'too many requests for this credential');
    }
    if (rule.kind === 'keys') await checkKeys(request, rule, principal);
    else if (!(await checkStream(request, reply, principal))) return reply;
    if (isLiveRead(request, rule)) {
      const open = liveReaders.get(subject) ?? 0;
      if (open >= options.maxLiveReadersPerKey) {
        reply.header('retry-after', '1');
        return sendError(reply, 'RATE_LIMITED', `at most ${options.maxLiveReadersPerKey} live reads may be open per credential`);
      }
      liveReaders.set(subject, open + 1);
      reply.raw.once('close', () => {
        const left = (liveReaders.get(subject) ?? 1) - 1;
        if (left <= 0) liveReaders.delete(subject);
        else liveReaders.set(subject, left);
      });
    }
  });
}
