/**
 * Session files over HTTP against a real listening server; written once and
 * run against each store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataApi, TEST_LIMITS, warmUp, type DataApi, type ServerUnderTest } from './harness.js';
import { jsonOf, rawRequest } from './raw-request.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export function describeSessionFiles(name: string, start: () => Promise<ServerUnderTest>): void {
  describe(`session files (${name})`, () => {
    let server: ServerUnderTest;
    let api: DataApi;

    beforeAll(async () => {
      server = await start();
      api = dataApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    it('stores, serves, replaces and deletes files with their bytes and content types', async () => {
      const id = await api.newSession();
      const created = await api.putFile(id, 'images/logo.png', ALL_BYTES, { 'content-type': 'image/png' });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ created: true, file: { path: 'images/logo.png', size: 256, contentType: 'image/png' } });
      const etag = created.headers.get('etag');
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);

      const read = await api.getFile(id, 'images/logo.png');
      expect(read.status).toBe(200);
      expect(read.bytes.equals(ALL_BYTES)).toBe(true);
      expect(read.headers.get('content-type')).toBe('image/png');
      expect(read.headers.get('content-length')).toBe('256');
      expect(read.headers.get('etag')).toBe(etag);
      expect(read.headers.get('content-security-policy')).toContain('sandbox');
      expect((await api.getFile(id, 'images/logo.png', { 'if-none-match': etag! })).status).toBe(304);

      // A JSON content type is stored as bytes too, never parsed.
      const replaced = await api.putFile(id, 'images/logo.png', '{not json', { 'content-type': 'application/json' });
      expect(replaced.status).toBe(200);
      expect(replaced.json.created).toBe(false);
      expect(replaced.headers.get('etag')).not.toBe(etag);
      const again = await api.getFile(id, 'images/logo.png');
      expect([again.bytes.toString(), again.headers.get('content-type')]).toEqual(['{not json', 'application/json']);

      const untyped = await api.putFile(id, 'raw.bin', Buffer.from([0, 1, 2]));
      expect(untyped.status).toBe(201);
      expect((await api.getFile(id, 'raw.bin')).headers.get('content-type')).toBe('application/octet-stream');
      const text = await api.putFile(id, 'notes/a-b_c.1.txt', 'héllo', { 'content-type': 'text/plain; charset=utf-8' });
      expect(text.status).toBe(201);
      expect((await api.getFile(id, 'notes/a-b_c.1.txt')).headers.get('content-type')).toBe('text/plain; charset=utf-8');

      await api.putFile(id, 'plain.txt', 'plain', { 'content-type': 'text/plain' });
      expect((await api.getFile(id, 'plain.txt')).headers.get('content-type')).toBe('text/plain');
      const head = await fetch(`${server.url}/v1/sessions/${id}/files/raw.bin`, { method: 'HEAD', headers: { authorization: `Bearer ${server.key}` } });
      expect([head.status, head.headers.get('content-length'), head.headers.get('etag')]).toEqual([
        200,
        '3',
        untyped.headers.get('etag'),
      ]);

      expect((await api.deleteFile(id, 'images/logo.png')).status).toBe(204);
      const gone = await api.getFile(id, 'images/logo.png');
      expect(gone.status).toBe(404);
      const again404 = await api.deleteFile(id, 'images/logo.png');
      expect(again404.status).toBe(404);
      expect(again404.json).toMatchObject({ error: { code: 'FILE_NOT_FOUND' } });
      expect((await api.getFile(id, 'never/was.txt')).status).toBe(404);

      // A session may be named by its externalId here too.
      const externalId = `files-${id.slice(-8)}`;
      const named = await api.newSession({ externalId });
      expect((await api.putFile(externalId, 'x.txt', 'by name')).status).toBe(201);
      expect((await api.getFile(named, 'x.txt')).bytes.toString()).toBe('by name');
    });

    it('makes writes conditional on the ETag', async () => {
      const id = await api.newSession();
      expect((await api.putFile(id, 'f', 'one', { 'if-none-match': '*' })).status).toBe(201);
      expect((await api.putFile(id, 'f', 'two', { 'if-none-match': '*' })).status).toBe(412);
      expect((await api.putFile(id, 'g', 'two', { 'if-match': '*' })).status).toBe(412);
      const etag = (await api.getFile(id, 'f')).headers.get('etag')!;
      expect((await api.putFile(id, 'f', 'three', { 'if-match': etag })).status).toBe(200);
      expect((await api.putFile(id, 'f', 'four', { 'if-match': etag })).status).toBe(412);
      expect((await api.getFile(id, 'f')).bytes.toString()).toBe('three');
    });

    it('refuses every traversal or malformed path, however it is encoded', async () => {
      const id = await api.newSession();
      const base = `/v1/sessions/${id}/files/`;
      const attempts = [
        '../x',
        'a/../../state',
        '..',
        './a',
        'a/./b',
        '%2e%2e/x',
        'a/%2E%2E/b',
        '%2e/a',
        'a%2fb',
        '..%2Fx',
        'a%2F..%2F..%2Fstate',
        '..%5Cx',
        'a\\b',
        '%252e%252e/x',
        'a//b',
        'a/',
        '/a',
        '',
        'sp%20ace',
        'caf%C3%A9',
        'x'.repeat(513),
      ];
      for (const path of attempts) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await rawRequest(server.url, method, base + path, method === 'PUT' ? Buffer.from('evil') : undefined, { authorization: `Bearer ${server.key}` });
          expect([path, method, res.status]).toEqual([path, method, 400]);
          expect(jsonOf(res).error.code, `${method} ${path}`).toBe('INVALID_PATH');
        }
      }
      // An escape no URL decoder accepts is refused before routing, as on every route.
      const malformed = await rawRequest(server.url, 'PUT', `${base}a%zz`, Buffer.from('evil'), { authorization: `Bearer ${server.key}` });
      expect([malformed.status, jsonOf(malformed).error.code]).toEqual([400, 'BAD_REQUEST']);
      expect((await api.listFiles(id)).json.data).toEqual([]);
      // The longest path allowed, and escapes of allowed characters, are fine.
      expect((await api.putFile(id, 'y'.repeat(512), 'ok')).status).toBe(201);
      expect((await rawRequest(server.url, 'PUT', `${base}%61bc`, Buffer.from('ok'), { authorization: `Bearer ${server.key}` })).status).toBe(201);
      expect((await api.getFile(id, 'abc')).bytes.toString()).toBe('ok');
    });

    it('enforces the per-file and per-session size limits', async () => {
      const id = await api.newSession();
      const tooBig = await api.putFile(id, 'big', Buffer.alloc(TEST_LIMITS.maxFileBytes + 1));
      expect(tooBig.status).toBe(413);
      expect(tooBig.json).toMatchObject({
        error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 'file', maxBytes: TEST_LIMITS.maxFileBytes } },
      });
      expect((await api.putFile(id, 'edge', Buffer.alloc(TEST_LIMITS.maxFileBytes))).status).toBe(201);

      // 4096 + 4096 fit in 10 000; a third does not, but replacing one of them does.
      expect((await api.putFile(id, 'second', Buffer.alloc(TEST_LIMITS.maxFileBytes))).status).toBe(201);
      const full = await api.putFile(id, 'third', Buffer.alloc(TEST_LIMITS.maxFileBytes));
      expect(full.status).toBe(413);
      expect(full.json).toMatchObject({
        error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 'session', maxBytes: TEST_LIMITS.maxSessionFileBytes, usedBytes: 8192 } },
      });
      expect((await api.putFile(id, 'second', Buffer.alloc(TEST_LIMITS.maxFileBytes, 1))).status).toBe(200);
      expect((await api.putFile(id, 'small', Buffer.alloc(10_000 - 8192))).status).toBe(201);
      expect((await api.putFile(id, 'one-more', Buffer.alloc(1))).status).toBe(413);
      expect((await api.listFiles(id)).json.data.map((f: { path: string }) => f.path)).toEqual(['edge', 'second', 'small']);
    });

    it('never lets concurrent uploads together pass the session limit', async () => {
      const id = await api.newSession();
      await warmUp(api, id);
      const uploads = Array.from({ length: 6 }, (_, i) => api.putFile(id, `part-${i}`, Buffer.alloc(3000)));
      const statuses = (await Promise.all(uploads)).map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 413)).toHaveLength(3);
      const sizes = (await api.listFiles(id)).json.data.map((f: { size: number }) => f.size);
      expect(sizes.reduce((a: number, b: number) => a + b, 0)).toBe(9000);
    });

    it('lists files in path order, paged by an opaque cursor and filtered by prefix', async () => {
      const id = await api.newSession();
      const paths = ['b/2.txt', 'a.txt', 'b/1.txt', 'c', 'b/10.txt', 'B', 'a_b'];
      for (const path of paths) await api.putFile(id, path, path, { 'content-type': 'text/plain' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await api.listFiles(id, `limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.json.data.length).toBeLessThanOrEqual(3);
        seen.push(...page.json.data.map((f: { path: string }) => f.path));
        cursor = page.json.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...paths].sort());
      const first = (await api.listFiles(id, 'limit=1')).json.data[0];
      expect(first).toEqual({
        path: 'B',
        size: 1,
        contentType: 'text/plain',
        etag: expect.stringMatching(/^"[0-9a-f]{64}"$/),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const prefixed = await api.listFiles(id, 'prefix=b/');
      expect(prefixed.json.data.map((f: { path: string }) => f.path)).toEqual(['b/1.txt', 'b/10.txt', 'b/2.txt']);
      expect((await api.listFiles(id, 'prefix=a_')).json.data.map((f: { path: string }) => f.path)).toEqual(['a_b']);
      const bad = await api.listFiles(id, 'cursor=not-a-cursor');
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
    });

    it('reads but refuses writes to files of a closed session', async () => {
      const id = await api.newSession();
      await api.putFile(id, 'kept.txt', 'kept');
      await api.close(id);
      const put = await api.putFile(id, 'new.txt', 'no');
      expect(put.status).toBe(409);
      expect(put.json).toMatchObject({ error: { code: 'SESSION_CLOSED' } });
      const del = await api.deleteFile(id, 'kept.txt');
      expect(del.json).toMatchObject({ error: { code: 'SESSION_CLOSED' } });
      expect((await api.getFile(id, 'kept.txt')).bytes.toString()).toBe('kept');
      expect((await api.listFiles(id)).json.data).toHaveLength(1);
      expect((await api.putFile('ses_00000000000000000000000000', 'x', 'y')).json).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    });

    it('deletes state and files with their session', async () => {
      const id = await api.newSession();
      const neighbour = await api.newSession();
      for (const session of [id, neighbour]) {
        await api.putState(session, '{"resume":"here"}');
        await api.putFile(session, 'a.txt', 'a');
        await api.putFile(session, 'dir/b.bin', ALL_BYTES);
      }
      expect((await api.remove(id)).status).toBe(204);
      expect((await api.getState(id)).status).toBe(404);
      expect((await api.listFiles(id)).status).toBe(404);
      // Straight from the database: nothing of it is left, and its neighbour is untouched.
      const data = server.store.sessionData;
      expect(await data.getState(id)).toBeNull();
      expect(await data.getFile(id, 'a.txt')).toBeNull();
      expect(await data.listFiles({ sessionId: id, prefix: '', afterPath: null, limit: 10 })).toEqual([]);
      expect((await data.getState(neighbour))?.document).toBe('{"resume":"here"}');
      expect(await data.listFiles({ sessionId: neighbour, prefix: '', afterPath: null, limit: 10 })).toHaveLength(2);
    });
  });
}
