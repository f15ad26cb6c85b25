import { describe, expect, it } from 'vitest';
import type { CreateStreamRequest } from '../../src/storage/types.js';
import {
  JSON_TYPE,
  T0,
  appendRequest,
  createRequest,
  expectJsonChunks,
  jsonMessages,
  mustAppend,
  mustCreate,
  mustFind,
  readAllBytes,
  readAllMessages,
  readChunked,
  type Harness,
} from './store-harness.js';

type ForkSpec = { from: string; offset?: number | null; sub?: number };

function forkRequest(path: string, spec: ForkSpec, over: Partial<CreateStreamRequest> = {}): CreateStreamRequest {
  const fork = { sourcePath: spec.from, offset: spec.offset ?? null, subOffset: spec.sub ?? 0 };
  return createRequest(path, { contentType: null, fork, ...over });
}

export function forkTests(h: Harness): void {
  const fork = async (path: string, spec: ForkSpec, over: Partial<CreateStreamRequest> = {}) => {
    const outcome = await h.store.createStream(forkRequest(path, spec, over));
    if (outcome.kind !== 'created') throw new Error(`fork ${path}: ${JSON.stringify(outcome)}`);
    return outcome.meta;
  };

  describe('forks', () => {
    it('forks bytes at an offset plus sub-offset, inside a stored row', async () => {
      await mustCreate(h.store, '/src', { contentType: 'text/plain' });
      await mustAppend(h.store, '/src', { contentType: 'text/plain', raw: 'hello ' });
      await mustAppend(h.store, '/src', { contentType: 'text/plain', raw: 'world' });
      const meta = await fork('/f', { from: '/src', offset: 6, sub: 2 });
      expect(meta).toMatchObject({ tail: 8, contentType: 'text/plain', fork: { sourcePath: '/src', position: 8 } });
      await mustAppend(h.store, '/f', { contentType: 'text/plain', raw: '!!' });
      expect(await readAllBytes(h.store, '/f')).toBe('hello wo!!');
      expect(await readAllBytes(h.store, '/src')).toBe('hello world');
      const current = await mustFind(h.store, '/f');
      // A read that starts in the inherited range and ends in the fork's own rows.
      const across = await h.store.read(current, 7, current.tail, 1 << 20);
      expect(Buffer.concat(across.items).toString()).toBe('o!!');
      expect(across.next).toBe(10);
      // Chunked reads stitch the same bytes across the boundary.
      const small = await h.store.read(current, 5, current.tail, 2);
      expect(Buffer.concat(small.items).toString()).toBe(' w');
      expect(small.next).toBe(7);
      expect(await readAllBytes(h.store, '/f')).toBe('hello wo!!');
    });

    it('forks JSON at a message offset plus sub-offset', async () => {
      await mustCreate(h.store, '/src', { contentType: JSON_TYPE, body: Buffer.from('[0,1]') });
      await mustAppend(h.store, '/src', { contentType: JSON_TYPE, raw: '[2,3,4]' });
      const meta = await fork('/f', { from: '/src', offset: 2, sub: 1 });
      expect(meta.tail).toBe(3);
      await mustAppend(h.store, '/f', { contentType: JSON_TYPE, raw: '["own"]' });
      expect(await readAllMessages(h.store, '/f')).toEqual(['0', '1', '2', '"own"']);
      expect(await readAllMessages(h.store, '/f', 2)).toEqual(['2', '"own"']);
      expect(await readAllMessages(h.store, '/src')).toEqual(['0', '1', '2', '3', '4']);
    });

    it('stops a budget-limited JSON read inside inherited data instead of skipping to the fork', async () => {
      const big = JSON.stringify('x'.repeat(30));
      await mustCreate(h.store, '/src', { contentType: JSON_TYPE, body: Buffer.from(`[[], ${big}]`) });
      await fork('/f', { from: '/src' });
      await mustAppend(h.store, '/f', { contentType: JSON_TYPE, raw: '"own"' });
      const meta = await mustFind(h.store, '/f');
      // The budget fits the first message but not the second, which the fork inherits.
      const first = await h.store.read(meta, 0, meta.tail, 10);
      expect({ items: first.items.map(String), next: first.next }).toEqual({ items: ['[]'], next: 1 });
      const chunks = await readChunked(h.store, meta, 0, meta.tail, 10);
      expect(chunks.flat().map(String)).toEqual(['[]', big, '"own"']);
    });

    it('reads long JSON forks in bulk across the fork point, cut by the budget as message by message', async () => {
      const messages = jsonMessages(9_000);
      await mustCreate(h.store, '/src', { contentType: JSON_TYPE });
      await mustAppend(h.store, '/src', { contentType: JSON_TYPE, raw: `[${messages.slice(0, 7_000).join(',')}]` });
      // Inherits 6,000 messages; the source's 1,000 after the fork point are not the fork's.
      const meta0 = await fork('/f', { from: '/src', offset: 6_000 });
      await mustAppend(h.store, '/f', { contentType: JSON_TYPE, raw: `[${messages.slice(7_000).join(',')}]` });
      const meta = await mustFind(h.store, '/f');
      expect([meta0.tail, meta.tail]).toEqual([6_000, 8_000]);
      const own = [...messages.slice(0, 6_000), ...messages.slice(7_000)];
      const whole = await h.store.read(meta, 0, meta.tail, Number.MAX_SAFE_INTEGER);
      expect(whole.joined?.toString('utf8')).toBe(own.join(','));
      expect(whole.items.map(String)).toEqual(own);
      await expectJsonChunks(h.store, meta, own, 0, meta.tail, 100_000);
      await expectJsonChunks(h.store, meta, own, 5_900, 6_100, 400);
    });

    it('defaults to the source tail and inherits the content type', async () => {
      await mustCreate(h.store, '/src', { contentType: 'text/csv', body: Buffer.from('a,b\n') });
      const meta = await fork('/f', { from: '/src' });
      expect(meta).toMatchObject({ tail: 4, contentType: 'text/csv', closed: false });
      await mustAppend(h.store, '/src', { contentType: 'text/csv', raw: 'later' });
      expect(await readAllBytes(h.store, '/f')).toBe('a,b\n');
    });

    it('rejects bad fork requests without creating anything', async () => {
      await mustCreate(h.store, '/src', { body: Buffer.from('12345') });
      const cases: [ForkSpec, Partial<CreateStreamRequest>, string][] = [
        [{ from: '/nope' }, {}, 'source-not-found'],
        [{ from: '/src' }, { contentType: 'text/plain' }, 'conflict'],
        [{ from: '/src', offset: 6 }, {}, 'bad-request'],
        [{ from: '/src', offset: 4, sub: 2 }, {}, 'bad-request'],
        [{ from: '/src', offset: null, sub: 1 }, {}, 'bad-request'],
      ];
      for (const [spec, over, kind] of cases) {
        expect((await h.store.createStream(forkRequest('/f', spec, over))).kind).toBe(kind);
        expect((await h.store.lookup('/f', T0)).kind).toBe('not-found');
      }
    });

    it('is idempotent for the same fork and conflicts for a different one', async () => {
      await mustCreate(h.store, '/src', { body: Buffer.from('12345'), closed: true });
      const meta = await fork('/f', { from: '/src', offset: 3 });
      expect(meta.closed).toBe(false);
      expect(await h.store.createStream(forkRequest('/f', { from: '/src', offset: 3 }))).toMatchObject({ kind: 'exists' });
      expect(await h.store.createStream(forkRequest('/f', { from: '/src', offset: 2, sub: 1 }))).toMatchObject({ kind: 'exists' });
      expect((await h.store.createStream(forkRequest('/f', { from: '/src', offset: 4 }))).kind).toBe('conflict');
      expect((await h.store.createStream(createRequest('/f'))).kind).toBe('conflict');
      await mustCreate(h.store, '/plain');
      expect((await h.store.createStream(forkRequest('/plain', { from: '/src', offset: 0 }))).kind).toBe('conflict');
    });

    it('reads through a chain of forks', async () => {
      await mustCreate(h.store, '/a', { body: Buffer.from('AAAA') });
      await fork('/b', { from: '/a', offset: 3 });
      await mustAppend(h.store, '/b', { raw: 'bb' });
      await fork('/c', { from: '/b', offset: 4 });
      await mustAppend(h.store, '/c', { raw: 'ccc' });
      await fork('/d', { from: '/b', offset: 2 });
      await mustAppend(h.store, '/d', { raw: 'd' });
      expect(await readAllBytes(h.store, '/b')).toBe('AAAbb');
      expect(await readAllBytes(h.store, '/c')).toBe('AAAbccc');
      expect(await readAllBytes(h.store, '/d')).toBe('AAd');
      const c = await mustFind(h.store, '/c');
      const parts: string[] = [];
      for (let at = 0; at < c.tail; ) {
        const result = await h.store.read(c, at, c.tail, 1);
        parts.push(Buffer.concat(result.items).toString());
        at = result.next;
      }
      expect(parts).toEqual(['A', 'A', 'A', 'b', 'c', 'c', 'c']);
    });

    it('does not inherit producer or Stream-Seq state', async () => {
      await mustCreate(h.store, '/src');
      const producer = { id: 'w', epoch: 4, seq: 0 };
      await mustAppend(h.store, '/src', { raw: 'a', producer, streamSeq: 'm' });
      await mustAppend(h.store, '/src', { raw: 'b', producer: { ...producer, seq: 1 } });
      await fork('/f', { from: '/src' });
      // Epoch 0 would be fenced, and seq 2 continue, if the fork shared the source's state.
      expect(await h.store.append(appendRequest('/f', { raw: 'x', producer: { id: 'w', epoch: 4, seq: 2 } }))).toEqual({
        kind: 'producer-gap',
        expected: 0,
        received: 2,
      });
      await mustAppend(h.store, '/f', { raw: 'c', producer: { id: 'w', epoch: 0, seq: 0 }, streamSeq: 'a' });
      expect(await readAllBytes(h.store, '/f')).toBe('abc');
    });

    it('soft-deletes a source that has forks: gone, path blocked, data kept for forks', async () => {
      const src = await mustCreate(h.store, '/src', { body: Buffer.from('data') });
      await fork('/f', { from: '/src' });
      expect(await h.store.deleteStream('/src', T0)).toEqual({ kind: 'soft-deleted', streamId: src.id });
      expect((await h.store.lookup('/src', T0)).kind).toBe('gone');
      expect((await h.store.append(appendRequest('/src', { raw: 'x' }))).kind).toBe('gone');
      expect((await h.store.deleteStream('/src', T0)).kind).toBe('gone');
      expect((await h.store.createStream(createRequest('/src'))).kind).toBe('conflict');
      expect((await h.store.createStream(forkRequest('/g', { from: '/src' }))).kind).toBe('conflict');
      expect(await readAllBytes(h.store, '/f')).toBe('data');
    });

    it('keeps a soft-deleted source gone and its path blocked until its last fork goes', async () => {
      await mustCreate(h.store, '/src', { body: Buffer.from('shared') });
      await fork('/f1', { from: '/src' });
      await fork('/f2', { from: '/src', offset: 3 });
      expect((await h.store.deleteStream('/src', T0)).kind).toBe('soft-deleted');
      expect((await h.store.deleteStream('/f1', T0)).kind).toBe('deleted');
      expect((await h.store.lookup('/src', T0)).kind).toBe('gone');
      expect((await h.store.createStream(createRequest('/src'))).kind).toBe('conflict');
      expect(await readAllBytes(h.store, '/f2')).toBe('sha');
      expect((await h.store.deleteStream('/f2', T0)).kind).toBe('deleted');
      expect((await h.store.lookup('/src', T0)).kind).toBe('not-found');
    });

    it('cleans up soft-deleted ancestors when the last fork goes, up the chain', async () => {
      const a = await mustCreate(h.store, '/a', { body: Buffer.from('aa') });
      const b = await fork('/b', { from: '/a' });
      await mustAppend(h.store, '/b', { raw: 'bb' });
      await fork('/c1', { from: '/b' });
      await fork('/c2', { from: '/b', offset: 1 });
      expect((await h.store.deleteStream('/a', T0)).kind).toBe('soft-deleted');
      expect((await h.store.deleteStream('/b', T0)).kind).toBe('soft-deleted');
      expect((await h.store.deleteStream('/c1', T0)).kind).toBe('deleted');
      // /c2 still needs both ancestors.
      expect((await h.store.lookup('/a', T0)).kind).toBe('gone');
      expect((await h.store.lookup('/b', T0)).kind).toBe('gone');
      expect(await readAllBytes(h.store, '/c2')).toBe('a');
      expect((await h.store.deleteStream('/c2', T0)).kind).toBe('deleted');
      expect(await h.store.getById(b.id)).toBeNull();
      expect(await h.store.getById(a.id)).toBeNull();
      for (const path of ['/a', '/b', '/c1', '/c2']) expect((await h.store.lookup(path, T0)).kind).toBe('not-found');
      expect((await mustCreate(h.store, '/a')).tail).toBe(0);
    });

    it('keeps a live source when its fork is deleted', async () => {
      await mustCreate(h.store, '/src', { body: Buffer.from('x') });
      await fork('/f', { from: '/src' });
      expect((await h.store.deleteStream('/f', T0)).kind).toBe('deleted');
      expect(await readAllBytes(h.store, '/src')).toBe('x');
      expect((await h.store.deleteStream('/src', T0)).kind).toBe('deleted');
      expect((await h.store.lookup('/src', T0)).kind).toBe('not-found');
    });
  });
}
