/**
 * Credentials (DESIGN §7): API keys, which belong to a project and are stored
 * only as a SHA-256 digest, and session tokens — JWTs signed with a secret the
 * store generates once, so they survive restarts and every replica on one
 * database accepts the others' tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ulid } from 'ulid';
import { AppError } from '../errors.js';
import type { ApiKeyRecord, AuthStore, KeyRole, ProjectRecord } from '../storage/auth-types.js';
import type { Clock } from './clock.js';
import { DEFAULT_PROJECT } from './projects.js';

export type TokenScope = 'read' | 'write';

export type Principal =
  | { kind: 'key'; projectId: string; keyId: string; role: KeyRole }
  | { kind: 'token'; projectId: string; sessionId: string; scopes: ReadonlySet<TokenScope>; expiresAt: number };

export interface CreatedKey extends ApiKeyRecord {
  /** The key text; shown this once and never stored. */
  key: string;
}

const KEY_PREFIX = 'tk_';
const SIGNING_SECRET = 'session-token-hs256';
const ISSUER = 'tether';
/** How long a verified key is trusted before the store is asked again (revocation on other replicas). */
const KEY_CACHE_MS = 5_000;
const TOUCH_EVERY_MS = 60_000;

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export class AuthService {
  private secretKey: Promise<Uint8Array> | null = null;
  private readonly cache = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly deps: {
      store: AuthStore;
      clock: Clock;
      /** Longest lifetime a session token may be given. */
      maxTokenTtlSeconds: number;
      defaultTokenTtlSeconds: number;
    },
  ) {}

  private now(): number {
    return this.deps.clock.now();
  }

  private signingKey(): Promise<Uint8Array> {
    this.secretKey ??= this.deps.store
      .secret(SIGNING_SECRET, () => randomBytes(32).toString('base64url'), this.now())
      .then((value) => new Uint8Array(Buffer.from(value, 'base64url')))
      .catch((error) => {
        this.secretKey = null;
        throw error;
      });
    return this.secretKey;
  }

  private newKey(projectId: string, name: string | null, role: KeyRole) {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    return {
      key,
      record: { id: `key_${ulid()}`, projectId, name, role, prefix: key.slice(0, 10), hash: hashKey(key), now: this.now() },
    };
  }

  async createKey(projectId: string, input: { name?: string | null; role?: KeyRole }): Promise<CreatedKey> {
    const { key, record } = this.newKey(projectId, input.name ?? null, input.role ?? 'client');
    return { ...(await this.deps.store.createKey(record)), key };
  }

  /** The first admin key of an empty store, or null when any key exists already. */
  async createFirstAdminKey(): Promise<CreatedKey | null> {
    const { key, record } = this.newKey(DEFAULT_PROJECT, 'admin', 'admin');
    const created = await this.deps.store.createFirstKey(record);
    return created ? { ...created, key } : null;
  }

  listKeys(projectId: string): Promise<ApiKeyRecord[]> {
    return this.deps.store.listKeys(projectId);
  }

  async revokeKey(projectId: string, id: string): Promise<void> {
    const revoked = await this.deps.store.revokeKey(projectId, id, this.now());
    if (!revoked) throw new AppError('KEY_NOT_FOUND', 'no such key in this project');
    for (const [hash, entry] of this.cache) if (entry.record.id === id) this.cache.delete(hash);
  }

  async createProject(id: string, name: string | null): Promise<{ project: ProjectRecord; key: CreatedKey }> {
    if (await this.deps.store.getProject(id)) throw new AppError('CONFLICT', `project ${id} exists`);
    const project = await this.deps.store.ensureProject(id, name, this.now());
    return { project, key: await this.createKey(id, { name: 'admin', role: 'admin' }) };
  }

  listProjects(): Promise<ProjectRecord[]> {
    return this.deps.store.listProjects();
  }

  async mintToken(projectId: string, sessionId: string, scopes: TokenScope[], ttlSeconds?: number): Promise<{ token: string; expiresAt: string; scopes: string[] }> {
    const ttl = Math.min(ttlSeconds ?? this.deps.defaultTokenTtlSeconds, this.deps.maxTokenTtlSeconds);
    const unique = [...new Set(scopes)].sort();
    const full = unique.map((scope) => `${scope}:sessions:${sessionId}`);
    const issuedAt = Math.floor(this.now() / 1000);
    const token = await new SignJWT({ pid: projectId, scope: full.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(sessionId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttl)
      .sign(await this.signingKey());
    return { token, expiresAt: new Date((issuedAt + ttl) * 1000).toISOString(), scopes: full };
  }

  /** Who a credential is; null when it is unknown, revoked, expired or forged. */
  async authenticate(credential: string): Promise<Principal | null> {
    if (credential.startsWith(KEY_PREFIX)) return this.keyPrincipal(credential);
    if (credential.split('.').length !== 3 || credential.length > 4096) return null;
    try {
      const { payload } = await jwtVerify(credential, await this.signingKey(), {
        issuer: ISSUER,
        algorithms: ['HS256'],
        currentDate: new Date(this.now()),
      });
      const sessionId = payload.sub;
      if (typeof sessionId !== 'string' || typeof payload.pid !== 'string' || typeof payload.scope !== 'string') return null;
      const scopes = new Set<TokenScope>();
      for (const scope of payload.scope.split(' ')) {
        const [action, kind, id] = scope.split(':');
        if (kind === 'sessions' && id === sessionId && (action === 'read' || action === 'write')) scopes.add(action);
      }
      return { kind: 'token', projectId: payload.pid, sessionId, scopes, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return null;
      throw error;
    }
  }

  private async keyPrincipal(credential: string): Promise<Principal | null> {
    const hash = hashKey(credential);
    const now = this.now();
    let record = this.cache.get(hash);
    if (!record || record.until < now) {
      const found = await this.deps.store.findKeyByHash(hash);
      if (!found) return null;
      record = { record: found, until: now + KEY_CACHE_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, record);
    }
    const key = record.record;
    if (key.revokedAt !== null) return null;
    if ((this.touched.get(key.id) ?? 0) + TOUCH_EVERY_MS < now) {
      this.touched.set(key.id, now);
      // Last use is advisory; a failed update must not fail the request.
      this.deps.store.touchKey(key.id, now).catch(() => this.touched.delete(key.id));
    }
    return { kind: 'key', projectId: key.projectId, keyId: key.id, role: key.role };
  }
}
