import { describe, expect, it } from 'vitest';
import {
  T0,
  appendRequest,
  createRequest,
  mustAppend,
  mustCreate,
  mustFind,
  readAllBytes,
  type Harness,
} from './store-harness.js';

const SECOND = 1000;

export function expiryTests(h: Harness): void {
  describe('TTL and expiry', () => {
    it('expires a TTL stream once it has been idle for the TTL', async () => {
      await mustCreate(h.store, '/s', { ttlSeconds: 10 });
      expect((await h.store.lookup('/s', T0 + 10 * SECOND - 1)).kind).toBe('found');
      expect((await h.store.lookup('/s', T0 + 10 * SECOND)).kind).toBe('not-found');
    });

    it('slides the TTL on every append', async () => {
      await mustCreate(h.store, '/s', { ttlSeconds: 10 });
      await mustAppend(h.store, '/s', { raw: 'a', now: T0 + 8 * SECOND });
      await mustAppend(h.store, '/s', { raw: 'b', now: T0 + 16 * SECOND });
      expect((await mustFind(h.store, '/s', T0 + 25 * SECOND)).lastAccessAt).toBe(T0 + 16 * SECOND);
      expect((await h.store.lookup('/s', T0 + 26 * SECOND)).kind).toBe('not-found');
    });

    it('slides the TTL on touch, and touch leaves other streams alone', async () => {
      const ttl = await mustCreate(h.store, '/ttl', { ttlSeconds: 10 });
      const fixed = await mustCreate(h.store, '/fixed', { expiresAt: T0 + 10 * SECOND });
      await h.store.touch(ttl.id, T0 + 9 * SECOND);
      await h.store.touch(fixed.id, T0 + 9 * SECOND);
      expect((await h.store.lookup('/ttl', T0 + 18 * SECOND)).kind).toBe('found');
      expect((await h.store.lookup('/ttl', T0 + 19 * SECOND)).kind).toBe('not-found');
      // An absolute expiry is not moved by access.
      expect((await h.store.lookup('/fixed', T0 + 10 * SECOND)).kind).toBe('not-found');
    });

    it('expires at an absolute time', async () => {
      await mustCreate(h.store, '/s', { expiresAt: T0 + 5 * SECOND });
      await mustAppend(h.store, '/s', { raw: 'x', now: T0 + 4 * SECOND });
      expect((await h.store.lookup('/s', T0 + 5 * SECOND - 1)).kind).toBe('found');
      expect((await h.store.lookup('/s', T0 + 5 * SECOND)).kind).toBe('not-found');
    });

    it('treats an expired stream as absent for every operation, and its path as free', async () => {
      await mustCreate(h.store, '/s', { ttlSeconds: 1, body: Buffer.from('old') });
      const later = T0 + 2 * SECOND;
      expect((await h.store.append(appendRequest('/s', { raw: 'x', now: later }))).kind).toBe('not-found');
      expect((await h.store.deleteStream('/s', later)).kind).toBe('not-found');
      const fresh = await h.store.createStream(createRequest('/s', { now: later }));
      expect(fresh).toMatchObject({ kind: 'created', meta: { tail: 0, ttlSeconds: null } });
      expect(await readAllBytes(h.store, '/s', later)).toBe('');
    });

    it('lets forks outlive an expired source, with their own or inherited expiry', async () => {
      await mustCreate(h.store, '/src', { ttlSeconds: 10, body: Buffer.from('base') });
      const own = await h.store.createStream(createRequest('/own', { contentType: null, fork: { sourcePath: '/src', offset: null, subOffset: 0 }, expiresAt: T0 + 3600 * SECOND }));
      expect(own).toMatchObject({ kind: 'created', meta: { ttlSeconds: null, expiresAt: T0 + 3600 * SECOND } });
      const inherited = await h.store.createStream(createRequest('/inh', { contentType: null, fork: { sourcePath: '/src', offset: null, subOffset: 0 } }));
      expect(inherited).toMatchObject({ kind: 'created', meta: { ttlSeconds: 10, expiresAt: null } });
      await h.store.touch((await mustFind(h.store, '/inh')).id, T0 + 9 * SECOND);
      const later = T0 + 15 * SECOND;
      expect((await h.store.lookup('/src', later)).kind).toBe('not-found');
      expect(await readAllBytes(h.store, '/own', later)).toBe('base');
      expect(await readAllBytes(h.store, '/inh', later)).toBe('base');
      // The expired source's path can hold a new, unrelated stream.
      await mustCreate(h.store, '/src', { now: later, body: Buffer.from('new') });
      expect(await readAllBytes(h.store, '/src', later)).toBe('new');
      expect(await readAllBytes(h.store, '/own', later)).toBe('base');
    });

    it('sweeps expired streams in bounded batches and keeps the rest', async () => {
      const doomed = [];
      for (let i = 0; i < 7; i++) doomed.push(await mustCreate(h.store, `/ttl/${i}`, { ttlSeconds: 1 + i }));
      await mustCreate(h.store, '/forever');
      await mustCreate(h.store, '/later', { expiresAt: T0 + 3600 * SECOND });
      const now = T0 + 60 * SECOND;
      expect(await h.store.sweepExpired(now, 3)).toBe(3);
      expect(await h.store.sweepExpired(now, 3)).toBe(3);
      expect(await h.store.sweepExpired(now, 3)).toBe(1);
      expect(await h.store.sweepExpired(now, 3)).toBe(0);
      for (const meta of doomed) expect(await h.store.getById(meta.id)).toBeNull();
      expect((await h.store.lookup('/forever', now)).kind).toBe('found');
      expect((await h.store.lookup('/later', now)).kind).toBe('found');
    });

    it('sweeps nothing that a refresh kept alive', async () => {
      const meta = await mustCreate(h.store, '/s', { ttlSeconds: 10 });
      await h.store.touch(meta.id, T0 + 9 * SECOND);
      expect(await h.store.sweepExpired(T0 + 12 * SECOND, 10)).toBe(0);
      expect((await h.store.lookup('/s', T0 + 12 * SECOND)).kind).toBe('found');
      expect(await h.store.sweepExpired(T0 + 19 * SECOND, 10)).toBe(1);
      expect(await h.store.getById(meta.id)).toBeNull();
    });

    it('sweeping an expired source keeps the data its forks need', async () => {
      await mustCreate(h.store, '/src', { ttlSeconds: 10, body: Buffer.from('kept') });
      await h.store.createStream(createRequest('/f', { contentType: null, fork: { sourcePath: '/src', offset: null, subOffset: 0 }, ttlSeconds: 3600 }));
      await mustAppend(h.store, '/f', { raw: '+own', now: T0 + 5 * SECOND });
      const later = T0 + 20 * SECOND;
      expect(await h.store.sweepExpired(later, 10)).toBeGreaterThanOrEqual(1);
      expect(await h.store.sweepExpired(later, 10)).toBe(0);
      expect((await h.store.lookup('/src', later)).kind).toBe('not-found');
      expect(await readAllBytes(h.store, '/f', later)).toBe('kept+own');
    });
  });
}
