import { describe, expect, it } from 'vitest';
import type { NewApiKey } from '../../src/storage/auth-types.js';
import { T0, type Harness } from './store-harness.js';

const key = (id: string, overrides: Partial<NewApiKey> = {}): NewApiKey => ({
  id,
  projectId: 'p1',
  name: null,
  role: 'client',
  prefix: `tk_${id}`.slice(0, 10),
  hash: `hash-${id}`,
  now: T0,
  ...overrides,
});

export function authTests(h: Harness): void {
  describe('projects, API keys and secrets', () => {
    it('creates a key (and its project), finds it by digest only, and lists a project’s keys', async () => {
      const created = await h.store.auth.createKey(key('k1', { name: 'ci', role: 'runner' }));
      expect(created).toEqual({
        id: 'k1',
        projectId: 'p1',
        name: 'ci',
        role: 'runner',
        prefix: 'tk_k1',
        createdAt: T0,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(await h.store.auth.getProject('p1')).toMatchObject({ id: 'p1', createdAt: T0 });
      await h.store.auth.createKey(key('k2', { projectId: 'p2', hash: 'hash-k2' }));
      expect(await h.store.auth.findKeyByHash('hash-k1')).toEqual(created);
      expect(await h.store.auth.findKeyByHash('k1')).toBeNull();
      expect((await h.store.auth.listKeys('p1')).map((k) => k.id)).toEqual(['k1']);
      expect((await h.store.auth.listKeys('p2')).map((k) => k.id)).toEqual(['k2']);
      expect((await h.store.auth.listProjects()).map((p) => p.id).sort()).toEqual(['p1', 'p2']);
    });

    it('refuses a second key with the same digest and leaves the first as it was', async () => {
      await h.store.auth.createKey(key('k1'));
      await expect(h.store.auth.createKey(key('k2', { hash: 'hash-k1' }))).rejects.toThrow();
      expect((await h.store.auth.listKeys('p1')).map((k) => k.id)).toEqual(['k1']);
    });

    it('makes the first key only while there is none, even when asked many times at once', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => h.store.auth.createFirstKey(key(`first${i}`, { projectId: 'default', role: 'admin' }))),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await h.store.auth.listKeys('default')).toHaveLength(1);
      expect(await h.store.auth.createFirstKey(key('late', { projectId: 'default' }))).toBeNull();
    });

    it('revokes once, only within the key’s project, and records use', async () => {
      await h.store.auth.createKey(key('k1'));
      expect(await h.store.auth.revokeKey('p2', 'k1', T0 + 1)).toBeNull();
      expect((await h.store.auth.findKeyByHash('hash-k1'))!.revokedAt).toBeNull();
      expect((await h.store.auth.revokeKey('p1', 'k1', T0 + 2))!.revokedAt).toBe(T0 + 2);
      expect((await h.store.auth.revokeKey('p1', 'k1', T0 + 3))!.revokedAt).toBe(T0 + 2);
      expect(await h.store.auth.revokeKey('p1', 'nope', T0 + 3)).toBeNull();
      await h.store.auth.touchKey('k1', T0 + 5);
      expect((await h.store.auth.findKeyByHash('hash-k1'))!.lastUsedAt).toBe(T0 + 5);
    });

    it('creates projects idempotently', async () => {
      const first = await h.store.auth.ensureProject('acme', 'Acme', T0);
      const again = await h.store.auth.ensureProject('acme', 'Other', T0 + 1);
      expect(again).toEqual(first);
      expect(first).toEqual({ id: 'acme', name: 'Acme', createdAt: T0 });
      expect(await h.store.auth.getProject('nope')).toBeNull();
    });

    it('generates a secret once and returns the same value to every caller after', async () => {
      let generated = 0;
      const generate = () => `secret-${++generated}`;
      const values = await Promise.all(Array.from({ length: 5 }, () => h.store.auth.secret('signing', generate, T0)));
      expect(new Set(values).size).toBe(1);
      expect(await h.store.auth.secret('signing', () => 'other', T0)).toBe(values[0]);
      expect(await h.store.auth.secret('another', () => 'x', T0)).toBe('x');
    });
  });
}
