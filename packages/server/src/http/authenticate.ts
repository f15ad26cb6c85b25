/**
 * Runs every route's access rule before its body is read: who the caller is
 * (API key or session token, from `Authorization: Bearer` or, for browsers'
 * EventSource, `?token=`), whether the rule admits them, the per-credential
 * rate limit and the cap on open live reads. Missing or invalid credential:
 * 401; valid but outside its scope: 403; another project's resource: the
 * same 404 a missing one gets.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '@tether/protocol';
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

/** What authentication reads of a request; a Fastify request and the raw append path both give it. */
export interface AuthInput {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  query?: Record<string, unknown>;
  params?: unknown;
}

/** A refusal: an error answer (with any headers it needs), or the bare 404 a HEAD of a missing stream gets. */
export type Denial = { code: ErrorCode; message: string; headers?: Record<string, string> } | { bare: 404 };

export type Admission = { principal: Principal; subject: string } | { denied: Denial };

function credentialOf(request: AuthInput): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return match ? match[1]! : '';
  }
  const token = request.query?.token;
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

const forbid = (message: string) => new AppError('FORBIDDEN', message);

/**
 * Who is calling and whether a route's rule admits them, with the
 * per-credential rate limit. Scope failures throw `AppError` (403); a missing
 * or bad credential, the rate limit and a session channel that does not exist
 * come back as a denial.
 */
export class Authenticator {
  private readonly limiter: RateLimiter;

  constructor(private readonly options: AuthOptions) {
    this.limiter = new RateLimiter(options.rateLimitPerSecond, options.rateLimitBurst);
  }

  async admit(request: AuthInput, rule: Exclude<AccessRule, { kind: 'public' }>): Promise<Admission> {
    const { options } = this;
    const credential = options.disabled ? null : credentialOf(request);
    // The token is a credential: routes never see it, so it cannot be echoed or logged.
    if (request.query) delete request.query.token;
    let principal: Principal | null;
    if (options.disabled) {
      principal = INSECURE;
    } else {
      if (credential === null) {
        return {
          denied: {
            code: 'UNAUTHORIZED',
            message: 'a credential is required: Authorization: Bearer <key or token>',
            headers: { 'www-authenticate': 'Bearer' },
          },
        };
      }
      principal = credential === '' ? null : await options.auth.authenticate(credential);
      if (!principal) {
        return {
          denied: {
            code: 'UNAUTHORIZED',
            message: 'the credential is invalid, revoked or expired',
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          },
        };
      }
    }
    const subject = subjectOf(principal);
    // Without credentials every caller is the same principal: a per-key limit would be one limit for all.
    if (!options.disabled) {
      const wait = this.limiter.take(subject);
      if (wait > 0) {
        return {
          denied: {
            code: 'RATE_LIMITED',
            message: 'too many requests for this credential',
            headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
          },
        };
      }
    }
    if (rule.kind === 'keys') await this.checkKeys(request, rule, principal);
    else {
      const denied = await this.checkStream(request, principal);
      if (denied) return { denied };
    }
    return { principal, subject };
  }

  private async sessionIdOfRef(projectId: string, ref: string): Promise<string | null> {
    if (ref.startsWith('ses_')) return ref;
    // Not a name any session can have, and not one every store can look up.
    if (ref.includes('\u0000')) return null;
    const session = await this.options.sessions.getSession(projectId, { externalId: ref });
    return session?.id ?? null;
  }

  private async checkKeys(request: AuthInput, rule: Extract<AccessRule, { kind: 'keys' }>, principal: Principal): Promise<void> {
    if (principal.kind === 'key') {
      if (rule.operator && principal.projectId !== DEFAULT_PROJECT) throw forbid('only the server operator may do this');
      if (principal.role !== 'admin' && !rule.roles.includes(principal.role)) throw forbid(`a ${principal.role} key may not do this`);
      return;
    }
    if (!rule.session) throw forbid('a session token may not do this');
    if (rule.session === 'write' && !principal.scopes.has('write')) throw forbid('this token may only read');
    const ref = (request.params as Record<string, string> | undefined)?.ref;
    if (ref === undefined && rule.tokenSession) return;
    const id = ref === undefined ? null : await this.sessionIdOfRef(principal.projectId, ref);
    if (id !== principal.sessionId) throw forbid('this token is for another session');
  }

  private async checkStream(request: AuthInput, principal: Principal): Promise<Denial | null> {
    let path: string;
    try {
      path = decodeStreamPath(request.url.split('?')[0]!, this.options.maxPathLength);
    } catch {
      // The route answers malformed paths itself; only a key may get that far.
      if (principal.kind === 'token') throw forbid('a session token may only use its own session channels');
      return null;
    }
    const channel = parseChannelPath(path);
    const reading = request.method === 'GET' || request.method === 'HEAD';
    if (!channel) {
      if (principal.kind === 'token') throw forbid('a session token may only use its own session channels');
      return null;
    }
    if (principal.kind === 'token') {
      if (channel.sessionId !== principal.sessionId) throw forbid('this token is for another session');
      if (reading) return null;
      if (request.method === 'POST' && channel.channel === 'in' && principal.scopes.has('write')) return null;
      throw forbid(principal.scopes.has('write') ? 'a session token may only append to `in`' : 'this token may only read');
    }
    const session = await this.options.sessions.getSession(principal.projectId, { id: channel.sessionId });
    if (!session) return request.method === 'HEAD' ? { bare: 404 } : { code: 'STREAM_NOT_FOUND', message: 'stream not found' };
    if (reading || principal.role === 'admin' || request.method !== 'POST') return null;
    if (channel.channel === 'out' && principal.role !== 'runner') throw forbid('only runner and admin keys may write `out`');
    if (channel.channel === 'in' && principal.role !== 'client') throw forbid('only client and admin keys may write `in`');
    return null;
  }
}

export function registerAuthentication(app: FastifyInstance, authenticator: Authenticator, options: Pick<AuthOptions, 'disabled' | 'maxLiveReadersPerKey'>): void {
  const liveReaders = new Map<string, number>();
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) {
      throw new Error(`route ${[route.method].flat().join(',')} ${route.url} declares no access rule (config.access)`);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const rule = ruleOf(request);
    // No rule: the not-found handler, which reveals nothing.
    if (!rule || rule.kind === 'public') return;
    const admission = await authenticator.admit(request as FastifyRequest & { query?: Record<string, unknown> }, rule);
    if ('denied' in admission) {
      const { denied } = admission;
      if ('bare' in denied) return reply.code(denied.bare).send();
      for (const [name, value] of Object.entries(denied.headers ?? {})) reply.header(name, value);
      return sendError(reply, denied.code, denied.message);
    }
    request.principal = admission.principal;
    if (options.disabled || !isLiveRead(request, rule)) return;
    const { subject } = admission;
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
  });
}
