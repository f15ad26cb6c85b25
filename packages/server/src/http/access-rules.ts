/**
 * The access rule every route declares in its options (`config: { access }`).
 * The app refuses to register a route without one, so a new route cannot be
 * reachable before someone decided who may call it.
 */
import type { FastifyRequest } from 'fastify';
import type { KeyRole } from '../storage/auth-types.js';

export type AccessRule =
  /** No credential needed: health, readiness, the API description. */
  | { kind: 'public' }
  /**
   * API keys with one of `roles` (admin keys always qualify). With `session`,
   * a session token whose scope covers the session named by `params.ref` is
   * accepted too. `operator`: only the default project's admin keys.
   */
  | {
      kind: 'keys';
      roles: readonly KeyRole[];
      session?: 'read' | 'write';
      /** With `session`: a route that names no session takes the token too, and limits what it answers to the token's session. */
      tokenSession?: boolean;
      operator?: boolean;
      live?: boolean;
    }
  /** Raw streams and session channels: what is allowed depends on the path and method. */
  | { kind: 'stream' };

const ALL: readonly KeyRole[] = ['admin', 'runner', 'client'];

export const access = {
  public: (): AccessRule => ({ kind: 'public' }),
  stream: (): AccessRule => ({ kind: 'stream' }),
  /** Any API key of the project. */
  project: (options: { live?: boolean } = {}): AccessRule => ({ kind: 'keys', roles: ALL, ...options }),
  /** API keys with these roles. */
  roles: (...roles: KeyRole[]): AccessRule => ({ kind: 'keys', roles }),
  /** Runner and admin keys; the request is a long-poll counted against the live-read cap. */
  runnerLive: (): AccessRule => ({ kind: 'keys', roles: ['runner'], live: true }),
  /** The default project's admin keys: they manage projects. */
  operator: (): AccessRule => ({ kind: 'keys', roles: ['admin'], operator: true }),
  /** API keys of any role, or a session token with read (or write) scope for this session. */
  sessionRead: (): AccessRule => ({ kind: 'keys', roles: ALL, session: 'read' }),
  /** Any API key of the project, or a session token, whose answer the route limits to the token's session. */
  ownSessionRead: (): AccessRule => ({ kind: 'keys', roles: ALL, session: 'read', tokenSession: true }),
  /** Client and admin keys, or a session token with write scope for this session. */
  sessionWrite: (): AccessRule => ({ kind: 'keys', roles: ['client'], session: 'write' }),
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
}

export function ruleOf(request: FastifyRequest): AccessRule | undefined {
  return request.routeOptions.config?.access;
}
