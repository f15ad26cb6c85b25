/**
 * Projects, API keys and the server's signing secrets (DESIGN §7). Keys are
 * stored as a SHA-256 digest of the key text: the text itself is shown once,
 * when the key is created, and never kept.
 */
export type KeyRole = 'admin' | 'runner' | 'client';

export interface ProjectRecord {
  id: string;
  name: string | null;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  projectId: string;
  name: string | null;
  role: KeyRole;
  /** The first characters of the key, enough to recognise it in a list. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey {
  id: string;
  projectId: string;
  name: string | null;
  role: KeyRole;
  prefix: string;
  /** Hex SHA-256 of the key text. */
  hash: string;
  now: number;
}

export interface AuthStore {
  /** Creates the project if it does not exist; returns it either way. */
  ensureProject(id: string, name: string | null, now: number): Promise<ProjectRecord>;
  getProject(id: string): Promise<ProjectRecord | null>;
  listProjects(): Promise<ProjectRecord[]>;
  createKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /**
   * Creates the key only when no key exists at all, atomically with that check,
   * so replicas starting together on one empty database make one admin key.
   */
  createFirstKey(key: NewApiKey): Promise<ApiKeyRecord | null>;
  /** The key with this digest, revoked or not. */
  findKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  listKeys(projectId: string): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked (once); null when the project has no such key. */
  revokeKey(projectId: string, id: string, now: number): Promise<ApiKeyRecord | null>;
  /** Records use; callers throttle it, so it is a plain update. */
  touchKey(id: string, now: number): Promise<void>;
  /** The named secret, created from `generate()` the first time it is asked for. */
  secret(name: string, generate: () => string, now: number): Promise<string>;
}
