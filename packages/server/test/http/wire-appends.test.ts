/**
 * Appends read straight off the socket (`wire-appends.ts`), over real TCP
 * connections with exact bytes: the answers, keep-alive, pipelining, split
 * writes, and the hand-over to Node's HTTP server for everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './http-harness.js';
import { parseAppend } from '../../src/http/wire-appends.js';
import { WireClient, requestBytes } from './wire-client.js';

const LIMIT = 1024;
const JSON_CT = { 'content-type': 'application/json' };

let t: TestServer;
let auth: Record<string, string>;

beforeAll(async () => {
  t = await startTestServer({ maxMessageBytes: LIMIT, rateLimitPerSecond: 0 });
  auth = { authorization: `Bearer ${t.key}` };
});

afterAll(async () => {
  await t?.stop();
});

const counters = () => ({ answered: t.server.tether.wire.answered, handedOver: t.server.tether.wire.handedOver });

async function createStream(name: string): Promise<string> {
  const path = `/v1/stream/wire/${name}`;
  expect((await t.send('PUT', path, { headers: JSON_CT })).status).toBe(201);
  return path;
}

async function contents(path: string): Promise<unknown> {
  const read = await t.send('GET', `${path}?offset=-1`);
  expect(read.status).toBe(200);
  return JSON.parse(read.body.toString('utf8'));
}

const append = (path: string, body: string, headers: Record<string, string> = {}) => requestBytes('POST', path, { ...auth, ...JSON_CT, ...headers }, body);

describe('appends read off the socket', () => {
  it('are answered on a kept-alive connection with the headers Node would send', async () => {
    const path = await createStream('keep-alive');
    const before = counters();
    const wire = await WireClient.open(t.url);
    const offsets: string[] = [];
    for (const n of [1, 2, 3]) {
      wire.write(append(path, `{"n":${n}}`));
      const res = await wire.read();
      expect(res.status).toBe(204);
      expect(res.body.length).toBe(0);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      offsets.push(res.headers['stream-next-offset']!);
    }
    expect([...offsets].sort()).toEqual(offsets);
    expect(new Set(offsets).size).toBe(3);
    expect(counters()).toEqual({ answered: before.answered + 3, handedOver: before.handedOver });

    // The connection headers match those of an append Node and Fastify answer.
    const viaNode = await t.send('POST', `${path}?via=node`, { headers: JSON_CT, body: '{"n":4}' });
    wire.write(append(path, '{"n":5}'));
    const viaWire = await wire.read();
    expect(viaNode.status).toBe(204);
    for (const name of ['connection', 'keep-alive']) expect(viaWire.headers[name], name).toBe(viaNode.headers[name]);
    expect(new Date(viaWire.headers.date!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await contents(path)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    wire.destroy();
  });

  it('keep the order of pipelined requests when another kind of request comes between them', async () => {
    const path = await createStream('pipelined');
    const before = counters();
    const wire = await WireClient.open(t.url);
    wire.write(
      Buffer.concat([
        append(path, '{"n":1}'),
        requestBytes('GET', `${path}?offset=-1`, auth),
        append(path, '{"n":2}'),
        append(path, '[{"n":3},{"n":4}]'),
      ]),
    );
    expect((await wire.read()).status).toBe(204);
    const read = await wire.read();
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body.toString('utf8'))).toEqual([{ n: 1 }]);
    expect((await wire.read()).status).toBe(204);
    expect((await wire.read()).status).toBe(204);
    // The first append was answered here; the GET handed the connection to Node, which answered the rest.
    expect(counters()).toEqual({ answered: before.answered + 1, handedOver: before.handedOver + 1 });
    expect(await contents(path)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    wire.destroy();
  });

  it('wait for a request that arrives in pieces', async () => {
    const path = await createStream('pieces');
    const before = counters();
    const wire = await WireClient.open(t.url);
    const bytes = append(path, '{"text":"split across writes"}');
    for (const [from, to] of [[0, 3], [3, 20], [20, bytes.length - 5], [bytes.length - 5, bytes.length]] as const) {
      wire.write(bytes.subarray(from, to));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await wire.read()).status).toBe(204);
    expect(counters()).toEqual({ answered: before.answered + 1, handedOver: before.handedOver });
    expect(await contents(path)).toEqual([{ text: 'split across writes' }]);
    wire.destroy();
  });

  it('answer a request sent just before the client half-closes, then close', async () => {
    const path = await createStream('half-close');
    const wire = await WireClient.open(t.url);
    wire.write(append(path, '{"n":1}'));
    wire.end();
    expect((await wire.read()).status).toBe(204);
    await wire.waitClosed();
    expect(await contents(path)).toEqual([{ n: 1 }]);
  });
});

describe('requests that are not plain appends', () => {
  const raw = (text: string) => Buffer.from(text, 'latin1');
  const cases: { name: string; request: (path: string) => Buffer; status: number; closes?: boolean; interim?: number }[] = [
    { name: 'a GET', request: (path) => requestBytes('GET', `${path}?offset=-1`, auth), status: 200 },
    { name: 'a query string', request: (path) => append(`${path}?x=1`, '{"q":1}'), status: 204 },
    { name: 'a percent-escape', request: (path) => append(`${path}%2Fmissing`, '{"q":1}'), status: 404 },
    { name: 'a chunked body', request: (path) => append(path, '7\r\n{"c":1}\r\n0\r\n\r\n', { 'transfer-encoding': 'chunked' }), status: 204 },
    { name: 'Expect: 100-continue', request: (path) => append(path, '{"e":1}', { expect: '100-continue' }), status: 204, interim: 100 },
    { name: 'a repeated header', request: (path) => raw(`POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"r":1}`), status: 204 },
    { name: 'Connection: close', request: (path) => append(path, '{"k":1}', { connection: 'close' }), status: 204, closes: true },
    { name: 'HTTP/1.0', request: (path) => raw(`POST ${path} HTTP/1.0\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"h":1}`), status: 204, closes: true },
    { name: 'a declared body over the limit', request: (path) => append(path, JSON.stringify('x'.repeat(LIMIT))), status: 413 },
    { name: 'no Host', request: (path) => raw(`POST ${path} HTTP/1.1\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"n":1}`), status: 400, closes: true },
    { name: 'a folded header line', request: (path) => raw(`POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\nx-folded: a\r\n b\r\ncontent-length: 7\r\n\r\n{"n":1}`), status: 400, closes: true },
    { name: 'a malformed Content-Length', request: (path) => raw(`POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\ncontent-length: 7x\r\n\r\n{"n":1}`), status: 400, closes: true },
  ];

  for (const c of cases) {
    it(`go to Node with their bytes: ${c.name}`, async () => {
      const path = await createStream(`other-${c.name.replace(/\W+/g, '-')}`);
      const before = counters();
      const wire = await WireClient.open(t.url);
      wire.write(c.request(path));
      if (c.interim) expect((await wire.read()).status).toBe(c.interim);
      const res = await wire.read();
      expect(res.status).toBe(c.status);
      expect(counters()).toEqual({ answered: before.answered, handedOver: before.handedOver + 1 });
      if (c.closes) {
        await wire.waitClosed();
        return;
      }
      // The connection stays usable, now served by Node.
      wire.write(append(path, '{"after":true}'));
      expect((await wire.read()).status).toBe(204);
      expect(counters()).toEqual({ answered: before.answered, handedOver: before.handedOver + 1 });
      wire.destroy();
    });
  }
});

describe('shutdown', () => {
  it('closes connections between requests without waiting for the grace period', async () => {
    const s = await startTestServer({ shutdownGraceMs: 30_000 });
    const wire = await WireClient.open(s.url);
    const path = '/v1/stream/wire/shutdown';
    expect((await s.send('PUT', path, { headers: JSON_CT })).status).toBe(201);
    wire.write(requestBytes('POST', path, { authorization: `Bearer ${s.key}`, ...JSON_CT }, '{"n":1}'));
    expect((await wire.read()).status).toBe(204);
    const started = Date.now();
    await s.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    await wire.waitClosed();
  });
});

describe('parseAppend', () => {
  const options = { maxHeaderBytes: 512, maxMessageBytes: 64, isClosing: () => false };
  const takes = (method: string, url: string) => method === 'POST' && url.startsWith('/v1/stream/') && !url.includes('?');
  const head = (lines: string[], body = '') => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  const plain = ['POST /v1/stream/a HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2'];
  const kind = (buf: Buffer) => parseAppend(buf, options, takes).kind;

  it('reads a plain append: lower-cased names, trimmed values, the body bounds', () => {
    const parsed = parseAppend(head([...plain, 'X-Extra: \t spaced out \t'], '{}NEXT'), options, takes);
    expect(parsed.kind).toBe('append');
    if (parsed.kind !== 'append') return;
    expect(parsed.request.url).toBe('/v1/stream/a');
    expect({ ...parsed.request.headers }).toEqual({ host: 'x', 'content-type': 'application/json', 'content-length': '2', 'x-extra': 'spaced out' });
    expect(parsed.bodyEnd - parsed.bodyStart).toBe(2);
  });

  it('keeps a field named like an object property as an ordinary field', () => {
    const parsed = parseAppend(head([...plain, '__proto__: x', 'constructor: y'], '{}'), options, takes);
    expect(parsed.kind).toBe('append');
    if (parsed.kind !== 'append') return;
    expect(Object.getPrototypeOf(parsed.request.headers)).toBe(null);
    expect(parsed.request.headers['__proto__']).toBe('x');
    expect(parsed.request.headers['constructor']).toBe('y');
  });

  it('waits for the rest of a head or body', () => {
    expect(kind(Buffer.from('POST /v1/str'))).toBe('incomplete');
    expect(kind(Buffer.from('POST /v1/stream/a HTTP/1.1\r\nHost: x\r\n'))).toBe('incomplete');
    expect(kind(head(plain, '{'))).toBe('incomplete');
  });

  it.each([
    ['another method', head(['PUT /v1/stream/a HTTP/1.1', 'Host: x'])],
    ['another route', head(['POST /v1/sessions HTTP/1.1', 'Host: x'])],
    ['a leading empty line', Buffer.concat([Buffer.from('\r\n'), head(plain, '{}')])],
    ['HTTP/1.0', head(['POST /v1/stream/a HTTP/1.0', 'Host: x'])],
    ['a space in the target', head(['POST /v1/stream/a b HTTP/1.1', 'Host: x'])],
    ['a non-ASCII target', head(['POST /v1/stream/\u00e9 HTTP/1.1', 'Host: x'])],
    ['a path the fast path does not take', head(['POST /v1/stream/a?x=1 HTTP/1.1', 'Host: x'])],
    ['no Host', head(['POST /v1/stream/a HTTP/1.1', 'Content-Length: 0'])],
    ['white space before a colon', head([...plain, 'X-A : 1'], '{}')],
    ['an empty field name', head([...plain, ': 1'], '{}')],
    ['a folded line', head([...plain, 'X-A: 1', ' more'], '{}')],
    ['a control character in a value', head([...plain, 'X-A: a\u0001b'], '{}')],
    ['a DEL in a value', head([...plain, 'X-A: a\u007fb'], '{}')],
    ['a bare LF', head([...plain, 'X-A: a\nX-B: b'], '{}')],
    ['a repeated header', head([...plain, 'host: y'], '{}')],
    ['chunked', head(['POST /v1/stream/a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked'])],
    ['Expect', head([...plain, 'Expect: 100-continue'], '{}')],
    ['Connection: close', head([...plain, 'Connection: close'], '{}')],
    ['a signed Content-Length', head(['POST /v1/stream/a HTTP/1.1', 'Host: x', 'Content-Length: +2'], '{}')],
    ['an empty Content-Length', head(['POST /v1/stream/a HTTP/1.1', 'Host: x', 'Content-Length: '], '{}')],
    ['a body over the limit', head(['POST /v1/stream/a HTTP/1.1', 'Host: x', 'Content-Length: 65'])],
    ['a head over the limit', head([...plain, `X-Big: ${'b'.repeat(600)}`], '{}')],
  ])('leaves %s to Node', (_name, buf) => {
    expect(kind(buf)).toBe('other');
  });
});
