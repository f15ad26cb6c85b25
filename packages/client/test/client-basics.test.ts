/** Entry offsets, and the credential every request carries. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { formatOffset } from '@tether/protocol';
import { createClient, entryOffsets } from '../src/index.js';

describe('entryOffsets', () => {
  it("gives each event of a frame its own resume point on Tether's offsets", () => {
    expect(entryOffsets(formatOffset(4), formatOffset(7), 3)).toEqual([formatOffset(5), formatOffset(6), formatOffset(7)]);
    // The start is not needed: a subscription from `now` knows only where the frame ends.
    expect(entryOffsets('now', formatOffset(2), 2)).toEqual([formatOffset(1), formatOffset(2)]);
  });

  it('falls back to repeating, never skipping, on offsets it cannot read', () => {
    expect(entryOffsets('a-start', 'z-end', 3)).toEqual(['a-start', 'a-start', 'z-end']);
    expect(entryOffsets(formatOffset(0), formatOffset(1), 3)).toEqual([formatOffset(0), formatOffset(0), formatOffset(1)]);
  });
});

describe('credentials', () => {
  it('sends the API key, or else the session token, as a bearer credential', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [], nextCursor: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await createClient({ url, apiKey: 'tk_key' }).sessions.page();
      await createClient({ url, token: 'jwt.token' }).interactions.inboxPage();
      await createClient({ url, apiKey: 'tk_key', token: 'jwt.token' }).sessions.page();
      await createClient({ url }).sessions.page();
      expect(seen.map((h) => h.authorization)).toEqual(['Bearer tk_key', 'Bearer jwt.token', 'Bearer tk_key', undefined]);
    } finally {
      server.close();
    }
  });
});
