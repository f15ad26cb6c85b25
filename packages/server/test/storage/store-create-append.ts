import { describe, expect, it } from 'vitest';
import {
  JSON_TYPE,
  OCTET,
  T0,
  appendRequest,
  createRequest,
  mustAppend,
  mustCreate,
  mustFind,
  readAllBytes,
  readAllMessages,
  type Harness,
} from './store-harness.js';

export function createTests(h: Harness): void {
  describe('create', () => {
    it('creates an empty open stream, defaulting the content type', async () => {
      const outcome = await h.store.createStream(createRequest('/s', { contentType: null }));
      expect(outcome.kind).toBe('created');
      const meta = await mustFind(h.store, '/s');
      expect(meta).toMatchObject({ path: '/s', contentType: OCTET, tail: 0, closed: false, fork: null, softDeleted: false });
      expect(meta).toMatchObject({ ttlSeconds: null, expiresAt: null, streamSeq: null, closedBy: null });
    });

    it('answers a matching repeat with the existing stream and a different one with a conflict', async () => {
      const first = await mustCreate(h.store, '/s', { contentType: 'application/json; charset=utf-8', ttlSeconds: 60 });
      const again = await h.store.createStream(createRequest('/s', { contentType: JSON_TYPE, ttlSeconds: 60 }));
      expect(again).toMatchObject({ kind: 'exists', meta: { id: first.id } });
      const conflicts = [
        createRequest('/s', { contentType: 'text/plain', ttlSeconds: 60 }),
        createRequest('/s', { contentType: JSON_TYPE, ttlSeconds: 61 }),
        createRequest('/s', { contentType: JSON_TYPE, ttlSeconds: null }),
        createRequest('/s', { contentType: JSON_TYPE, ttlSeconds: null, expiresAt: T0 + 60_000 }),
        createRequest('/s', { contentType: JSON_TYPE, ttlSeconds: 60, closed: true }),
      ];
      for (const request of conflicts) expect((await h.store.createStream(request)).kind).toBe('conflict');
    });

    it('matches closed state both ways', async () => {
      await mustCreate(h.store, '/closed', { closed: true });
      expect((await h.store.createStream(createRequest('/closed', { closed: true }))).kind).toBe('exists');
      expect((await h.store.createStream(createRequest('/closed'))).kind).toBe('conflict');
      await mustCreate(h.store, '/open');
      expect((await h.store.createStream(createRequest('/open', { closed: true }))).kind).toBe('conflict');
    });

    it('stores an initial byte body and ignores the body of an idempotent repeat', async () => {
      const meta = await mustCreate(h.store, '/s', { body: Buffer.from('hello') });
      expect(meta.tail).toBe(5);
      const again = await h.store.createStream(createRequest('/s', { body: Buffer.from('other bytes') }));
      expect(again).toMatchObject({ kind: 'exists', meta: { tail: 5 } });
      expect(await readAllBytes(h.store, '/s')).toBe('hello');
    });

    it('flattens one level of an initial JSON array and treats [] as empty', async () => {
      const meta = await mustCreate(h.store, '/j', { contentType: JSON_TYPE, body: Buffer.from('[{"a":1}, [2,3] ,"x"]') });
      expect(meta.tail).toBe(3);
      expect(await readAllMessages(h.store, '/j')).toEqual(['{"a":1}', '[2,3]', '"x"']);
      expect((await mustCreate(h.store, '/empty', { contentType: JSON_TYPE, body: Buffer.from('[]') })).tail).toBe(0);
      expect((await mustCreate(h.store, '/one', { contentType: JSON_TYPE, body: Buffer.from(' {"b":2}\n') })).tail).toBe(1);
      expect(await readAllMessages(h.store, '/one')).toEqual(['{"b":2}']);
    });

    it('rejects an invalid initial JSON body without creating the stream', async () => {
      const outcome = await h.store.createStream(createRequest('/j', { contentType: JSON_TYPE, body: Buffer.from('{"a":') }));
      // Told apart from other bad requests so HTTP can answer INVALID_JSON.
      expect(outcome).toMatchObject({ kind: 'bad-request', invalidJson: true });
      expect((await h.store.lookup('/j', T0)).kind).toBe('not-found');
    });

    it('never reuses the id of a deleted stream', async () => {
      // Ids key caches, ETags and live readers; a reused id would make a new
      // stream look like the deleted one.
      const seen = new Set<number>();
      for (let round = 0; round < 3; round++) {
        const meta = await mustCreate(h.store, '/s', { body: Buffer.from(`round ${round}`) });
        expect(seen.has(meta.id)).toBe(false);
        seen.add(meta.id);
        expect((await h.store.deleteStream('/s', T0)).kind).toBe('deleted');
        expect(await h.store.getById(meta.id)).toBeNull();
      }
    });

    it('creates a closed stream whose body is its whole content', async () => {
      const meta = await mustCreate(h.store, '/s', { closed: true, body: Buffer.from('final') });
      expect(meta).toMatchObject({ closed: true, tail: 5 });
      expect(await h.store.append(appendRequest('/s', { raw: 'more' }))).toMatchObject({ kind: 'stream-closed' });
      expect(await readAllBytes(h.store, '/s')).toBe('final');
    });
  });
}

export function appendTests(h: Harness): void {
  describe('append', () => {
    it('moves the tail by the bytes appended, strictly increasing', async () => {
      await mustCreate(h.store, '/s');
      const tails: number[] = [];
      for (const piece of ['a', 'bc', 'def', 'ghij']) tails.push((await mustAppend(h.store, '/s', { raw: piece })).tail);
      expect(tails).toEqual([1, 3, 6, 10]);
      expect((await mustFind(h.store, '/s')).tail).toBe(10);
      expect(await readAllBytes(h.store, '/s')).toBe('abcdefghij');
    });

    it('stores JSON messages with one level of flattening and their exact text', async () => {
      await mustCreate(h.store, '/j', { contentType: JSON_TYPE });
      const json = { contentType: JSON_TYPE };
      expect((await mustAppend(h.store, '/j', { ...json, raw: '{"n":12345678901234567890}' })).tail).toBe(1);
      expect((await mustAppend(h.store, '/j', { ...json, raw: '[[1,2], [3,4]]' })).tail).toBe(3);
      expect((await mustAppend(h.store, '/j', { ...json, raw: '[[[1,2,3]]]' })).tail).toBe(4);
      expect((await mustAppend(h.store, '/j', { ...json, raw: '["a,]\\"[", {"k":"}"}]' })).tail).toBe(6);
      expect(await readAllMessages(h.store, '/j')).toEqual([
        '{"n":12345678901234567890}',
        '[1,2]',
        '[3,4]',
        '[[1,2,3]]',
        '"a,]\\"["',
        '{"k":"}"}',
      ]);
    });

    it('rejects [] and invalid JSON without appending', async () => {
      await mustCreate(h.store, '/j', { contentType: JSON_TYPE, body: Buffer.from('[1]') });
      const cases: [string, boolean][] = [['[]', false], ['[ ]', false], ['{', true], ['[1,]', true], ['nul', true], ['[1] x', true]];
      for (const [raw, invalidJson] of cases) {
        const outcome = await h.store.append(appendRequest('/j', { contentType: JSON_TYPE, raw }));
        expect(outcome).toMatchObject({ kind: 'bad-request', invalidJson });
      }
      expect(await readAllMessages(h.store, '/j')).toEqual(['1']);
    });

    it('rejects a body whose media type differs from the stream, or that has none', async () => {
      await mustCreate(h.store, '/s', { contentType: 'text/plain; charset=utf-8' });
      expect((await h.store.append(appendRequest('/s', { contentType: OCTET, raw: 'x' }))).kind).toBe('content-type-mismatch');
      expect((await h.store.append(appendRequest('/s', { contentType: null, raw: 'x' }))).kind).toBe('bad-request');
      await mustAppend(h.store, '/s', { contentType: 'TEXT/PLAIN', raw: 'ok' });
      expect(await readAllBytes(h.store, '/s')).toBe('ok');
    });

    it('rejects an empty append that does not close', async () => {
      await mustCreate(h.store, '/s');
      expect((await h.store.append(appendRequest('/s'))).kind).toBe('bad-request');
      expect((await mustFind(h.store, '/s')).tail).toBe(0);
    });

    it('answers not-found for a missing stream', async () => {
      expect((await h.store.append(appendRequest('/missing', { raw: 'x' }))).kind).toBe('not-found');
      expect((await h.store.lookup('/missing', T0)).kind).toBe('not-found');
    });

    it('enforces a strictly increasing Stream-Seq, compared byte-wise', async () => {
      await mustCreate(h.store, '/s');
      await mustAppend(h.store, '/s', { raw: '1', streamSeq: '10' });
      const regressions = ['10', '09', '1'];
      for (const streamSeq of regressions) {
        expect(await h.store.append(appendRequest('/s', { raw: 'x', streamSeq }))).toEqual({ kind: 'seq-conflict', lastSeq: '10' });
      }
      // "9" sorts after "10" byte-wise, so it is a valid next sequence.
      await mustAppend(h.store, '/s', { raw: '2', streamSeq: '9' });
      await mustAppend(h.store, '/s', { raw: '3' });
      expect((await mustFind(h.store, '/s')).streamSeq).toBe('9');
      expect(await readAllBytes(h.store, '/s')).toBe('123');
    });

    it('closes idempotently without moving the tail', async () => {
      await mustCreate(h.store, '/s', { body: Buffer.from('abc') });
      const closed = await h.store.append(appendRequest('/s', { close: true }));
      expect(closed).toMatchObject({ kind: 'closed', meta: { closed: true, tail: 3 } });
      const again = await h.store.append(appendRequest('/s', { close: true }));
      expect(again).toMatchObject({ kind: 'closed', meta: { closed: true, tail: 3 } });
      expect(await h.store.append(appendRequest('/s', { raw: 'x' }))).toMatchObject({ kind: 'stream-closed', meta: { tail: 3 } });
      expect(await readAllBytes(h.store, '/s')).toBe('abc');
    });

    it('appends and closes in one step, then refuses even another append-and-close', async () => {
      await mustCreate(h.store, '/s');
      const outcome = await h.store.append(appendRequest('/s', { raw: 'last', close: true }));
      expect(outcome).toMatchObject({ kind: 'appended', meta: { closed: true, tail: 4 } });
      expect((await mustFind(h.store, '/s')).closed).toBe(true);
      const retry = await h.store.append(appendRequest('/s', { raw: 'last', close: true }));
      expect(retry).toMatchObject({ kind: 'stream-closed', meta: { tail: 4 } });
      expect(await readAllBytes(h.store, '/s')).toBe('last');
    });

    it('checks closure before content type', async () => {
      await mustCreate(h.store, '/s', { closed: true });
      const outcome = await h.store.append(appendRequest('/s', { contentType: JSON_TYPE, raw: '1' }));
      expect(outcome.kind).toBe('stream-closed');
    });
  });
}
