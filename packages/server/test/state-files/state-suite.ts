/**
 * Session state over HTTP against a real listening server; written once and
 * run against each store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataApi, TEST_LIMITS, unique, warmUp, type DataApi, type ServerUnderTest } from './harness.js';

export function describeSessionState(name: string, start: () => Promise<ServerUnderTest>): void {
  describe(`session state (${name})`, () => {
    let server: ServerUnderTest;
    let api: DataApi;

    beforeAll(async () => {
      server = await start();
      api = dataApi(server.url, server.key);
    });
    afterAll(() => server?.stop());

    it('answers null at version 0 before the first write, then round-trips documents with their ETags', async () => {
      const id = await api.newSession();
      const empty = await api.getState(id);
      expect(empty.status).toBe(200);
      expect(empty.json).toBeNull();
      expect(empty.headers.get('etag')).toBe('"0"');

      // Kept as written, key order and spacing included.
      const document = '{"z": 1, "a": [true, null, "x"], "nested": {"k": 2.5}}';
      const first = await api.putState(id, document);
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toBe('"1"');
      expect(first.json).toMatchObject({ version: 1 });

      const read = await api.getState(id);
      expect(read.text).toBe(document);
      expect(read.headers.get('etag')).toBe('"1"');
      expect(read.headers.get('content-type')).toMatch(/^application\/json/);

      const second = await api.putState(id, '42', { 'if-match': '"1"' });
      expect(second.headers.get('etag')).toBe('"2"');
      expect((await api.getState(id)).json).toBe(42);

      const notModified = await api.getState(id, { 'if-none-match': '"2"' });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('etag')).toBe('"2"');
      expect((await api.getState(id, { 'if-none-match': '"1"' })).status).toBe(200);

      // Writing null is a write: version 3 holds null.
      expect((await api.putState(id, 'null')).headers.get('etag')).toBe('"3"');
      const nulled = await api.getState(id);
      expect([nulled.json, nulled.headers.get('etag')]).toEqual([null, '"3"']);
    });

    it('refuses a stale If-Match with 412 and writes nothing', async () => {
      const id = await api.newSession();
      await api.putState(id, '{"step":1}');
      await api.putState(id, '{"step":2}', { 'if-match': '"1"' });
      const stale = await api.putState(id, '{"step":"lost"}', { 'if-match': '"1"' });
      expect(stale.status).toBe(412);
      expect(stale.json).toMatchObject({ error: { code: 'PRECONDITION_FAILED', details: { currentVersion: 2 } } });
      const after = await api.getState(id);
      expect(after.json).toEqual({ step: 2 });
      expect(after.headers.get('etag')).toBe('"2"');
      // Any listed tag may match; weak tags never match If-Match.
      expect((await api.putState(id, '3', { 'if-match': 'W/"2"' })).status).toBe(412);
      expect((await api.putState(id, '3', { 'if-match': '"7", "2"' })).status).toBe(200);
    });

    it('follows HTTP for If-Match: * and If-None-Match: *, and "0" for "nothing yet"', async () => {
      const id = await api.newSession();
      expect((await api.putState(id, '1', { 'if-match': '*' })).status).toBe(412);
      expect((await api.getState(id)).headers.get('etag')).toBe('"0"');
      expect((await api.putState(id, '1', { 'if-none-match': '*' })).status).toBe(200);
      expect((await api.putState(id, '2', { 'if-none-match': '*' })).status).toBe(412);
      expect((await api.putState(id, '2', { 'if-match': '*' })).status).toBe(200);
      expect((await api.putState(id, '3', { 'if-none-match': '"2"' })).status).toBe(412);
      expect((await api.putState(id, '3', { 'if-none-match': '"1"' })).status).toBe(200);

      const other = await api.newSession();
      expect((await api.putState(other, '"first"', { 'if-match': '"0"' })).status).toBe(200);
      expect((await api.putState(other, '"again"', { 'if-match': '"0"' })).status).toBe(412);

      const malformed = await api.putState(other, '1', { 'if-match': '1' });
      expect(malformed.status).toBe(400);
      expect(malformed.json).toMatchObject({ error: { code: 'INVALID_HEADER' } });
    });

    it('lets exactly one of many concurrent PUTs with the same If-Match win', async () => {
      const id = await api.newSession();
      await api.putState(id, '"base"');
      await warmUp(api, id);
      const contenders = Array.from({ length: 40 }, (_, i) => api.putState(id, JSON.stringify({ winner: i }), { 'if-match': '"1"' }));
      const results = await Promise.all(contenders);
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(39);
      const winner = statuses.indexOf(200);
      const state = await api.getState(id);
      expect(state.json).toEqual({ winner });
      expect(state.headers.get('etag')).toBe('"2"');
    });

    it('rejects bodies that are not JSON, not JSON-typed or too large', async () => {
      const id = await api.newSession();
      const broken = await api.putState(id, '{"unterminated": ');
      expect(broken.status).toBe(400);
      expect(broken.json).toMatchObject({ error: { code: 'INVALID_JSON' } });
      const empty = await api.putState(id, '');
      expect(empty.status).toBe(400);
      const text = await api.send('PUT', `/v1/sessions/${id}/state`, '1', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      expect(text.json).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      const big = await api.putState(id, JSON.stringify('x'.repeat(TEST_LIMITS.maxStateBytes)));
      expect(big.status).toBe(413);
      expect(big.json).toMatchObject({
        error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 'state', maxBytes: TEST_LIMITS.maxStateBytes } },
      });
      const fits = await api.putState(id, JSON.stringify('x'.repeat(TEST_LIMITS.maxStateBytes - 2)));
      expect(fits.status).toBe(200);
      expect((await api.getState(id)).headers.get('etag')).toBe('"1"');
    });

    it('reads but refuses writes on closed and expired sessions, and 404s unknown ones', async () => {
      const id = await api.newSession();
      await api.putState(id, '{"kept":true}');
      await api.close(id);
      const refused = await api.putState(id, '{"kept":false}');
      expect(refused.status).toBe(409);
      expect(refused.json).toMatchObject({ error: { code: 'SESSION_CLOSED' } });
      expect((await api.getState(id)).json).toEqual({ kept: true });

      const expiring = await api.newSession({ externalId: `exp-${unique()}`, expiresAt: new Date(Date.now() + 300).toISOString() });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const expired = await api.putState(expiring, '1');
      expect(expired.status).toBe(409);
      expect(expired.json).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
      expect((await api.getState(expiring)).status).toBe(200);

      const missing = await api.getState('ses_00000000000000000000000000');
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
      expect((await api.putState('no-such-external-id', '1')).status).toBe(404);
    });
  });
}
