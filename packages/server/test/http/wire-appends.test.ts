/**
 * Appends read straight off the socket (`wire-appends.ts`), over real TCP
 * connections with exact bytes: the answers, keep-alive, pipelining, split
 * writes, and the hand-over to Node's HTTP server for everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './http-harness.js';
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
