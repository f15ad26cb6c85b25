import { describe, expect, it } from 'vitest';
import type { ProducerTuple } from '../../src/storage/types.js';
import { appendRequest, mustAppend, mustCreate, mustFind, readAllBytes, type Harness } from './store-harness.js';

const p = (epoch: number, seq: number, id = 'writer-1'): ProducerTuple => ({ id, epoch, seq });

export function producerTests(h: Harness): void {
  describe('idempotent producers', () => {
    it('accepts a new producer at seq 0 and each next seq, and deduplicates retries', async () => {
      await mustCreate(h.store, '/s');
      expect(await h.store.append(appendRequest('/s', { raw: 'a', producer: p(0, 0) }))).toMatchObject({
        kind: 'appended',
        producer: p(0, 0),
        meta: { tail: 1 },
      });
      await mustAppend(h.store, '/s', { raw: 'b', producer: p(0, 1) });
      for (const seq of [1, 0]) {
        // A duplicate reports the highest seq accepted so far.
        expect(await h.store.append(appendRequest('/s', { raw: 'dup', producer: p(0, seq) }))).toMatchObject({
          kind: 'duplicate',
          producer: p(0, 1),
          meta: { tail: 2 },
        });
      }
      expect(await readAllBytes(h.store, '/s')).toBe('ab');
    });

    it('reports gaps with the expected and received seq, appending nothing', async () => {
      await mustCreate(h.store, '/s');
      expect(await h.store.append(appendRequest('/s', { raw: 'x', producer: p(0, 2) }))).toEqual({
        kind: 'producer-gap',
        expected: 0,
        received: 2,
      });
      await mustAppend(h.store, '/s', { raw: 'a', producer: p(0, 0) });
      expect(await h.store.append(appendRequest('/s', { raw: 'x', producer: p(0, 3) }))).toEqual({
        kind: 'producer-gap',
        expected: 1,
        received: 3,
      });
      await mustAppend(h.store, '/s', { raw: 'b', producer: p(0, 1) });
      expect(await readAllBytes(h.store, '/s')).toBe('ab');
    });

    it('fences stale epochs and requires seq 0 on a new epoch', async () => {
      await mustCreate(h.store, '/s');
      await mustAppend(h.store, '/s', { raw: 'a', producer: p(0, 0) });
      await mustAppend(h.store, '/s', { raw: 'b', producer: p(0, 1) });
      expect((await h.store.append(appendRequest('/s', { raw: 'x', producer: p(2, 1) }))).kind).toBe('bad-request');
      await mustAppend(h.store, '/s', { raw: 'c', producer: p(2, 0) });
      for (const stale of [p(0, 2), p(1, 0)]) {
        expect(await h.store.append(appendRequest('/s', { raw: 'x', producer: stale }))).toEqual({
          kind: 'producer-fenced',
          currentEpoch: 2,
        });
      }
      await mustAppend(h.store, '/s', { raw: 'd', producer: p(2, 1) });
      expect(await readAllBytes(h.store, '/s')).toBe('abcd');
    });

    it('keeps producer state per producer id and per stream', async () => {
      await mustCreate(h.store, '/a');
      await mustCreate(h.store, '/b');
      await mustAppend(h.store, '/a', { raw: '1', producer: p(3, 0, 'one') });
      await mustAppend(h.store, '/a', { raw: '2', producer: p(0, 0, 'two') });
      await mustAppend(h.store, '/b', { raw: '3', producer: p(0, 0, 'one') });
      expect(await readAllBytes(h.store, '/a')).toBe('12');
      expect(await readAllBytes(h.store, '/b')).toBe('3');
    });

    it('leaves producer state untouched by a rejected append', async () => {
      await mustCreate(h.store, '/s', { contentType: 'text/plain' });
      await mustAppend(h.store, '/s', { contentType: 'text/plain', raw: 'a', producer: p(0, 0) });
      const mismatch = appendRequest('/s', { contentType: 'application/json', raw: '1', producer: p(0, 1) });
      expect((await h.store.append(mismatch)).kind).toBe('content-type-mismatch');
      await mustAppend(h.store, '/s', { contentType: 'text/plain', raw: 'b', producer: p(0, 1), streamSeq: 'k' });
      const seqRegression = appendRequest('/s', { contentType: 'text/plain', raw: 'x', producer: p(0, 2), streamSeq: 'a' });
      expect((await h.store.append(seqRegression)).kind).toBe('seq-conflict');
      // seq 2 was never accepted, so it is still the next one, not a duplicate.
      await mustAppend(h.store, '/s', { contentType: 'text/plain', raw: 'c', producer: p(0, 2) });
      expect(await readAllBytes(h.store, '/s')).toBe('abc');
    });

    it('deduplicates a retried append-and-close by its tuple and rejects any other append', async () => {
      await mustCreate(h.store, '/s');
      await mustAppend(h.store, '/s', { raw: 'a', producer: p(1, 0) });
      const closing = await h.store.append(appendRequest('/s', { raw: 'z', close: true, producer: p(1, 1) }));
      expect(closing).toMatchObject({ kind: 'appended', meta: { closed: true, tail: 2 } });
      expect((await mustFind(h.store, '/s')).closedBy).toEqual(p(1, 1));
      const retry = await h.store.append(appendRequest('/s', { raw: 'z', close: true, producer: p(1, 1) }));
      expect(retry).toMatchObject({ kind: 'duplicate', producer: p(1, 1), meta: { closed: true, tail: 2 } });
      expect((await h.store.append(appendRequest('/s', { raw: 'y', producer: p(1, 2) }))).kind).toBe('stream-closed');
      expect((await h.store.append(appendRequest('/s', { raw: 'y', producer: p(1, 1, 'other') }))).kind).toBe('stream-closed');
      expect((await h.store.append(appendRequest('/s', { raw: 'y', producer: p(0, 5) }))).kind).toBe('producer-fenced');
      expect(await readAllBytes(h.store, '/s')).toBe('az');
    });

    it('deduplicates a retried close-only request by its tuple', async () => {
      await mustCreate(h.store, '/s');
      await mustAppend(h.store, '/s', { raw: 'a', producer: p(0, 0) });
      const close = await h.store.append(appendRequest('/s', { close: true, producer: p(0, 1) }));
      expect(close).toMatchObject({ kind: 'closed', producer: p(0, 1), meta: { closed: true, tail: 1 } });
      const retry = await h.store.append(appendRequest('/s', { close: true, producer: p(0, 1) }));
      expect(retry).toMatchObject({ kind: 'duplicate', meta: { closed: true, tail: 1 } });
      expect(await readAllBytes(h.store, '/s')).toBe('a');
    });
  });
}
