/**
 * The credentials test harnesses send. A server started on an empty store
 * creates an admin key, prints it and writes it to `<data-dir>/admin-key`;
 * harnesses take that one, or (for a replica joining a database that already
 * has keys) create one through the auth service.
 */
import type { RunningServer } from '../../src/server.js';
import { DEFAULT_PROJECT } from '../../src/services/projects.js';

export async function adminKeyOf(server: RunningServer): Promise<string> {
  return server.createdAdminKey ?? (await server.tether.auth.createKey(DEFAULT_PROJECT, { name: 'test', role: 'admin' })).key;
}

/** Headers carrying a credential, merged over `headers`. */
export function withKey(key: string, headers: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...headers };
}
